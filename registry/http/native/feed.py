"""`GET /api/modelog/v1/events`: the log as Server-Sent Events, from a position on, live.

Each event is `id: <position>`, `event: <type>`, `data: <json>`. A client resumes by sending the
last id it saw as `Last-Event-ID` (browsers' EventSource do so by themselves); the header wins
over `after`. The handler reads the log in chunks after the position and, once caught up, waits
on the log head (registry/eventstore/log_head.py) rather than polling; an idle stream gets a `: keepalive`
comment every `feed_heartbeat` seconds, which also finds out a client that went away. Positions
become visible in commit order, so "after P" never misses an event that commits later.
"""

import asyncio
import contextlib

import orjson
from aiohttp import web
from aiohttp.helpers import ChainMapProxy

from registry.audit.queries import object_prefix
from registry.domain.events import EVENT_TYPES
from registry.eventstore import read_all
from registry.eventstore.feed import feed_json, matches, resolve
from registry.http.authenticate import admin_only
from registry.http.errors import ApiError
from registry.http.keys import FEEDS_CLOSING, LOG_HEAD, POOL, SETTINGS
from registry.http.validation import Query, parse_query

CHUNK = 500


class FeedQuery(Query):
    after: int | None = None
    type: list[str] = []  # repeatable, or comma separated
    object: str | None = None  # a full name or a dotted prefix of one


def _after(request: web.Request, q: FeedQuery) -> int:
    header = request.headers.get("Last-Event-ID")
    if header is None:
        after = q.after or 0
    elif header.strip().isdigit():
        after = int(header)
    else:
        raise ApiError(400, "INVALID_ARGUMENT", f"Last-Event-ID must be a log position, not {header!r}")
    if after < 0:
        raise ApiError(400, "INVALID_ARGUMENT", "after must be a log position (0 or more)")
    return after


def _types(q: FeedQuery) -> frozenset[str] | None:
    types = frozenset(t.strip() for item in q.type for t in item.split(",") if t.strip())
    unknown = sorted(types - EVENT_TYPES.keys())
    if unknown:
        raise ApiError(400, "INVALID_ARGUMENT", f"unknown event type(s): {', '.join(unknown)}",
                       known=sorted(EVENT_TYPES))
    return types or None


async def _wait(app: ChainMapProxy, position: int, seconds: float) -> bool:
    """Until the head passes `position` (True), `seconds` go by or the server shuts down."""
    head = asyncio.ensure_future(app[LOG_HEAD].wait_past(position, seconds))
    closing = asyncio.ensure_future(app[FEEDS_CLOSING].wait())
    try:
        await asyncio.wait((head, closing), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (head, closing):
            task.cancel()
    return app[LOG_HEAD].position > position


async def events_feed(request: web.Request) -> web.StreamResponse:
    q = parse_query(request, FeedQuery, lists=("type",))
    after, types = _after(request, q), _types(q)
    prefix = object_prefix(q.object) if q.object else None
    app = request.config_dict
    pool, closing, heartbeat = app[POOL], app[FEEDS_CLOSING], app[SETTINGS].feed_heartbeat
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no"})  # proxies must not hold events back
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # the client went away
        await response.write(b"retry: 2000\n\n")
        while not closing.is_set():
            events = await read_all(pool, after_position=after, limit=CHUNK)
            if events:
                out = bytearray()
                for fe in await resolve(pool, events):
                    if matches(fe, types, prefix):
                        e = fe.event
                        out += (f"id: {e.position}\nevent: {e.type}\ndata: ".encode()
                                + orjson.dumps(feed_json(fe)) + b"\n\n")
                after = events[-1].position
                if out:
                    await response.write(bytes(out))
                if len(events) == CHUNK:
                    continue
            if not await _wait(app, after, heartbeat) and not closing.is_set():
                await response.write(b": keepalive\n\n")
    return response


async def close_feeds(app: web.Application) -> None:
    """on_shutdown: open streams end, so the server's graceful shutdown does not wait on them."""
    app[FEEDS_CLOSING].set()


def add_routes(app: web.Application) -> None:
    app[FEEDS_CLOSING] = asyncio.Event()
    app.on_shutdown.append(close_feeds)
    app.router.add_get("/events", admin_only(events_feed))
