"""Request bodies and query strings, validated by pydantic models before any command is built."""

import json
from typing import TypeVar

import pydantic
from aiohttp import web

from .errors import ApiError, from_validation

M = TypeVar("M", bound=pydantic.BaseModel)


class Body(pydantic.BaseModel):
    """A JSON request body: strict types, unknown fields refused."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


class Query(pydantic.BaseModel):
    """Query parameters: strings converted to the declared types, unknown ones refused."""

    model_config = pydantic.ConfigDict(extra="forbid")


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()  # over client_max_size: aiohttp raises 413
    if not raw.strip():
        data: object = {}
    else:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, "INVALID_ARGUMENT",
                           f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "request body must be a JSON object")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise from_validation(exc) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    params: dict[str, str] = {}
    for key, value in request.query.items():
        if key in params:
            raise ApiError(400, "INVALID_ARGUMENT", f"query parameter {key!r} is given twice")
        params[key] = value
    try:
        return model.model_validate(params)
    except pydantic.ValidationError as exc:
        raise from_validation(exc, "query") from None
