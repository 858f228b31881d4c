"""A LISTEN on one PostgreSQL channel that comes back by itself when its connection is lost.

Whoever listens passes what to do with each payload, when the connection is lost (notifications
may be missed from then on), and when it listens again (anything may have happened in between).
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

log = structlog.get_logger(__name__)
RETRY_CAP = 30.0  # seconds between attempts to listen again, at most


class Listener:
    def __init__(self, channel: str, notified: Callable[[str], None], *,
                 lost: Callable[[], None] | None = None,
                 again: Callable[[], Awaitable[None]] | None = None) -> None:
        self.channel = channel
        self.listening = False
        self._notified, self._on_lost, self._again = notified, lost, again
        self._conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._relisten: asyncio.Task | None = None

    @property
    def connection(self) -> asyncpg.Connection | None:
        return self._conn

    async def start(self, pool: asyncpg.Pool) -> asyncpg.Connection:
        """Listen on a connection of its own from `pool` (returned, for a first query on it)."""
        self._pool = pool
        conn = await pool.acquire()
        try:
            await conn.add_listener(self.channel, self._deliver)
        except BaseException:
            with contextlib.suppress(Exception):
                await pool.release(conn)
            raise
        conn.add_termination_listener(self._lost)
        self._conn, self.listening = conn, True
        return conn

    def _deliver(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._notified(payload)

    def _lost(self, *_: object) -> None:
        # asyncpg hands a lost connection's slot back to the pool by itself.
        log.warning("lost a LISTEN connection; listening again", channel=self.channel)
        self._conn, self.listening = None, False
        if self._on_lost is not None:
            self._on_lost()
        if self._pool is not None and self._relisten is None:
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        assert self._pool is not None
        delay = 0.1
        try:
            while True:
                try:
                    await self.start(self._pool)
                    break
                except Exception as exc:  # any failure to listen is retried; only a stop ends it
                    # (e.g. asyncpg's InternalClientError on a half-dead connection)
                    log.warning("cannot LISTEN yet", channel=self.channel, error=repr(exc),
                                retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_CAP)
        finally:
            self._relisten = None
        log.info("listening again", channel=self.channel)
        if self._again is not None:
            await self._again()

    async def stop(self) -> None:
        pool, self._pool = self._pool, None  # no listening again from here on
        if self._relisten is not None:
            self._relisten.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relisten
        self.listening = False
        if self._conn is not None and pool is not None:
            conn, self._conn = self._conn, None
            conn.remove_termination_listener(self._lost)  # the pool closing it is no loss
            with contextlib.suppress(Exception):
                await conn.remove_listener(self.channel, self._deliver)
            with contextlib.suppress(Exception):
                await asyncio.shield(pool.release(conn))
