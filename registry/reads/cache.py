"""An in-process cache of hot reads, exact for this process and near-exact across processes.

Any commit clears it: this process's writer clears it before answering the writer (so a
client reads its own writes), and every process clears it when PostgreSQL delivers the
'modelog_appended' notification that each append statement raises at commit, carrying the
highest position appended. Positions are commit-ordered, so a clear made once position P was
committed covers every commit up to P: notifications at or below the last position cleared for
(our own commits' among them, which arrive late) are skipped rather than wiping fresh entries.
A read that raced a clear does not store its (possibly older) answer: entries carry the
generation they were read in. The notifications come through the log head's connection
(registry/eventstore/log_head.py); while it is down the cache is bypassed, and cleared once it is back.
"""

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import structlog

from registry.eventstore.log_head import LogHead

log = structlog.get_logger(__name__)
T = TypeVar("T")
MAX_ENTRIES = 50_000


class ReadCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, Any] = {}
        self._generation = 0
        self._cleared_for = 0  # the highest position a clear has covered
        self._listening = False
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def committed(self, position: int) -> None:
        """This process's writer committed up to `position`."""
        self._cleared_for = max(self._cleared_for, position)
        self.clear()

    def _notified(self, payload: str) -> None:
        # Only ever heard while listening: after a gap, this is how the cache learns it is back.
        self._listening = True
        if payload.isdigit():  # an append; anything else (a rebuild, a gap) always clears
            if int(payload) <= self._cleared_for:
                return
            self._cleared_for = int(payload)
        self.clear()

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        if not self._listening:
            return await load()
        if key in self._entries:
            self.hits += 1
            return self._entries[key]
        self.misses += 1
        generation = self._generation
        value = await load()
        if generation == self._generation and self._listening:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = value
        return value

    def follow(self, head: LogHead) -> None:
        """Hear of other processes' commits through the log head's connection."""
        head.on_notified.append(self._notified)
        head.on_lost.append(self._lost)
        self.clear()
        self._listening = head.listening

    def _lost(self) -> None:
        log.warning("read cache is bypassed until commits can be heard of again")
        self._listening = False
        self.clear()
