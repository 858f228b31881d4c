"""The fixtures every folder may use: the session's PostgreSQL (started lazily, at the first test
that needs it), a migrated template, and per test a database cloned from it, a pool and the
service. The servers, clients and the browser are tests/e2e/conftest.py's."""

import asyncio
import itertools
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from registry import bootstrap
from registry.domain import events as ev
from registry.eventstore.database import create_pool, migrate
from registry.service.handler import RegistryService
from tests.support.pg import postgres_server, with_database

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
    """The registry service on a fresh database, without the HTTP server, built as the server
    builds it (registry/bootstrap.py)."""
    async with bootstrap.writing(pool, bootstrap=True) as writing:
        yield writing.service


@pytest.fixture
def alias_set_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """AliasSet as if its shape had changed: version 1 stored {"name", "version_number" as text};
    version 2, the current one, is {"alias", "version", "previous_version"}."""
    monkeypatch.setattr(ev.AliasSet, "schema_version", 2)
    monkeypatch.setitem(ev.UPCASTERS, ("AliasSet", 1), lambda d: {
        "alias": d["name"], "version": int(d["version_number"]), "previous_version": None})
