"""Rebuild: replay the whole log into fresh read-model tables, then compare them with the live
ones, or swap them in.

The replay runs in chunks outside the writer lock; only the last stretch (events appended while
it ran) and the swap happen under the lock, so writers wait for a moment, not for the replay.
"""

import time
from collections.abc import Callable
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


async def compare(conn: asyncpg.Connection, a: str, b: str) -> list[str]:
    """Tables whose contents differ between schemas `a` and `b` (as multisets of rows)."""
    differing = []
    names_a, names_b = await tables(conn, a), await tables(conn, b)
    for name in sorted(set(names_a) | set(names_b)):
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
            # Under the writer lock: nothing can be appended until the new tables are complete.
            locked = await conn.fetchrow("SELECT * FROM modelog_lock_head()")
            final = locked["head_position"] or 0
            _, more = await _replay(conn, schema, position, final, progress, final)
            count += more
            differences: list[str] = []
            if swap:
                old = f"{READ_MODEL_SCHEMA}_old_{int(time.time() * 1000)}"
                await conn.execute(f"ALTER SCHEMA {READ_MODEL_SCHEMA} RENAME TO {old}")
                await conn.execute(f"ALTER SCHEMA {schema} RENAME TO {READ_MODEL_SCHEMA}")
                await conn.execute(f"DROP SCHEMA {old} CASCADE")
            else:
                differences = await compare(conn, READ_MODEL_SCHEMA, schema)
        if not swap:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return RebuildResult(schema, count, time.perf_counter() - started, differences)
