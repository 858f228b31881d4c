"""The database going away: each request that needed it is answered 503 UNAVAILABLE with
`Retry-After`, in its surface's format (registry/http/failures.py), and the outage is logged as it
starts, once a minute while it lasts, and as it ends, rather than a traceback per request."""

import time

import asyncpg
import structlog

log = structlog.get_logger(__name__)
RETRY_AFTER = "1"  # seconds: a restarted or promoted database is usually back within a few
_REPORT_EVERY = 60.0
_QUIET_BEFORE_OVER = 1.0  # seconds without a failure before a success says it is over

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
        self._last_failure = self._last_report = 0.0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._last_failure = now
        self.answered += 1
        if self.since is None:
            self.since = self._last_report = now
            log.warning("database unavailable: answering 503 until it is back",
                        error=type(exc).__name__)
        elif now - self._last_report >= _REPORT_EVERY:
            self._last_report = now
            log.warning("database still unavailable", seconds=round(now - self.since),
                        answered_503=self.answered)

    def succeeded(self) -> None:
        if self.since is not None and time.monotonic() - self._last_failure >= _QUIET_BEFORE_OVER:
            log.info("database available again", seconds=round(time.monotonic() - self.since),
                     answered_503=self.answered)
            self.since, self.answered = None, 0
