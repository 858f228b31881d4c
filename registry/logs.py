"""Structured logging: JSON lines in production, readable lines on a terminal.

Every request writes one line, so the JSON path is kept lean: loggers are assembled once
(`cache_logger_on_first_use`) and events go straight to bytes with orjson.
"""

import logging
import sys

import orjson
import structlog


def _dumps(obj: object, **_: object) -> bytes:
    return orjson.dumps(obj, default=str)


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
