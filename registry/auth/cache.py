"""A small time-bounded cache of who a token or a trusted name is, to keep the check off the
database in the common case.

A revocation or admin change made by this process clears it at once; one made by another process
(the CLI, another replica) clears it when that commit's notification arrives (see
`Auth.follow`), and within `seconds` in any case, should a notification be lost.
"""

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MAX_ENTRIES = 10_000


class TtlCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0  # a load that raced a clear does not store its (older) answer

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        value = await load()
        # Unknown ids are not kept, so guesses cannot fill the cache.
        if value is not None and generation == self._generation:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
