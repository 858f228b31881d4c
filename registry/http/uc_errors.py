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


def restate(err: ApiError) -> tuple[int, str, str]:
    """Unity Catalog's status, code and message for an error, by what it is about."""
    d, code = err.details, err.code
    about = {k for k in ("catalog", "schema", "model", "version", "key", "alias", "stage")
             if k in d}
    if code == "NOT_FOUND":
        if about == {"model", "version"}:
            return 404, "NOT_FOUND", f"Model version not found: {d['model']}/{d['version']}"
        if about == {"model"}:
            return 404, "NOT_FOUND", f"Registered model not found: {d['model']}"
        if about == {"schema"}:
            return 404, "SCHEMA_NOT_FOUND", f"Schema not found: {d['schema']}"
        if about == {"catalog"}:
            return 404, "CATALOG_NOT_FOUND", f"Catalog not found: {d['catalog']}"
    if code == "ALREADY_EXISTS":
        if about == {"catalog"}:
            return 400, "CATALOG_ALREADY_EXISTS", f"Catalog already exists: {d['catalog']}"
        if about == {"schema"}:
            return 400, "SCHEMA_ALREADY_EXISTS", f"Schema already exists: {d['schema']}"
        if about == {"model"}:
            return 409, "ALREADY_EXISTS", f"Registered model already exists: {d['model']}"
    if code == "FAILED_PRECONDITION":
        if about == {"model"} and "versions" in d:
            return 409, "ABORTED", ("Unable to delete a registered model with existing model "
                                    f"versions: {d['model']}")
        if about == {"catalog"} and "schemas" in d:
            return 400, "FAILED_PRECONDITION", ("Cannot delete catalog with schemas. Use "
                                                "force=true to force deletion.")
        if about == {"schema"} and "models" in d:
            return 400, "FAILED_PRECONDITION", "Cannot delete schema with models"
    status, uc_code = CODES.get(code, (err.status, code))
    return status, uc_code, err.message


def response(err: ApiError, request_id: str | None = None) -> web.Response:
    status, code, message = restate(err)
    info: dict[str, Any] = {"@type": ERROR_INFO, "reason": code}
    if err.details:
        info["metadata"] = {k: v if isinstance(v, str) else str(v)
                            for k, v in err.details.items()}
    return json_response({"error_code": code, "message": message, "details": [info]},
                         status=status)
