"""Rebuild: replay the whole log into fresh read-model tables, then compare them with the live
ones, or copy them over the live ones.

The replay runs in chunks without holding up writers. Only the last stretch (events appended
while it ran) and the copy happen with appends held off: under the writers' lock, which locked
writers take, and a table lock on `events`, which every insert takes (writers that know the head
append without the advisory lock; see registry/eventstore/writer.py). The live tables keep their
identity, so statements waiting on the lock go on into the rebuilt contents.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.database import READ_MODEL_SCHEMA, create_read_model_tables
from registry.eventstore import RecordedEvent, read_all
from registry.eventstore.statements import Group, execute

from . import inline_projector

CHUNK = 50_000
Progress = Callable[[int, int], None]  # (position reached, head)
VERSION_TABLES = frozenset({"model_versions", "version_tags", "transition_requests"})


@dataclass(frozen=True)
class RebuildResult:
    schema: str
    events: int
    seconds: float
    differences: list[str]  # tables whose rows differ from the live ones (compare mode)


async def _replay(pool: asyncpg.Pool, writers: Sequence[asyncpg.Connection], schema: str,
                  after: int, until: int | None, progress: Progress | None,
                  head: int) -> tuple[int, int]:
    """Apply the events in (after, until] to the tables in `schema`, pipelined: while PostgreSQL
    writes one chunk, the next is read on another connection and planned here. With two writers,
    the version tables (most of the work) go to the second: each table stays on one connection,
    which keeps its statements in order."""
    projector = inline_projector()
    position, count, chunks = after, 0, 0
    conn = writers[0]

    async def apply(c: asyncpg.Connection, groups: list[Group]) -> None:
        if groups:
            async with c.transaction():
                await c.execute(f"SET LOCAL search_path TO {schema}, public")
                await execute(c, groups)

    def write(groups: list[Group]) -> asyncio.Future[Any]:
        if len(writers) == 1:
            return asyncio.ensure_future(apply(conn, groups))
        heavy = [g for g in groups if g.sql.table in VERSION_TABLES]
        rest = [g for g in groups if g.sql.table not in VERSION_TABLES]
        return asyncio.gather(apply(conn, rest), apply(writers[1], heavy))

    async with pool.acquire() as reader:
        def read(start: int) -> asyncio.Task[list[RecordedEvent]]:
            return asyncio.ensure_future(read_all(reader, after_position=start,
                                                  until_position=until, limit=CHUNK))

        next_chunk, writing = read(position), None
        try:
            while events := await next_chunk:
                next_chunk = read(events[-1].position)
                groups = projector.plan(events)
                if writing is not None:
                    await writing
                writing = write(groups)
                chunks += 1
                if chunks & (chunks - 1) == 0:
                    # Fresh tables have no statistics: without them the planner joins each
                    # chunk's updates against a full scan of a growing table (quadratic).
                    await writing
                    names = ", ".join(f"{schema}.{t}" for t in await tables(conn, schema))
                    await conn.execute(f"ANALYZE {names}")
                position, count = events[-1].position, count + len(events)
                if progress is not None:
                    progress(position, max(head, position))
            if writing is not None:
                await writing
        finally:
            for task in (next_chunk, writing):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
    return position, count


async def tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1 "
                            "ORDER BY tablename", schema)
    return [r["tablename"] for r in rows]


async def compare(conn: asyncpg.Connection, a: str, b: str,
                  only: Sequence[str] | None = None) -> list[str]:
    """Tables whose contents differ between schemas `a` and `b` (as multisets of rows)."""
    differing = []
    names_a, names_b = await tables(conn, a), await tables(conn, b)
    for name in sorted(set(names_a) | set(names_b)):
        if only is not None and name not in only:
            continue
        if name not in names_a or name not in names_b:
            differing.append(name)
            continue
        diff = await conn.fetchval(
            f"SELECT count(*) FROM ((TABLE {a}.{name} EXCEPT ALL TABLE {b}.{name}) UNION ALL "
            f"(TABLE {b}.{name} EXCEPT ALL TABLE {a}.{name})) d")
        if diff:
            differing.append(name)
    return differing


async def rebuild(pool: asyncpg.Pool, *, swap: bool, progress: Progress | None = None
                  ) -> RebuildResult:
    started = time.perf_counter()
    schema = f"{READ_MODEL_SCHEMA}_rebuild_{int(time.time() * 1000)}"
    async with pool.acquire() as conn:
        async with conn.transaction():
            await create_read_model_tables(conn, schema)
            # Scratch tables: writing them needs no WAL (a crash loses only the rebuild).
            for table in await tables(conn, schema):
                await conn.execute(f"ALTER TABLE {schema}.{table} SET UNLOGGED")
        head = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
        if progress is not None:
            progress(0, head)
        async with pool.acquire() as second:
            position, count = await _replay(pool, (conn, second), schema, 0, head, progress, head)
        async with conn.transaction():
            # Appends wait from here to commit. Same order as a locked writer (advisory lock,
            # then events), so the two cannot deadlock; reads go on.
            locked = await conn.fetchrow("SELECT * FROM modelog_lock_head()")
            await conn.execute("LOCK TABLE public.events IN EXCLUSIVE MODE")
            final = await conn.fetchval("SELECT coalesce(max(position), 0) FROM public.events")
            assert final >= (locked["head_position"] or 0)
            _, more = await _replay(pool, (conn,), schema, position, final, progress, final)
            count += more
            differences: list[str] = []
            if swap:
                for table in await tables(conn, schema):
                    live = f"{READ_MODEL_SCHEMA}.{table}"
                    await conn.execute(f"DELETE FROM {live}")
                    await conn.execute(f"INSERT INTO {live} SELECT * FROM {schema}.{table}")
                # Servers' read caches must drop what they hold of the old contents.
                await conn.execute("SELECT pg_notify('modelog_appended', 'rebuild')")
            else:
                differences = await compare(conn, READ_MODEL_SCHEMA, schema)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return RebuildResult(schema, count, time.perf_counter() - started, differences)
