"""Errors as MLflow's server words them: its error codes, statuses, `sqlstate`/`error_class`, and
the messages clients and tests match on ("Registered Model with name=X not found").

A domain error names a model by its full name; on MLflow's surface every model is in the
workspace schema, so the model's own name is the MLflow name, and the schema never shows.
"""

from aiohttp import web

from registry.domain.errors import DomainError
from registry.domain.names import FullName
from registry.http.errors import ApiError
from registry.http.wire import json_response

SEE_DOCS = "See the API docs for more information about request parameters."

# MLflow's codes and statuses (mlflow/exceptions.py): an existing name is a 400 there.
CODES: dict[str, tuple[int, str]] = {
    "INVALID_ARGUMENT": (400, "INVALID_PARAMETER_VALUE"),
    "NOT_FOUND": (404, "RESOURCE_DOES_NOT_EXIST"),
    "ENDPOINT_NOT_FOUND": (404, "ENDPOINT_NOT_FOUND"),
    "ALREADY_EXISTS": (400, "RESOURCE_ALREADY_EXISTS"),
    "FAILED_PRECONDITION": (400, "INVALID_PARAMETER_VALUE"),
    "CONFLICT": (409, "RESOURCE_CONFLICT"),
    "METHOD_NOT_ALLOWED": (405, "BAD_REQUEST"),
    "PAYLOAD_TOO_LARGE": (413, "BAD_REQUEST"),
    "UNAVAILABLE": (503, "TEMPORARILY_UNAVAILABLE"),
    "INTERNAL_ERROR": (500, "INTERNAL_ERROR"),
}

# MLflow 3's classification of its client error codes (mlflow/error_classification.py).
_INTERNAL = ("XXM00", "CLIENT_INTERNAL_ERROR")
CLASSES: dict[str, tuple[str, str]] = {
    "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
    "ENDPOINT_NOT_FOUND": ("KAM00", "RESOURCE_NOT_FOUND"),
    "RESOURCE_ALREADY_EXISTS": ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    "PERMISSION_DENIED": ("KAM00", "PERMISSION_DENIED"),
    "INTERNAL_ERROR": _INTERNAL,
    "TEMPORARILY_UNAVAILABLE": _INTERNAL,
}



def _model(full_name: object) -> str | None:
    try:
        return FullName.parse(str(full_name)).name
    except DomainError:
        return None


def message(err: ApiError) -> str:
    """MLflow's wording for the errors its clients know, else the error's own message."""
    details, model = err.details, _model(err.details.get("model"))
    plain = model is not None and not {"key", "alias", "stage", "status"} & details.keys()
    if err.code == "NOT_FOUND" and plain:
        if "version" in details:
            return f"Model Version (name={model}, version={details['version']}) not found"
        return f"Registered Model with name={model} not found"
    if err.code == "ALREADY_EXISTS" and plain and "version" not in details:
        return f"Registered Model (name={model}) already exists."
    missing = [e["field"] for e in details.get("errors", []) if e.get("problem") == "Field required"]
    if err.code == "INVALID_ARGUMENT" and missing:
        return f"Missing value for required parameter '{missing[0]}'. {SEE_DOCS}"
    return err.message


def response(err: ApiError, request_id: str | None = None) -> web.Response:
    status, code = CODES.get(err.code, (err.status, err.code))
    body = {"error_code": code, "message": message(err)}
    if code in CLASSES:
        body["sqlstate"], body["error_class"] = CLASSES[code]
    return json_response(body, status=status)
