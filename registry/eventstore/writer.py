"""The batching writer: every append of this process goes through one task.

Concurrent jobs are gathered into one batch, decided one after the other against an in-memory
write model, and written as ONE statement: the events and every inline read model they change.

The writer numbers positions itself, from the head it knows. The primary key on `position` is
the arbiter: if anyone else has appended meanwhile, the batch's first position already exists
and the whole statement fails, appending nothing. So in the usual case (one process writing) a
batch is a single autocommitted statement, with no lock and no extra round trip, and positions
stay gap-free and become visible in order: nobody can append past a position they have not seen.

When the writer does not know the head (at start, after a failure) or finds it moved (another
process wrote), it decides the batch again under the log's writer lock (`modelog_lock_head()`,
in a transaction), catching up on the events it missed, and keeps locking for a while, as
another writer is evidently about.

A job that raises a `DomainError` appends nothing and does not disturb the others. Any other
failure (a projection error, a lost connection) aborts the batch; the writer then forgets its
in-memory state and runs each job again on its own, so one bad job fails alone. No job is
answered before its batch commits: every answer, refusals included, was decided against state
that the commit makes true.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import asyncpg
import structlog

from registry.domain.errors import Conflict, DomainError
from registry.eventstore.database import HeldConnection
from registry.eventstore.reads import (
    head_position,
    idempotent_events,
    read_all,
    read_stream,
    stream_version,
)
from registry.eventstore.records import GENESIS_HASH, NewEvent, RecordedEvent, sealed
from registry.eventstore.statements import Group, execute, insert

log = structlog.get_logger(__name__)
T = TypeVar("T")

# An entry of the version cache (stream id -> version), estimated in bytes.
VERSION_CACHE_ENTRY_BYTES = 150
# Past this many events written by other processes, reloading beats replaying them one by one.
_CATCH_UP_LIMIT = 10_000
# After finding another writer's events, decide under the lock for this long.
_LOCKED_SECONDS = 5.0
# Attempts of a batch under the lock before its jobs are retried one by one.
_LOCKED_ATTEMPTS = 5
_LOG_KEYS = frozenset({"events_pkey", "events_stream_id_stream_version_key"})

# The batch's events, as the first part of the one statement that also writes the read models.
_EVENTS = insert("events", {
    "position": "bigint", "stream_id": "text", "stream_version": "int", "type": "text",
    "schema_version": "smallint", "data": "jsonb", "metadata": "jsonb",
    "recorded_at": "timestamptz", "prev_hash": "bytea", "hash": "bytea"})


class _HeadMoved(Exception):
    """The batch was decided on a head that is no longer the log's: it appended nothing."""

    def __init__(self, *, observed: bool) -> None:
        super().__init__()
        # Whether the write model saw the batch's events: only then must it be thrown away. A
        # batch that decided nothing (refusals, no-ops, a sync) leaves it merely behind, and the
        # catch-up under the lock brings it forward event by event.
        self.observed = observed


class WriterStopped(RuntimeError):
    """The writer is not running (shutting down, or never started): nothing was appended."""


class Projector(Protocol):
    """Inline projections: the statements that bring the read models up to `events`, run in
    the append's own statement."""

    def plan(self, events: Sequence[RecordedEvent]) -> list[Group]: ...


class WriteModel(Protocol):
    """Application state the writer keeps in step with the log (e.g. the domain's fold)."""

    async def load(self, conn: asyncpg.Connection) -> None:
        """(Re)build from the database; called under the writer lock."""

    def observe(self, events: Sequence[RecordedEvent]) -> None:
        """Fold in events: a job's own (before commit) or other processes' (caught up)."""

    def plan(self) -> list[Group]:
        """Rows to commit with the batch's events (e.g. snapshots of the state they reach)."""

    def reset(self) -> None:
        """Forget everything: a batch failed, so observed events may never have committed."""

    def committed(self) -> None:
        """A batch committed: nothing observed is pending now (caches may shed what they hold)."""


