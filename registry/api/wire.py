"""Wire encodings shared by the surfaces: JSON responses (orjson, several times faster than the
standard library's) and epoch-millisecond times."""

from datetime import datetime
from typing import Any

import orjson
from aiohttp import web


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def epoch_ms(t: datetime) -> int:
    """Times as MLflow and Unity Catalog send them: milliseconds since the epoch."""
    return int(t.timestamp() * 1000)
