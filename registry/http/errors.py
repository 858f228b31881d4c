"""Errors as JSON: `{error_code, message, details}` with the right status, never a stack trace."""

from typing import Any

import pydantic
from aiohttp import web

from registry.domain.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from registry.http.wire import json_response

STATUS: dict[type[DomainError], int] = {
    InvalidArgument: 400,
    NotFound: 404,
    PermissionDenied: 403,
    AlreadyExists: 409,
    FailedPrecondition: 409,
    Conflict: 409,
    Unavailable: 503,
}

HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}


# An error repeats what was wrong with the input, but never all of it: a value sent as 300 KB
# comes back cut to this many characters (the message) or these (each string detail).
MAX_MESSAGE, MAX_DETAIL = 1_000, 300
MAX_ITEMS = 20  # of a list among the details (e.g. each field's problem)


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


class ApiError(Exception):
    # Positional-only, so that details may themselves be called `status`, `code` or `message`.
    def __init__(self, status: int, code: str, message: str, /, **details: Any) -> None:
        message = clip(message, MAX_MESSAGE)
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = _clipped(details)


def _clipped(value: Any) -> Any:
    """Details with every string in them clipped (a field's name can be the huge value)."""
    if isinstance(value, str):
        return clip(value, MAX_DETAIL)
    if isinstance(value, dict):
        return {_clipped(k): _clipped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clipped(v) for v in value[:MAX_ITEMS]]
    return value


def from_domain(exc: DomainError) -> ApiError:
    status = next((s for t, s in STATUS.items() if isinstance(exc, t)), 400)
    return ApiError(status, exc.code, exc.message, **exc.details)


def from_validation(exc: pydantic.ValidationError, where: str = "body") -> ApiError:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or where, "problem": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
    return ApiError(400, "INVALID_ARGUMENT", f"invalid request {where}: {summary}",
                    errors=problems)


def from_http(exc: web.HTTPException) -> ApiError:
    # aiohttp's default text is "404: Not Found"; keep its specific ones (e.g. the 413 sizes).
    text = exc.text or ""
    message = exc.reason if not text or text.startswith(f"{exc.status}:") else text
    code = "ENDPOINT_NOT_FOUND" if exc.status == 404 else HTTP_CODES.get(exc.status, "ERROR")
    return ApiError(exc.status, code, message)


def response(err: ApiError, request_id: str | None = None) -> web.Response:
    code = "NOT_FOUND" if err.code == "ENDPOINT_NOT_FOUND" else err.code
    body: dict[str, Any] = {"error_code": code, "message": err.message, "details": err.details}
    if request_id:
        body["request_id"] = request_id
    return json_response(body, status=err.status)