@dataclass
class Tx:
    """What a job sees: the open batch transaction, under the writer lock."""

    conn: asyncpg.Connection
    now: datetime  # the batch's recorded_at
    head_position: int
    head_hash: bytes
    _versions: dict[str, int]  # the writer's cache of committed stream versions
    pending: list[RecordedEvent] = field(default_factory=list)
    _pending_versions: dict[str, int] = field(default_factory=dict)

    async def version(self, stream_id: str) -> int:
        if stream_id in self._pending_versions:
            return self._pending_versions[stream_id]
        if stream_id not in self._versions:
            self._versions[stream_id] = await stream_version(self.conn, stream_id)
        return self._versions[stream_id]

    async def earlier(self, actor: str, idempotency_key: str, command: str
                      ) -> list[RecordedEvent]:
        """The events `command`, sent by `actor` under this idempotency key, appended before,
        in this batch or committed; none if it never did."""
        pending = [e for e in self.pending if e.metadata.get("actor") == actor
                   and e.metadata.get("idempotency_key") == idempotency_key
                   and e.metadata.get("command") == command]
        return pending or await idempotent_events(self.conn, actor, idempotency_key, command)

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        """The stream's events, including those appended earlier in this batch."""
        stored = await read_stream(self.conn, stream_id)
        return stored + [e for e in self.pending if e.stream_id == stream_id]

    async def append(
        self, stream_id: str, expected_version: int | None, events: Sequence[NewEvent],
        metadata: dict[str, Any],
    ) -> list[RecordedEvent]:
        current = await self.version(stream_id)
        if expected_version is not None and expected_version != current:
            raise Conflict(
                f"stream {stream_id} is at version {current}, not {expected_version}",
                stream=stream_id, expected_version=expected_version, actual_version=current,
            )
        recorded = []
        for i, new in enumerate(events, start=1):
            event = sealed(RecordedEvent(
                position=self.head_position + 1, stream_id=stream_id,
                stream_version=current + i, type=new.type, schema_version=new.schema_version,
                data=new.data, metadata=metadata, recorded_at=self.now,
                prev_hash=self.head_hash, hash=b"", event=new.event,
            ))
            self.head_position, self.head_hash = event.position, event.hash
            recorded.append(event)
        if recorded:
            self._pending_versions[stream_id] = current + len(recorded)
            self.pending.extend(recorded)
        return recorded

    def _mark(self) -> tuple[int, int, bytes, dict[str, int]]:
        return len(self.pending), self.head_position, self.head_hash, dict(self._pending_versions)

    def _rollback_to(self, mark: tuple[int, int, bytes, dict[str, int]]) -> None:
        size, self.head_position, self.head_hash, self._pending_versions = mark
        del self.pending[size:]


Job = Callable[[Tx], Awaitable[T]]


@dataclass(eq=False)
class _Item:
    job: Job
    future: asyncio.Future


