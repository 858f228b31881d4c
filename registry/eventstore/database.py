"""Connections and migrations.

The event log lives in the `public` schema; the inline read models live in `read_model`, so a
rebuild can fill a fresh schema from the log and swap it in. Migrations are the numbered plain SQL
files in `migrations/`; a file whose first line is `-- modelog:read-model` holds read-model DDL and
is applied with the read-model schema first on the search path.
"""

import contextlib
import re
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg
import orjson
import structlog

log = structlog.get_logger(__name__)

# `migrations/` of the source tree, installed as a package of its own (setup.py): found the same
# way in a checkout, an editable install and a wheel.
MIGRATIONS_DIR = resources.files("modelog_migrations")
READ_MODEL_SCHEMA = "read_model"
READ_MODEL_MARKER = "-- modelog:read-model"
_FILE = re.compile(r"^(\d{4})_[\w-]+\.sql$")
_MIGRATION_LOCK = 7173747471


class HeldConnection:
    """A pool connection one task keeps across its steps (no pool round trip or reset for each),
    taken afresh once it was lost."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._conn: asyncpg.Connection | None = None

    async def get(self) -> asyncpg.Connection:
        if not _usable(self._conn):
            self._conn = await self.pool.acquire()
        return self._conn  # type: ignore[return-value]

    async def release(self) -> None:
        """Give it back (it may be broken: the next `get` takes another)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await self.pool.release(conn)


def _usable(conn: asyncpg.Connection | None) -> bool:
    # One whose server went away has been handed back to the pool by asyncpg itself, and asking
    # it anything then raises ("connection has been released back to the pool").
    if conn is None:
        return False
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _jsonb_out(value: object) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb's binary form: a version byte, then the text


def _jsonb_in(data: bytes) -> object:
    return orjson.loads(data[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("json", encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")
    # Binary, so that COPY (a rebuild's way in) can carry jsonb columns too.
    await conn.set_type_codec("jsonb", encoder=_jsonb_out, decoder=_jsonb_in,
                              schema="pg_catalog", format="binary")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=init_connection,
        server_settings={"search_path": f"{READ_MODEL_SCHEMA}, public",
                         "application_name": "modelog"},
    )


def migration_files(directory: Traversable = MIGRATIONS_DIR) -> list[tuple[int, Traversable]]:
    found = sorted((int(m.group(1)), p) for p in directory.iterdir()
                   if (m := _FILE.match(p.name)))
    numbers = [n for n, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number in {directory}")
    return found


def is_read_model(path: Traversable) -> bool:
    return path.read_text().startswith(READ_MODEL_MARKER)


class NewerSchema(RuntimeError):
    """The database holds migrations this code does not know: serving it could corrupt it."""


async def migrate(conn: asyncpg.Connection, directory: Traversable = MIGRATIONS_DIR
                  ) -> list[str]:
    """Apply the migrations not yet applied, in order, each in its own transaction.
    Safe to run from several processes at once (an advisory lock serializes them). Refuses
    (`NewerSchema`) a database that holds a migration this code does not have."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"]: r["name"] for r in await conn.fetch(
            "SELECT version, name FROM public.schema_migrations")}
        files = migration_files(directory)
        unknown = sorted(name for n, name in done.items()
                         if n not in {number for number, _ in files})
        if unknown:
            raise NewerSchema(
                f"the database was migrated by a newer modelog ({', '.join(unknown)} unknown "
                "to this one): run that version or a later one")
        for number, path in files:
            if number in done:
                continue
            async with conn.transaction():
                if is_read_model(path):
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {READ_MODEL_SCHEMA}")
                    await conn.execute(f"SET LOCAL search_path TO {READ_MODEL_SCHEMA}, public")
                else:
                    await conn.execute("SET LOCAL search_path TO public")
                await conn.execute(path.read_text())
                await conn.execute(
                    "INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)",
                    number, path.name,
                )
            applied_now.append(path.name)
            log.info("migration applied", migration=path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now


async def create_read_model_tables(conn: asyncpg.Connection, schema: str,
                                   directory: Traversable = MIGRATIONS_DIR) -> None:
    """Create empty read-model tables in `schema` (for a rebuild), as the migrations define them."""
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.execute(f"SET LOCAL search_path TO {schema}, public")
    for _, path in migration_files(directory):
        if is_read_model(path):
            await conn.execute(path.read_text())
