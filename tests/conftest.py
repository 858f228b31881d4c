import asyncio
import itertools
import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web

import projections
from registry.eventstore import EventStore
from registry.eventstore.database import create_pool, migrate
from registry.http.keys import POOL
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel
from tests.pg import postgres_server, with_database
from tests.serving import serving

# The MLflow client must not try to phone home from a machine without a network, nor leave a
# default tracking store in the working tree.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_TRACKING_URI",
                      f"sqlite:///{tempfile.mkdtemp(prefix='modelog-mlflow-')}/mlflow.db")

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_url() -> str:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def template_db(pg_url: str) -> str:
    """A database with every migration applied; each test gets a copy of it."""
    name = f"modelog_template_{os.getpid()}"

    async def build() -> None:
        admin = await asyncpg.connect(pg_url)
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        conn = await asyncpg.connect(with_database(pg_url, name))
        await migrate(conn)
        await conn.close()

    asyncio.run(build())
    return name


@pytest.fixture
async def db_url(pg_url: str, template_db: str) -> AsyncIterator[str]:
    name = f"modelog_test_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
    await admin.close()
    yield with_database(pg_url, name)
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=1, max_size=20)
    yield p
    await p.close()


@pytest.fixture
async def service(pool: asyncpg.Pool) -> AsyncIterator[RegistryService]:
    """The registry service on a fresh database, without the HTTP server."""
    wm = RegistryWriteModel()
    store = EventStore(pool, projections.inline_projector(), wm)
    await store.start()
    svc = RegistryService(store, wm)
    await svc.bootstrap()
    yield svc
    await store.close()


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


@pytest.fixture
async def live(db_url: str, tmp_path) -> AsyncIterator[Live]:
    async with (serving(db_url, tmp_path, storage_root=f"file://{tmp_path}/artifacts") as server,
                aiohttp.ClientSession(server.url) as http):
        yield Live(server.url, server.app, http)


# Debian's chromium (`make browser`), driven by Playwright: never a browser Playwright downloads.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium() -> str:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: run `make browser` (make test does)"
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser: Any) -> Any:
    return await browser.new_page(viewport={"width": 1200, "height": 900})
