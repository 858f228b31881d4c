"""Wire encodings shared by the surfaces: JSON responses (orjson, several times faster than the
standard library's) and epoch-millisecond times."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from registry.reads.queries import encode_token
from registry.reads.reader import Found


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def epoch_ms(t: datetime) -> int:
    """Times as MLflow and Unity Catalog send them: milliseconds since the epoch."""
    return int(t.timestamp() * 1000)


def page(found: list[Any], limit: int, field: str, render: Callable[[Any], Any],
         key: Callable[[Any], Any], keep: Callable[[Any], bool] = lambda _: True) -> dict[str, Any]:
    """One page from `limit + 1` fetched rows; the extra row only says there is a next page.
    Rows `keep` refuses (the caller may not see them) leave the page, not the paging."""
    out: dict[str, Any] = {field: [render(x) for x in found[:limit] if keep(x)]}
    if len(found) > limit:
        out["next_page_token"] = encode_token(key(found[limit - 1]))
    return out


def listed(found: Found[Any], field: str, render: Callable[[Any], Any]) -> dict[str, Any]:
    """A reader's page as the APIs answer it: the items, and a token for the next page if any."""
    out: dict[str, Any] = {field: [render(x) for x in found.items]}
    if found.next_after is not None:
        out["next_page_token"] = encode_token(found.next_after)
    return out
