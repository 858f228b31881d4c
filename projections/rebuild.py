"""Rebuild: replay the whole log into fresh read-model tables, then compare them with the live
ones, or copy them over the live ones.

The replay runs in chunks without holding up writers. Only the last stretch (events appended
while it ran) and the copy happen with appends held off: under the writers' lock, which locked
writers take, and a table lock on `events`, which every insert takes (writers that know the head
append without the advisory lock; see registry/eventstore/writer.py). The live tables keep their
identity, so statements waiting on the lock go on into the rebuilt contents.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from registry.database import READ_MODEL_SCHEMA, create_read_model_tables
from registry.eventstore import read_all

from . import inline_projector

CHUNK = 5000
Progress = Callable[[int, int], None]  # (position reached, head)


@dataclass(frozen=True)
class RebuildResult:
    schema: str
    events: int
    seconds: float
    differences: list[str]  # tables whose rows differ from the live ones (compare mode)


async def _replay(conn: asyncpg.Connection, schema: str, after: int, until: int | None,
                  progress: Progress | None, head: int) -> tuple[int, int]:
    projector = inline_projector()
    position, count = after, 0
    while True:
        events = await read_all(conn, after_position=position, until_position=until, limit=CHUNK)
        if not events:
            return position, count
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {schema}, public")
            await projector.apply(conn, events)
        position, count = events[-1].position, count + len(events)
        if progress is not None:
            progress(position, max(head, position))


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
        head = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
        if progress is not None:
            progress(0, head)
        position, count = await _replay(conn, schema, 0, head, progress, head)
        async with conn.transaction():
            # Appends wait from here to commit. Same order as a locked writer (advisory lock,
            # then events), so the two cannot deadlock; reads go on.
            locked = await conn.fetchrow("SELECT * FROM modelog_lock_head()")
            await conn.execute("LOCK TABLE public.events IN EXCLUSIVE MODE")
            final = await conn.fetchval("SELECT coalesce(max(position), 0) FROM public.events")
            assert final >= (locked["head_position"] or 0)
            _, more = await _replay(conn, schema, position, final, progress, final)
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
