"""The log's head as this process knows it, and a way to wait for it to move.

It moves when this process's writer commits and when PostgreSQL delivers another process's
'modelog_appended' notification. Followers of the log (catch-up projections, live feeds) wait on
it instead of polling; they still poll slowly, as a notification can be lost with its connection.
"""

import asyncio
import contextlib

import asyncpg
import structlog

from .eventstore import head_position

log = structlog.get_logger(__name__)
CHANNEL = "modelog_appended"


class LogHead:
    def __init__(self, position: int = 0) -> None:
        self.position = position
        self._moved = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

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

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():
            self.advance(int(payload))

    async def listen(self, pool: asyncpg.Pool) -> None:
        self._conn = await pool.acquire()
        await self._conn.add_listener(CHANNEL, self._notified)
        self.advance(await head_position(self._conn))

    async def close(self, pool: asyncpg.Pool) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.remove_listener(CHANNEL, self._notified)
            with contextlib.suppress(Exception):
                await asyncio.shield(pool.release(self._conn))
            self._conn = None
