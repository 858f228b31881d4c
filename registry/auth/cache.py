"""A small time-bounded cache of who a token or a trusted name is, to keep the check off the
database in the common case.

A revocation or admin change made by this process clears it at once; one made by another process
(the CLI, another replica) clears it when that commit's notification arrives (see
`Auth.follow`), and within `seconds` in any case, should a notification be lost.

Concurrent misses on one key share one load: 16 clients on one token, at the start or when its
entry expires, cost one lookup (three statements), not 16.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MAX_ENTRIES = 10_000


class TtlCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[Hashable, asyncio.Task[Any]] = {}
        self._generation = 0  # a load that raced a clear does not store its (older) answer

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if self.seconds <= 0:  # no lifetime: every check reads the database afresh, none shared
            return await load()
        task = self._loading.get(key)
        if task is None:
            # Its own task, so one caller's cancellation (a client gone) never fails the others.
            task = asyncio.get_running_loop().create_task(
                self._load(key, load, now, self._generation))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        return await asyncio.shield(task)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[Any]], now: float,
                    generation: int) -> Any:
        try:
            value = await load()
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        # Unknown ids are not kept, so guesses cannot fill the cache.
        if value is not None and generation == self._generation:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        """Also forgets loads under way: a request after the clear never joins one begun before."""
        self._generation += 1
        self._entries.clear()
        self._loading.clear()


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a failure every waiter left is not reported as "never retrieved"
