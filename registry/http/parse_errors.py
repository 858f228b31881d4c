"""Requests aiohttp cannot even parse (an over-long request line or header, a bad method, broken
framing) are answered before any of our middlewares run, by aiohttp's own handler, in plain text
that repeats the offending input. `install` makes that answer JSON in the shape every surface
shares (`error_code`, `message`), with the input's echo cut short, and logs it as one line."""

from http import HTTPStatus

import orjson
import structlog
from aiohttp import web, web_protocol

from registry.http.errors import HTTP_CODES, clip

log = structlog.get_logger(__name__)
_ECHO = 120  # characters of aiohttp's own message (which may quote the input) kept
_original = web_protocol.RequestHandler.handle_error


def _handle_error(self: web_protocol.RequestHandler, request: web.BaseRequest,
                  status: int = 500, exc: BaseException | None = None,
                  message: str | None = None) -> web.StreamResponse:
    if status >= 500:
        # An exception past every middleware: aiohttp logs it with its traceback, as it should.
        _original(self, request, status, exc, message)
        text = "internal error"
    else:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "error"
        text = f"the request could not be read: {clip(message or phrase, _ECHO)}"
        log.warning("unreadable request", status=status, problem=text,
                    remote=request.remote)
    response = web.Response(status=status, content_type="application/json", body=orjson.dumps(
        {"error_code": HTTP_CODES.get(status, "INVALID_ARGUMENT"), "message": text}))
    response.force_close()
    return response


def install() -> None:
    """Once per process (idempotent): every aiohttp server in it answers this way."""
    web_protocol.RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]
