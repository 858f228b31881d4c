"""How long the event loop ever stood still: a task asks to wake every `TICK` and records how late
it woke. Served in /metrics, so a benchmark (or an operator) sees a stall from inside the server,
not through a probe's own scheduling."""

import asyncio
import contextlib
import time

TICK = 0.005  # seconds between wake-ups
STALL = 0.020  # a wake-up later than this counts as a stall: every request waited that long


class LoopLag:
    def __init__(self) -> None:
        self.worst = 0.0  # since start
        self.recent = 0.0  # since the last `take_recent`
        self.stalls = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="modelog-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def take_recent(self) -> float:
        recent, self.recent = self.recent, 0.0
        return recent

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - asked - TICK
            self.worst, self.recent = max(self.worst, late), max(self.recent, late)
            if late > STALL:
                self.stalls += 1
