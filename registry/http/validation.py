"""Request bodies and query strings, validated by pydantic models before any command is built."""

import asyncio
import json
import re
from typing import Any, TypeVar

import pydantic
from aiohttp import web

from registry.domain.errors import InvalidArgument, NotFound
from registry.http.errors import ApiError, from_validation
from registry.http.keys import SETTINGS
from registry.reads.queries import MAX_INT

M = TypeVar("M", bound=pydantic.BaseModel)

# Valid JSON, but PostgreSQL text and jsonb cannot hold a NUL or an unpaired surrogate: refused
# here as bad input rather than failing the write batch (a 500) later.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(data: object) -> bool:
    """Whether any string in the decoded JSON, key or value, holds an unstorable character."""
    stack = [data]  # iterative: a document just under the parser's depth limit must not recurse
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class Body(pydantic.BaseModel):
    """A JSON request body: strict types, unknown fields refused."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


class Query(pydantic.BaseModel):
    """Query parameters: strings converted to the declared types, unknown ones refused."""

    model_config = pydantic.ConfigDict(extra="forbid")


async def read_body(request: web.Request) -> bytes:
    """The whole body, within the time the server allows for it: a client trickling a body in
    would otherwise hold its connection and a task for ever (413 past client_max_size)."""
    seconds = request.config_dict[SETTINGS].body_seconds
    try:
        async with asyncio.timeout(seconds):
            return await request.read()
    except TimeoutError:
        raise ApiError(408, "REQUEST_TIMEOUT",
                       f"the request body did not arrive within {seconds:g} s") from None


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await read_body(request)
    if not raw.strip():
        data: object = {}
    else:
        try:
            data = json.loads(raw)
        # ValueError also covers bad UTF-8 and integers past int()'s digit limit; RecursionError
        # is nesting deeper than the parser goes.
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, "INVALID_ARGUMENT",
                           f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "request body must be a JSON object")
    if unstorable(data):
        raise ApiError(400, "INVALID_ARGUMENT",
                       "request body strings must not contain NUL or unpaired surrogates")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise from_validation(exc) from None


def parse_query(request: web.Request, model: type[M], lists: tuple[str, ...] = ()) -> M:
    """Query parameters, each given once, except the `lists` keys, which may repeat (MLflow's
    client repeats a key for each item of a list, such as order_by or stages)."""
    params: dict[str, Any] = {}
    for key, value in request.query.items():
        if "\x00" in key or "\x00" in value:  # would fail in SQL, see _UNSTORABLE
            raise ApiError(400, "INVALID_ARGUMENT", f"query parameter {key!r} contains NUL")
        if key in lists:
            params.setdefault(key, []).append(value)
        elif key in params:
            raise ApiError(400, "INVALID_ARGUMENT", f"query parameter {key!r} is given twice")
        else:
            params[key] = value
    try:
        return model.model_validate(params)
    except pydantic.ValidationError as exc:
        raise from_validation(exc, "query") from None


def path_version(request: web.Request) -> int:
    """The `{version}` path segment as a version number; anything else names no version."""
    text = request.match_info["version"]
    # ASCII digits only (isdigit alone takes '²', which int() refuses), and no more than fit the
    # database's integer: larger numbers cannot exist and would fail in SQL.
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else 0
    if not 1 <= number <= MAX_INT:
        raise NotFound(f"model version {text!r} does not exist: versions are numbers from 1")
    return number


def changes(body: pydantic.BaseModel, *fields: str) -> dict[str, Any]:
    """The fields an update sends, with their values (a field left out is left alone); none is
    a 400."""
    sent = {f: getattr(body, f) for f in fields if f in body.model_fields_set}
    if not sent:
        raise InvalidArgument(f"nothing to update: send at least one of {', '.join(fields)}",
                              field="body")
    return sent
