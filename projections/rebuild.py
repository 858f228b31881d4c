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
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from projections import inline_projector
from projections.memory import MemoryTables, primary_keys
from registry.eventstore import RecordedEvent, read_all
from registry.eventstore.database import READ_MODEL_SCHEMA, create_read_model_tables, init_connection
from registry.eventstore.log_head import CHANNEL
from registry.eventstore.reads import read_for_projection

CHUNK = 50_000
Progress = Callable[[int, int], None]  # (position reached, head)


@dataclass(frozen=True)
class RebuildResult:
    schema: str
    events: int
    seconds: float
    differences: list[str]  # tables whose rows differ from the live ones (compare mode)


async def _fold(db: asyncpg.Pool | asyncpg.Connection, conn: asyncpg.Connection, schema: str,
                until: int, progress: Progress | None, part: int = 0, parts: int = 1) -> int:
    """Replay the log up to `until` (or the streams of one part of it) into the empty tables of
    `schema`: the statements run on tables in memory (projections/memory.py) while the next chunk
    is read on `db`, and the final rows are copied in. Returns the events applied."""
    projector = inline_projector()
    memory = MemoryTables(await primary_keys(conn, schema))
    count = 0

    def read(start: int) -> asyncio.Future[list[RecordedEvent]]:
        return asyncio.ensure_future(read_for_projection(
            db, after_position=start, until_position=until, limit=CHUNK, part=part, parts=parts))

    next_chunk = read(0)
    try:
        while events := await next_chunk:
            next_chunk = read(events[-1].position)
            memory.apply_all(projector.statements(events))
            count += len(events)
            if progress is not None:
                progress(count, until)
    finally:
        if not next_chunk.done():
            next_chunk.cancel()
            await asyncio.gather(next_chunk, return_exceptions=True)
    await memory.copy_to(conn, schema)
    return count


def _fold_part(dsn: str, schema: str, until: int, part: int, parts: int, done: Any) -> int:
    """One worker process's share of a parallel fold: the streams whose hash falls in `part`
    (a stream's events all land in one part, and its statements touch only its own rows)."""
    async def run() -> int:
        reader = await asyncpg.connect(dsn)
        writer = await asyncpg.connect(dsn)
        try:
            await init_connection(reader)
            await init_connection(writer)
            return await _fold(reader, writer, schema, until,
                               lambda n, _: done.put((part, n)), part, parts)
        finally:
            await reader.close()
            await writer.close()

    return asyncio.run(run())


async def _fold_in_parallel(dsn: str, schema: str, until: int, progress: Progress | None,
                            parts: int) -> int:
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")  # no forked copies of this process's loop
    with spawn.Manager() as manager, ProcessPoolExecutor(parts, mp_context=spawn) as pool:
        done = manager.Queue()
        workers = [loop.run_in_executor(pool, _fold_part, dsn, schema, until, k, parts, done)
                   for k in range(parts)]
        counts = dict.fromkeys(range(parts), 0)  # each worker's running count
        while not all(w.done() for w in workers):
            await asyncio.wait(workers, timeout=0.5)
            while not done.empty():
                part, n = done.get()
                counts[part] = n
            if progress is not None:
                progress(sum(counts.values()), until)
        return sum(await asyncio.gather(*workers))


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


async def rebuild(pool: asyncpg.Pool, *, swap: bool, progress: Progress | None = None,
                  dsn: str | None = None, workers: int = 2, parallel_from: int = 200_000
                  ) -> RebuildResult:
    """With `dsn`, a log of `parallel_from` events or more is folded by `workers` processes,
    each taking a share of the streams (the fold is bound by Python's CPU)."""
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
        if dsn is not None and head >= parallel_from and workers > 1:
            count = await _fold_in_parallel(dsn, schema, head, progress, workers)
        else:
            async with pool.acquire() as reader:
                count = await _fold(reader, conn, schema, head, progress)
        position = head
        names = ", ".join(f"{schema}.{t}" for t in await tables(conn, schema))
        await conn.execute(f"ANALYZE {names}")  # for the statements of the last stretch
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
                # Servers' read caches must drop what they hold of the old contents (on both
                # channels: processes of earlier versions listen on the first one's).
                await conn.execute("SELECT pg_notify($1, 'rebuild'), "
                                   "pg_notify('modelog_appended', 'rebuild')", CHANNEL)
            else:
                differences = await compare(conn, READ_MODEL_SCHEMA, schema)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return RebuildResult(schema, count, time.perf_counter() - started, differences)
