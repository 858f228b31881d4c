"""A Modelog server on a free loopback port with chosen settings, started and stopped by the test
(for restarts and shutdown), and a reader of Server-Sent Events."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from registry.domain import commands as c
from registry.domain.events import PrivilegeChange
from registry.http.app import create_app
from registry.http.keys import SERVICE
from registry.settings import Settings


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
