"""Catch-up projections: read models that follow the log behind the writers (reading what
projections use of each event: `read_for_projection`).

Each step locks the projection's checkpoint row, reads the events after it, applies them and moves
the checkpoint, all in one transaction: a crash or restart resumes exactly after the last step
that committed, and two processes following the same projection take turns instead of applying
an event twice. Positions become visible in commit order (see registry/eventstore/writer.py), so
reading "after the checkpoint" never skips an event that commits later.
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog

from registry.eventstore import RecordedEvent, head_position
from registry.eventstore.database import HeldConnection
from registry.eventstore.log_head import LogHead
from registry.eventstore.reads import read_for_projection

log = structlog.get_logger(__name__)
Progress = Callable[[int, int], None]  # (position reached, head)


class CatchUpProjection(Protocol):
    name: str
    tables: tuple[str, ...]

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None: ...

    async def reset(self, conn: asyncpg.Connection) -> None: ...


_LOCK = "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE"


async def _locked_checkpoint(conn: asyncpg.Connection, name: str) -> int:
    # The row exists after a projection's first step: lock it in one round trip, and create it
    # only when it is not there yet.
    position = await conn.fetchval(_LOCK, name)
    if position is None:
        await conn.execute("INSERT INTO projection_checkpoints (name) VALUES ($1) "
                           "ON CONFLICT (name) DO NOTHING", name)
        position = await conn.fetchval(_LOCK, name)
    return position


async def checkpoint(db: asyncpg.Pool | asyncpg.Connection, name: str) -> int:
    return await db.fetchval(
        "SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)", name)


async def step(conn: asyncpg.Connection, projection: CatchUpProjection, limit: int) -> tuple[int, int]:
    """Apply up to `limit` events after the checkpoint; returns (checkpoint now, events applied)."""
    async with conn.transaction():
        position = await _locked_checkpoint(conn, projection.name)
        events = await read_for_projection(conn, after_position=position, limit=limit)
        if not events:
            return position, 0
        await projection.apply(conn, events)
        position = events[-1].position
        await conn.execute("UPDATE projection_checkpoints SET position = $2, updated_at = now() "
                           "WHERE name = $1", projection.name, position)
    return position, len(events)


@dataclass(frozen=True)
class Caught:
    events: int
    position: int
    seconds: float


async def catch_up(pool: asyncpg.Pool, projection: CatchUpProjection, *, chunk: int = 5000,
                   progress: Progress | None = None) -> Caught:
    """Apply everything up to the head as it is now."""
    started, count = time.perf_counter(), 0
    head = await head_position(pool)
    async with pool.acquire() as conn:
        while True:
            position, n = await step(conn, projection, chunk)
            count += n
            if progress is not None:
                progress(position, max(head, position))
            if n < chunk or position >= head:
                return Caught(count, position, time.perf_counter() - started)


async def rebuild(pool: asyncpg.Pool, projection: CatchUpProjection, *, chunk: int = 5000,
                  progress: Progress | None = None) -> Caught:
    """Empty the projection and replay the log into it from the start. Readers that check the
    checkpoint (projections/alias_history.py) fall back to folding the log meanwhile."""
    async with pool.acquire() as conn, conn.transaction():
        await _locked_checkpoint(conn, projection.name)
        await projection.reset(conn)
        await conn.execute("UPDATE projection_checkpoints SET position = 0, updated_at = now() "
                           "WHERE name = $1", projection.name)
    return await catch_up(pool, projection, chunk=chunk, progress=progress)


async def check(pool: asyncpg.Pool, projection: CatchUpProjection, *, chunk: int = 5000,
                progress: Progress | None = None) -> tuple[int, list[str]]:
    """Replay the log up to the checkpoint into fresh tables aside and compare them with the
    projection's; changes nothing. Returns (checkpoint, tables that differ)."""
    from projections.rebuild import compare

    schema = f"catch_up_check_{int(time.time() * 1000)}"
    async with pool.acquire() as conn, conn.transaction():
        position = await _locked_checkpoint(conn, projection.name)  # followers wait meanwhile
        await conn.execute(f"CREATE SCHEMA {schema}")
        for table in projection.tables:
            await conn.execute(f"CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)")
        await conn.execute(f"SET LOCAL search_path TO {schema}, public")
        reached = 0
        while reached < position:
            events = await read_for_projection(conn, after_position=reached,
                                               until_position=position, limit=chunk)
            await projection.apply(conn, events)
            reached = events[-1].position
            if progress is not None:
                progress(reached, position)
        differences = await compare(conn, schema, "public", projection.tables)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return position, differences


class Follower:
    """Keeps one projection caught up in the background of a server.

    A step costs several round trips, more than the append it follows; under a stream of commits
    the follower steps at most once per `coalesce` seconds, each step taking every commit since
    the last, rather than once per commit (which would take the server's time from its requests).
    A commit after a quiet spell is still applied at once.

    The follower keeps one connection of the pool across its steps, as the writer does: a pool
    round trip per step would add the pool's reset (a query of its own) to every step. After a
    failure it hands the connection back, and the next step takes a fresh one."""

    def __init__(self, pool: asyncpg.Pool, projection: CatchUpProjection, head: LogHead,
                 chunk: int = 1000, idle_poll: float = 5.0, coalesce: float = 0.02) -> None:
        self.pool, self.projection, self.head = pool, projection, head
        self.chunk, self.idle_poll, self.coalesce = chunk, idle_poll, coalesce
        self.position = 0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._held = HeldConnection(pool)

    @property
    def lag(self) -> int:
        """Events the log holds that this projection has not applied yet."""
        return max(0, self.head.position - self.position)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self.position = await checkpoint(self.pool, self.projection.name)
        self._task = asyncio.create_task(self._run(), name=f"catch-up-{self.projection.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._held.release()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                stepped = time.monotonic()
                conn = await self._held.get()
                self.position, n = await step(conn, self.projection, self.chunk)
                backoff = 0.5
                if n < self.chunk:
                    await self.head.wait_past(self.position, self.idle_poll)
                    if (pause := stepped + self.coalesce - time.monotonic()) > 0:
                        await asyncio.sleep(pause)
            except Exception as exc:
                # Retry with backoff (the checkpoint is safe); a poison event shows as growing lag.
                self.failures += 1
                await self._held.release()  # it may be broken: the next step takes another
                log.warning("catch-up projection step failed; retrying",
                            projection=self.projection.name, error=repr(exc), retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
