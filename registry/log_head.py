"""The log's head as this process knows it, and a way to wait for it to move.

It moves when this process's writer commits and when PostgreSQL delivers another process's
'modelog_appended' notification. Followers of the log (catch-up projections, live feeds) wait on
it instead of polling; they still poll slowly, as a notification can be lost with its connection.

It holds the process's one LISTEN connection and passes each notification on to `on_notified`
(the read cache); when that connection is lost it says so (`on_lost`) and listens again as soon as
PostgreSQL lets it, telling `on_notified` with a non-position payload that anything may have
changed in between.
"""

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

from .eventstore import head_position

log = structlog.get_logger(__name__)
CHANNEL = "modelog_appended"
RELISTENED = "relistened"  # the payload subscribers hear after a gap: anything may have changed
RETRY_CAP = 30.0  # seconds between attempts to listen again, at most


class LogHead:
    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.listening = False
        self.on_notified: list[Callable[[str], None]] = []
        self.on_lost: list[Callable[[], None]] = []
        self._moved = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._relisten: asyncio.Task | None = None

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
        for hook in self.on_notified:
            hook(payload)

    async def listen(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        conn = await pool.acquire()
        try:
            await conn.add_listener(CHANNEL, self._notified)
            position = await head_position(conn)
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.remove_listener(CHANNEL, self._notified)
                await pool.release(conn)
            raise
        conn.add_termination_listener(self._lost)
        self._conn, self.listening = conn, True
        self.advance(position)

    def _lost(self, *_: object) -> None:
        log.warning("lost the connection that listens for commits; listening again")
        # asyncpg hands a lost connection's slot back to the pool by itself.
        self._conn, self.listening = None, False
        for hook in self.on_lost:
            hook()
        if self._pool is not None and self._relisten is None:
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        assert self._pool is not None
        delay = 0.1
        try:
            while True:
                try:
                    await self.listen(self._pool)
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("cannot listen for commits yet", error=repr(exc), retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_CAP)
        finally:
            self._relisten = None
        log.info("listening for commits again")
        for hook in self.on_notified:
            hook(RELISTENED)

    async def close(self, pool: asyncpg.Pool) -> None:
        self._pool = None  # no listening again from here on
        if self._relisten is not None:
            self._relisten.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relisten
        self.listening = False
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.remove_termination_listener(self._lost)  # the pool closing it is no loss
            with contextlib.suppress(Exception):
                await conn.remove_listener(CHANNEL, self._notified)
            with contextlib.suppress(Exception):
                await asyncio.shield(pool.release(conn))
