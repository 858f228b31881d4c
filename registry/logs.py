"""Structured logging: JSON lines in production, readable lines on a terminal.

Every request writes one line, so the JSON path is kept lean: loggers are assembled once
(`cache_logger_on_first_use`) and events go straight to bytes with orjson.
"""

import logging
import sys
import time

import orjson
import structlog


def _dumps(obj: object, **_: object) -> bytes:
    return orjson.dumps(obj, default=str)


class _OncePerMinute(logging.Filter):
    """asyncpg's pool retries its floor of connections while the database is away, logging a
    traceback each time: keep its message, without the traceback, once a minute."""

    def __init__(self) -> None:
        super().__init__()
        self._last = -60.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None:
            return True
        now = time.monotonic()
        if now - self._last < 60.0:
            return False
        self._last = now
        error = record.exc_info[1]
        record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
        record.args, record.exc_info, record.exc_text = None, None, None
        return True


def configure(fmt: str = "console", level: int = logging.INFO) -> None:
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    factory: structlog.typing.WrappedLogger
    if fmt == "json":
        processors.append(structlog.processors.JSONRenderer(serializer=_dumps))
        factory = structlog.BytesLoggerFactory(file=sys.stderr.buffer)
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
        factory = structlog.PrintLoggerFactory(file=sys.stderr)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    # aiohttp's own access log would duplicate our one line per request.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    pool_log = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, _OncePerMinute) for f in pool_log.filters):
        pool_log.addFilter(_OncePerMinute())
