"""The database going away: each request that needed it is answered 503 UNAVAILABLE with
`Retry-After`, in its surface's format (registry/http/failures.py), and the outage is logged as it
starts, once a minute while it lasts, and as it ends, rather than a traceback per request. Its end
is found by a probe of the database itself (a request that needs no database proves nothing)."""

import asyncio
import contextlib
import time

import asyncpg
import structlog

log = structlog.get_logger(__name__)
RETRY_AFTER = "1"  # seconds: a restarted or promoted database is usually back within a few
_PROBE_EVERY = 1.0
_REPORT_EVERY = 60.0

# Connection-level failures only: a query the database refused (a constraint, a timeout) is not
# an outage.
_GONE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError, asyncpg.exceptions.CannotConnectNowError,
    ConnectionRefusedError)


def database_gone(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (rather than that a request failed)."""
    if isinstance(exc, _GONE):
        return True
    # A server stopped cleanly removes its Unix socket: connecting then finds no file.
    return isinstance(exc, FileNotFoundError) and ".s.PGSQL." in str(exc.filename or exc)


class Outage:
    def __init__(self) -> None:
        self.since: float | None = None
        self.answered = 0  # requests answered 503 during this outage
        self._probe: asyncio.Task | None = None

    def failed(self, exc: BaseException, pool: asyncpg.Pool) -> None:
        self.answered += 1
        if self.since is None:
            self.since = time.monotonic()
            log.warning("database unavailable: answering 503 until it is back",
                        error=type(exc).__name__)
            self._probe = asyncio.get_running_loop().create_task(
                self._until_back(pool), name="modelog-outage-probe")

    async def _until_back(self, pool: asyncpg.Pool) -> None:
        assert self.since is not None
        reported = self.since
        while True:
            await asyncio.sleep(_PROBE_EVERY)
            try:
                await pool.fetchval("SELECT 1")
            except Exception:
                if time.monotonic() - reported >= _REPORT_EVERY:
                    reported = time.monotonic()
                    log.warning("database still unavailable",
                                seconds=round(reported - self.since),
                                answered_503=self.answered)
                continue
            log.info("database available again", seconds=round(time.monotonic() - self.since),
                     answered_503=self.answered)
            self.since, self.answered, self._probe = None, 0, None
            return

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
