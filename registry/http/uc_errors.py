"""Errors as Unity Catalog's server words them (its `ErrorCode` and `GlobalExceptionHandler`):
its codes and statuses (`CATALOG_NOT_FOUND` 404, `CATALOG_ALREADY_EXISTS` 400, `ALREADY_EXISTS`
409 for models, `ABORTED` 409 for a model that still has versions), its messages, and `details`
as a list holding one `google.rpc.ErrorInfo` whose `reason` is the code; what Modelog knows more
travels in the ErrorInfo's `metadata`."""

from typing import Any

from aiohttp import web

from registry.http.errors import ApiError
from registry.http.wire import json_response

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"

# Generic codes by the domain's; the specific ones below take precedence.
CODES: dict[str, tuple[int, str]] = {
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
    "NOT_FOUND": (404, "NOT_FOUND"),
    "ENDPOINT_NOT_FOUND": (404, "NOT_FOUND"),
    "ALREADY_EXISTS": (409, "ALREADY_EXISTS"),
    "FAILED_PRECONDITION": (400, "FAILED_PRECONDITION"),
    "CONFLICT": (409, "ABORTED"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
    "INTERNAL_ERROR": (500, "INTERNAL"),
}


# (domain code, what the error is about, a count it must carry) -> Unity Catalog's answer.
WORDING: dict[tuple[str, frozenset[str], str | None], tuple[int, str, str]] = {
    ("NOT_FOUND", frozenset({"model", "version"}), None):
        (404, "NOT_FOUND", "Model version not found: {model}/{version}"),
    ("NOT_FOUND", frozenset({"model"}), None):
        (404, "NOT_FOUND", "Registered model not found: {model}"),
    ("NOT_FOUND", frozenset({"schema"}), None):
        (404, "SCHEMA_NOT_FOUND", "Schema not found: {schema}"),
    ("NOT_FOUND", frozenset({"catalog"}), None):
        (404, "CATALOG_NOT_FOUND", "Catalog not found: {catalog}"),
    ("ALREADY_EXISTS", frozenset({"catalog"}), None):
        (400, "CATALOG_ALREADY_EXISTS", "Catalog already exists: {catalog}"),
    ("ALREADY_EXISTS", frozenset({"schema"}), None):
        (400, "SCHEMA_ALREADY_EXISTS", "Schema already exists: {schema}"),
    ("ALREADY_EXISTS", frozenset({"model"}), None):
        (409, "ALREADY_EXISTS", "Registered model already exists: {model}"),
    ("FAILED_PRECONDITION", frozenset({"model"}), "versions"):
        (409, "ABORTED", "Unable to delete a registered model with existing model versions: "
                         "{model}"),
    ("FAILED_PRECONDITION", frozenset({"catalog"}), "schemas"):
        (400, "FAILED_PRECONDITION", "Cannot delete catalog with schemas. Use force=true to "
                                     "force deletion."),
    ("FAILED_PRECONDITION", frozenset({"schema"}), "models"):
        (400, "FAILED_PRECONDITION", "Cannot delete schema with models"),
}
_ABOUT = ("catalog", "schema", "model", "version", "key", "alias", "stage")


def restate(err: ApiError) -> tuple[int, str, str]:
    """Unity Catalog's status, code and message for an error, by what it is about."""
    d = err.details
    about = frozenset(k for k in _ABOUT if k in d)
    count = next((k for k in ("versions", "schemas", "models") if k in d), None)
    found = WORDING.get((err.code, about, count))
    if found is not None:
        status, code, message = found
        return status, code, message.format(**d)
    status, code = CODES.get(err.code, (err.status, err.code))
    return status, code, err.message


def response(err: ApiError, request_id: str | None = None) -> web.Response:
    status, code, message = restate(err)
    info: dict[str, Any] = {"@type": ERROR_INFO, "reason": code}
    if err.details:
        info["metadata"] = {k: v if isinstance(v, str) else str(v)
                            for k, v in err.details.items()}
    return json_response({"error_code": code, "message": message, "details": [info]},
                         status=status)
