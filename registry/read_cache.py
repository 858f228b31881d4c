"""An in-process cache of hot reads, exact for this process and near-exact across processes.

Any commit clears it: this process's writer clears it before answering the writer (so a
client reads its own writes), and every process clears it when PostgreSQL delivers the
'modelog_appended' notification that each append statement raises at commit, carrying the
highest position appended. Positions are commit-ordered, so a clear made once position P was
committed covers every commit up to P: notifications at or below the last position cleared for
(our own commits' among them, which arrive late) are skipped rather than wiping fresh entries.
A read that raced a clear does not store its (possibly older) answer: entries carry the
generation they were read in. While the notification connection is down the cache is bypassed.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import asyncpg
import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")
CHANNEL = "modelog_appended"
MAX_ENTRIES = 50_000


class ReadCache:
    def __init__(self) -> None:
        self._entries: dict[Hashable, Any] = {}
        self._generation = 0
        self._cleared_for = 0  # the highest position a clear has covered
        self._listening = False
        self._conn: asyncpg.Connection | None = None
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def committed(self, position: int) -> None:
        """This process's writer committed up to `position`."""
        self._cleared_for = max(self._cleared_for, position)
        self.clear()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():  # an append; anything else (a rebuild) always clears
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

    async def listen(self, pool: asyncpg.Pool) -> None:
        """Follow other processes' commits on a connection of its own."""
        self._conn = await pool.acquire()
        await self._conn.add_listener(CHANNEL, self._notified)
        self._conn.add_termination_listener(self._lost)
        self.clear()
        self._listening = True

    def _lost(self, *_: object) -> None:
        log.warning("read cache lost its notification connection; reads bypass it")
        self._listening = False
        self.clear()

    async def close(self, pool: asyncpg.Pool) -> None:
        self._listening = False
        if self._conn is not None:
            self._conn.remove_termination_listener(self._lost)  # the pool closing it is no loss
            with contextlib.suppress(Exception):
                await self._conn.remove_listener(CHANNEL, self._notified)
            with contextlib.suppress(Exception):
                await asyncio.shield(pool.release(self._conn))
            self._conn = None