class Writer:
    def __init__(
        self, pool: asyncpg.Pool, projector: Projector | None, write_model: WriteModel | None,
        *, max_batch: int = 512, always_locked: bool = False, version_cache: int = 32 << 20,
    ) -> None:
        self.pool = pool
        # Known to share the log with other writers (e.g. `serve --workers`): take the lock for
        # every batch rather than find out by colliding.
        self.always_locked = always_locked
        self.projector = projector
        self.write_model = write_model
        self.max_batch = max_batch
        # Past this many streams (`version_cache` bytes) the version cache is dropped and
        # refilled on demand.
        self.max_versions = max(1_000, version_cache // VERSION_CACHE_ENTRY_BYTES)
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._versions: dict[str, int] = {}
        self._head: int | None = None  # None: unknown; the write model must be (re)loaded
        self._head_hash = GENESIS_HASH
        self._head_at: datetime | None = None
        self._locked_until = 0.0
        self._held = HeldConnection(pool)
        self.batches = 0
        self.committed = 0
        # Called with the new head and the batch's events after each commit that appended, before
        # any caller hears of it (read caches invalidate what those events changed).
        self.on_commit: list[Callable[[int, Sequence[RecordedEvent]], None]] = []
        # Called when the write model was reset and awaits its reload at the next batch.
        self.on_forget: list[Callable[[], None]] = []

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="modelog-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._held.release()
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(WriterStopped("the writer stopped"))

    @property
    def head(self) -> int | None:
        """The log position the write model is in step with (None: unknown until the next batch)."""
        return self._head

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def submit(self, job: Job[T]) -> T:
        if not self.running:
            raise WriterStopped("the writer is not running")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(job, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [item for item in batch if not item.future.done()]
            if not batch:
                continue
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                for item in batch:  # stopped mid-batch: it rolled back, so say so
                    _fail(item, WriterStopped("the writer stopped; nothing was appended"))
                raise
            except Exception as exc:
                self._forget()
                await self._held.release()  # it may be broken; the next batch takes a fresh one
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    continue
                log.warning("write batch failed; retrying its jobs one by one",
                            size=len(batch), error=repr(exc))
                for item in batch:
                    if item.future.done():
                        continue
                    try:
                        await self._write_batch([item])
                    except Exception as single_exc:
                        self._forget()
                        await self._held.release()
                        _fail(item, single_exc)

    def _forget(self) -> None:
        self._versions.clear()
        self._head = None
        if self.write_model is not None:
            self.write_model.reset()
            for hook in self.on_forget:
                hook()

    async def _write_batch(self, batch: list[_Item]) -> None:
        locked = self.always_locked or self._head is None \
            or time.monotonic() < self._locked_until
        for _ in range(_LOCKED_ATTEMPTS):
            try:
                return await self._commit(batch, locked=locked)
            except _HeadMoved as moved:
                # Someone else appended: what we observed was decided on an old head.
                if moved.observed:
                    self._forget()
                self._locked_until = time.monotonic() + _LOCKED_SECONDS
                locked = True
        raise Conflict("other writers kept appending under this batch; retry")

    async def _commit(self, batch: list[_Item], *, locked: bool) -> None:
        conn = await self._held.get()
        if locked:
            async with conn.transaction():
                head = await conn.fetchrow("SELECT * FROM modelog_lock_head()")
                await self._catch_up(conn, head)
                tx, done, refused = await self._decide(conn, batch)
                await self._append(conn, tx)
        else:
            tx, done, refused = await self._decide(conn, batch)
            if tx.pending:
                await self._append(conn, tx)  # autocommit: one statement, one transaction
            elif await head_position(conn) != self._head:
                # Nothing written put the head to the test: refusals and no-ops were decided on
                # it all the same.
                raise _HeadMoved(observed=False)
        # Committed.
        self._head, self._head_hash, self._head_at = tx.head_position, tx.head_hash, tx.now
        if len(self._versions) > self.max_versions:
            self._versions.clear()
        self._versions.update(tx._pending_versions)
        self.batches += 1
        self.committed += len(tx.pending)
        if tx.pending:
            for hook in self.on_commit:
                hook(tx.head_position, tx.pending)
        if self.write_model is not None:
            self.write_model.committed()
        for item, result in done:
            if not item.future.done():
                item.future.set_result(result)
        for item, exc in refused:
            _fail(item, exc)

    async def _decide(
        self, conn: asyncpg.Connection, batch: list[_Item]
    ) -> tuple[Tx, list[tuple[_Item, Any]], list[tuple[_Item, DomainError]]]:
        assert self._head is not None
        now = datetime.now(UTC)
        if self._head_at is not None and self._head_at > now:
            now = self._head_at  # the clock stepped back: never go behind the log
        tx = Tx(conn, now, self._head, self._head_hash, self._versions)
        done: list[tuple[_Item, Any]] = []
        refused: list[tuple[_Item, DomainError]] = []
        for item in batch:
            mark = tx._mark()
            try:
                result = await item.job(tx)
            except DomainError as exc:
                tx._rollback_to(mark)
                # Answered only once the batch commits: it was decided against state that
                # includes earlier jobs of this batch, which a failed commit would undo.
                refused.append((item, exc))
                continue
            if self.write_model is not None and len(tx.pending) > mark[0]:
                self.write_model.observe(tx.pending[mark[0]:])
            done.append((item, result))
        return tx, done, refused

    async def _append(self, conn: asyncpg.Connection, tx: Tx) -> None:
        """The batch's events and their read-model changes, in one statement."""
        if not tx.pending:
            return
        events = Group(_EVENTS)
        for e in tx.pending:
            events.add((e.position, e.stream_id, e.stream_version, e.type, e.schema_version,
                        e.data, e.metadata, e.recorded_at, e.prev_hash, e.hash))
        planned = self.projector.plan(tx.pending) if self.projector is not None else []
        if self.write_model is not None:
            planned += self.write_model.plan()
        try:
            await execute(conn, [events, *planned])
        except asyncpg.DeadlockDetectedError as exc:
            # Another process's batch took read-model rows in another order, and PostgreSQL
            # aborted this statement whole: nothing was appended, so decide again, under the lock.
            raise _HeadMoved(observed=True) from exc
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name in _LOG_KEYS:
                raise _HeadMoved(observed=True) from exc
            if not conn.is_in_transaction() and await head_position(conn) != self._head:
                # Decided on a head another process has moved since: a read model's key (e.g.
                # the schema both created) can clash before the log's own key says so.
                raise _HeadMoved(observed=True) from exc
            raise

    async def _catch_up(self, conn: asyncpg.Connection, row: asyncpg.Record) -> None:
        """Bring the in-memory state to the committed head seen under the lock."""
        head = row["head_position"] or 0
        self._head_hash = row["head_hash"] or GENESIS_HASH
        self._head_at = row["head_recorded_at"]
        if self._head == head:
            return
        if self._head is not None and head - self._head <= _CATCH_UP_LIMIT:
            foreign = await read_all(conn, after_position=self._head, limit=_CATCH_UP_LIMIT)
            for event in foreign:
                if event.stream_id in self._versions:
                    self._versions[event.stream_id] = event.stream_version
            if self.write_model is not None:
                self.write_model.observe(foreign)
        else:
            self._versions.clear()
            if self.write_model is not None:
                self.write_model.reset()
                await self.write_model.load(conn)
        self._head = head


def _fail(item: _Item, exc: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(exc)
