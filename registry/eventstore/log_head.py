"""The log's head as this process knows it, and a way to wait for it to move.

It moves when this process's writer commits and when PostgreSQL delivers another process's
'modelog_appended_streams' notification. Followers of the log (catch-up projections, live feeds) wait on
it instead of polling; they still poll slowly, as a notification can be lost with its connection.

Each append statement's notification carries the highest position it appended and, on the lines
below, the streams it appended to, or the position alone when they would not fit in a payload;
`appended` reads it. (Migration 0021 added the channel; 'modelog_appended', with the position
alone, is still raised for processes of earlier versions.)

It holds the process's one LISTEN connection for commits (registry/eventstore/listener.py) and passes each
notification on to `on_notified` (the read cache); when that connection is lost it says so
(`on_lost`), and once it listens again it tells `on_notified`, with a payload that is no position,
that anything may have changed in between.
"""

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from registry.eventstore import head_position
from registry.eventstore.listener import Listener

log = structlog.get_logger(__name__)
CHANNEL = "modelog_appended_streams"
RELISTENED = "relistened"  # the payload subscribers hear after a gap: anything may have changed


def appended(payload: str) -> tuple[int, frozenset[str] | None] | None:
    """An append's notification as (highest position, the streams it appended to, None when not
    named); None for any other payload (a rebuild, a gap: anything may have changed)."""
    first, lines, rest = payload.partition("\n")
    if not first.isdigit():
        return None
    return int(first), frozenset(rest.split("\n")) if lines else None


class LogHead:
    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.on_notified: list[Callable[[str], None]] = []
        self.on_lost: list[Callable[[], None]] = []
        self._moved = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._listener = Listener(CHANNEL, self._notified, lost=self._lost, again=self._again)

    def advance(self, position: int) -> None:
        if position > self.position:
            self.position = position
            self._moved.set()
            self._moved = asyncio.Event()

    async def wait_past(self, position: int, seconds: float) -> bool:
        """Until the head is past `position` (True) or `seconds` went by (False)."""
        if self.position > position:
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while self.position <= position:
                    await self._moved.wait()
        return self.position > position

    def _notified(self, payload: str) -> None:
        if (found := appended(payload)) is not None:
            self.advance(found[0])
        for hook in self.on_notified:
            hook(payload)

    def _lost(self) -> None:
        for hook in self.on_lost:
            hook()

    async def _again(self) -> None:
        assert self._pool is not None
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            self.advance(await head_position(self._pool))
        self._notified(RELISTENED)

    @property
    def listening(self) -> bool:
        return self._listener.listening

    async def listen(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        conn = await self._listener.start(pool)
        self.advance(await head_position(conn))

    async def close(self) -> None:
        await self._listener.stop()
