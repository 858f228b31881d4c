"""Rebuild: replay the whole log into fresh read-model tables, then compare them with the live
ones, or copy them over the live ones.

The replay folds the log in memory, in chunks, without holding up writers, and copies the
resulting rows in (projections/memory.py). Only the last stretch (events appended
while it ran) and the copy happen with appends held off: under the writers' lock, which locked
writers take, and a table lock on `events`, which every insert takes (writers that know the head
append without the advisory lock; see registry/eventstore/writer.py). The live tables keep their
identity, so statements waiting on the lock go on into the rebuilt contents.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from registry.database import READ_MODEL_SCHEMA, create_read_model_tables
from registry.eventstore import RecordedEvent, read_all
from registry.eventstore.reads import read_for_projection

from . import inline_projector
from .memory import MemoryTables, primary_keys

CHUNK = 50_000
Progress = Callable[[int, int], None]  # (position reached, head)


@dataclass(frozen=True)
class RebuildResult:
    schema: str
    events: int
    seconds: float
    differences: list[str]  # tables whose rows differ from the live ones (compare mode)


async def _fold(pool: asyncpg.Pool, conn: asyncpg.Connection, schema: str, until: int,
                progress: Progress | None) -> tuple[int, int]:
    """Replay the log up to `until` into the empty tables of `schema`: the statements run on
    tables in memory (projections/memory.py), while the next chunk is read on another
    connection, and the final rows are copied in."""
    projector = inline_projector()
    memory = MemoryTables(await primary_keys(conn, schema))
    position, count = 0, 0
    async with pool.acquire() as reader:
        def read(start: int) -> asyncio.Future[list[RecordedEvent]]:
            return asyncio.ensure_future(read_for_projection(
                reader, after_position=start, until_position=until, limit=CHUNK))

        next_chunk = read(position)
        try:
            while events := await next_chunk:
                next_chunk = read(events[-1].position)
                memory.apply_all(projector.statements(events))
                position, count = events[-1].position, count + len(events)
                if progress is not None:
                    progress(position, max(until, position))
        finally:
            if not next_chunk.done():
                next_chunk.cancel()
                await asyncio.gather(next_chunk, return_exceptions=True)
    await memory.copy_to(conn, schema)
    names = ", ".join(f"{schema}.{t}" for t in await tables(conn, schema))
    await conn.execute(f"ANALYZE {names}")  # for the statements of the last stretch
    return position, count


async def _replay(conn: asyncpg.Connection, schema: str, after: int, until: int,
                  progress: Progress | None) -> int:
    """Apply the events in (after, until] to the tables in `schema` through PostgreSQL."""
    projector, count = inline_projector(), 0
    while events := await read_all(conn, after_position=after, until_position=until,
                                   limit=CHUNK):
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {schema}, public")
            await projector.apply(conn, events)
        after, count = events[-1].position, count + len(events)
        if progress is not None:
            progress(after, until)
    return count


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
        position, count = await _fold(pool, conn, schema, head, progress)
        async with conn.transaction():
            # Appends wait from here to commit. Same order as a locked writer (advisory lock,
            # then events), so the two cannot deadlock; reads go on.
            locked = await conn.fetchrow("SELECT * FROM modelog_lock_head()")
            await conn.execute("LOCK TABLE public.events IN EXCLUSIVE MODE")
            final = await conn.fetchval("SELECT coalesce(max(position), 0) FROM public.events")
            assert final >= (locked["head_position"] or 0)
            count += await _replay(conn, schema, position, final, progress)
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
