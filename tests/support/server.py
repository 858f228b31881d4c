"""A Modelog server on a free loopback port with chosen settings, started and stopped by the test
(for restarts and shutdown); `Live`, the `live` fixture's server and client; requests with a
token (`call`) and who made which events (`actors`); grants, and the privileges tests' team; a
reader of Server-Sent Events."""

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from registry.domain import commands as c
from registry.domain.events import PrivilegeChange
from registry.eventstore import RecordedEvent, chain_hash, read_all
from registry.http.app import create_app
from registry.http.keys import AUTH, POOL, SERVICE
from registry.settings import Settings

V1 = "/api/modelog/v1"
UC = "/api/2.1/unity-catalog"
BOOTSTRAP = re.compile(r"mlg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")  # a token, as printed at first start
SURFACES = {  # a read on each surface, and where its error code is
    "native": ("GET", f"{V1}/models?catalog_name=unity"),
    "mlflow": ("GET", "/api/2.0/mlflow/registered-models/search"),
    "uc": ("GET", "/api/2.1/unity-catalog/catalogs"),
}


@dataclass
class Server:
    app: web.Application
    url: str
    runner: web.AppRunner


@asynccontextmanager
async def serving(db_url: str, tmp_path, **settings: Any) -> AsyncIterator[Server]:
    app = create_app(Settings(database_url=db_url, port=0, data_dir=tmp_path, **settings))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield Server(app, f"http://127.0.0.1:{port}", runner)
    finally:
        if runner.server is not None:  # a test may have stopped it already
            await runner.cleanup()


@dataclass
class Live:
    """A real Modelog server on a free loopback port, and an HTTP client for it."""

    url: str
    app: web.Application
    http: aiohttp.ClientSession

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app[POOL]

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, path, **kwargs) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)


async def append_raw(live: Live, stream_id: str, type_: str, schema_version: int, data: dict,
                     actor: str) -> RecordedEvent:
    """Append as an older writer did: straight into the table, hash-chained, no projections."""
    head = (await read_all(live.pool, after_position=0, limit=10**6))[-1]
    version = await live.pool.fetchval(
        "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id)
    event = RecordedEvent(head.position + 1, stream_id, version + 1, type_, schema_version, data,
                          {"actor": actor}, datetime.now(UTC), head.hash, b"")
    event = replace(event, hash=chain_hash(head.hash, event))
    await live.pool.execute(
        "INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, "
        "metadata, recorded_at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        event.position, event.stream_id, event.stream_version, event.type, event.schema_version,
        event.data, event.metadata, event.recorded_at, event.prev_hash, event.hash)
    return event


async def call(server: Server, method: str, path: str, token: Any = None,
               headers: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, Any, Any]:
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as http, http.request(
            method, server.url + path, headers=headers, **kwargs) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None), r.headers


async def actors(server: Server, stream_prefix: str) -> list[tuple[str, str]]:
    rows = await server.app[AUTH].pool.fetch(
        "SELECT type, metadata->>'actor' AS actor FROM events WHERE stream_id LIKE $1 "
        "ORDER BY position", stream_prefix + "%")
    return [(r["type"], r["actor"]) for r in rows]


@dataclass
class Sse:
    id: str | None = None
    event: str | None = None
    data: Any = None
    comments: list[str] = field(default_factory=list)


async def read_sse(response: aiohttp.ClientResponse, count: int, seconds: float = 10.0,
                   comments: bool = False) -> list[Sse]:
    """The next `count` events (or comment blocks, if `comments`) of a stream; fewer if it ends or
    `seconds` go by first."""
    found: list[Sse] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            current = Sse()
            while len(found) < count and (line := await response.content.readline()):
                text = line.decode().rstrip("\r\n")
                field_, _, value = text.partition(":")
                if text == "":
                    if current.data is not None or (comments and current.comments):
                        found.append(current)
                    current = Sse()
                elif field_ == "":
                    current.comments.append(value.strip())
                elif field_ == "id":
                    current.id = value.strip()
                elif field_ == "event":
                    current.event = value.strip()
                elif field_ == "data":
                    current.data = json.loads(value)
    return found


async def grant(server: Server, securable_type: str, full_name: str, principal: str,
                *privileges: str) -> None:
    """As the server's admin, straight through the service (no token needed)."""
    await server.app[SERVICE].execute(c.UpdatePermissions(
        securable_type=securable_type, full_name=full_name,
        changes=[PrivilegeChange(principal=principal, add=list(privileges))]), "admin")


async def may_create_models(server: Server, principal: str) -> None:
    """`principal` may use `unity` and `unity.default` and create models there (and so own them)."""
    await grant(server, "catalog", "unity", principal, "USE CATALOG")
    await grant(server, "schema", "unity.default", principal, "USE SCHEMA", "CREATE MODEL")


# --- the privileges tests' team (the `team` fixture): admin, alice owning TEAM_MODEL, and bob ----

TEAM_MODEL = "unity.default.scorer"


def patch(principal: str, add: list[str] = (), remove: list[str] = ()) -> dict:
    return {"changes": [{"principal": principal, "add": list(add), "remove": list(remove)}]}


async def use_parents(server: Server, admin: str, principal: str) -> None:
    for securable, privilege in (("catalog/unity", "USE CATALOG"), ("schema/unity.default", "USE SCHEMA")):
        status, _, _ = await call(server, "PATCH", f"{V1}/permissions/{securable}", admin,
                                  json=patch(principal, [privilege]))
        assert status == 200
