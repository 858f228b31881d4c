"""The event store's contract, as base test classes: what every event store promises, on real
PostgreSQL, whatever its backend or writer mode. A subclass says how its stores are built:

    class TestMyStore(SharedLogContract):
        def build(self, pool, projector, write_model=None) -> EventStore:
            return MyStore(pool, projector, write_model)

and runs every test of its base against them. EventStoreContract holds one writer's properties;
SharedLogContract adds those of several writers on one log (as several server processes are).
tests/integration/test_eventstore_contract.py has a subclass per writer mode. Each property the
log promises has a test here that fails if the property breaks.
"""

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest

import projections
from registry.domain import Conflict
from registry.domain import commands as c
from registry.domain.errors import AlreadyExists
from registry.eventstore import (
    GENESIS_HASH,
    EventStore,
    NewEvent,
    Projector,
    RecordedEvent,
    WriteModel,
    chain_hash,
    read_all,
)
from registry.eventstore.database import create_pool
from registry.eventstore.statements import Group, insert
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel


def note(i: int) -> NewEvent:
    return NewEvent("NoteAdded", {"n": i})


async def head(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT coalesce(max(position), 0) FROM events")


def assert_log_sound(events: Sequence[RecordedEvent]) -> None:
    """Positions 1..N without gaps, hashes chained, recorded_at never decreasing, stream versions
    1..k per stream."""
    assert [e.position for e in events] == list(range(1, len(events) + 1))
    prev = GENESIS_HASH
    for e in events:
        assert e.prev_hash == prev
        assert e.hash == chain_hash(prev, e), f"hash mismatch at {e.position}"
        prev = e.hash
    assert all(a.recorded_at <= b.recorded_at for a, b in itertools.pairwise(events))
    versions: dict[str, list[int]] = {}
    for e in events:
        versions.setdefault(e.stream_id, []).append(e.stream_version)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), stream


# A read-model write the database refuses (catalogs.id is NOT NULL).
_BROKEN = insert("catalogs", {"name": "text"})


class FailingOn:
    """The real projections, except that a marked event makes the database refuse its write."""

    def __init__(self, marked: str = "boom") -> None:
        self.inner = projections.inline_projector()
        self.marked = marked

    def plan(self, events: Sequence[RecordedEvent]) -> list[Group]:
        groups = self.inner.plan(events)
        if any(e.data.get("boom") or e.data.get("description") == self.marked for e in events):
            broken = Group(_BROKEN)
            broken.add(("boom",))
            groups.append(broken)
        return groups


class EventStoreContract:
    """The tests every event store passes. Subclasses override `build`."""

    def build(self, pool: asyncpg.Pool, projector: Projector,
              write_model: WriteModel | None = None) -> EventStore:
        """A store on `pool`, not started, projecting with `projector` and deciding against
        `write_model` (None: appends only)."""
        raise NotImplementedError

    @pytest.fixture
    async def store(self, pool: asyncpg.Pool) -> AsyncIterator[EventStore]:
        s = self.build(pool, projections.inline_projector())
        await s.start()
        yield s
        await s.close()

    # --- append and read --------------------------------------------------------------------------

    async def test_append_and_read_back(self, store: EventStore, pool: asyncpg.Pool) -> None:
        first = await store.append("s:a", 0, [note(1), note(2)], {"actor": "alice"})
        assert [(e.stream_version, e.position) for e in first] == [(1, 1), (2, 2)]
        await store.append("s:b", 0, [note(3)], {"actor": "bob"})
        await store.append("s:a", 2, [note(4)], {"actor": "alice"})
        stream = await store.read_stream("s:a")
        assert [e.data["n"] for e in stream] == [1, 2, 4]
        assert [e.stream_version for e in stream] == [1, 2, 3]
        assert stream[0].metadata == {"actor": "alice"}
        everything = await store.read_all()
        assert [e.data["n"] for e in everything] == [1, 2, 3, 4]
        assert_log_sound(everything)
        assert [e.position for e in await store.read_all(after_position=2)] == [3, 4]

    async def test_stale_expected_version_appends_nothing(self, store: EventStore,
                                                          pool: asyncpg.Pool) -> None:
        await store.append("s:a", 0, [note(1)])
        before = await head(pool)
        for expected in (0, 2, 7):
            with pytest.raises(Conflict):
                await store.append("s:a", expected, [note(2), note(3)])
        assert await head(pool) == before
        assert [e.stream_version for e in await store.read_stream("s:a")] == [1]
        await store.append("s:a", None, [note(4)])  # None: no expectation
        assert [e.stream_version for e in await store.read_stream("s:a")] == [1, 2]

    async def test_concurrent_creators_of_one_stream_exactly_one_wins(self, store: EventStore) -> None:
        results = await asyncio.gather(*(store.append("s:race", 0, [note(i)]) for i in range(20)),
                                       return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1
        assert len(losers) == 19 and all(isinstance(e, Conflict) for e in losers)
        assert len(await store.read_stream("s:race")) == 1

    # --- 1. immutable -----------------------------------------------------------------------------

    @pytest.mark.parametrize("statement", [
        "UPDATE events SET data = '{\"n\": 666}' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
        "TRUNCATE events",
        "TRUNCATE events CASCADE",
    ])
    async def test_log_rejects_change_even_through_a_raw_connection(
        self, store: EventStore, db_url: str, statement: str
    ) -> None:
        await store.append("s:a", 0, [note(1), note(2)])
        conn = await asyncpg.connect(db_url)  # a superuser, bypassing all our code
        try:
            with pytest.raises(asyncpg.PostgresError, match="append-only"):
                await conn.execute(statement)
            rows = await conn.fetch("SELECT position, (data->>'n')::int AS n FROM events ORDER BY position")
        finally:
            await conn.close()
        assert [(r["position"], r["n"]) for r in rows] == [(1, 1), (2, 2)]

    # --- 2. optimistic concurrency ----------------------------------------------------------------

    async def test_32_concurrent_registrations_number_versions_1_to_32(
        self, pool: asyncpg.Pool
    ) -> None:
        wm = RegistryWriteModel()
        store = self.build(pool, projections.inline_projector(), wm)
        await store.start()
        try:
            service = RegistryService(store, wm)
            await service.bootstrap()
            await service.execute(c.CreateModel(full_name="unity.default.m"), "alice")
            outcomes = await asyncio.gather(*(
                service.execute(c.RegisterVersion(full_name="unity.default.m", source=f"s3://{i}"),
                                f"user{i}")
                for i in range(32)))
        finally:
            await store.close()
        assert sorted(o.events[0].data["version"] for o in outcomes) == list(range(1, 33))
        rows = await pool.fetch("SELECT version FROM model_versions ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, 33))
        assert_log_sound(await read_all(pool, limit=10_000))

    # --- 4. atomic with the inline projections ----------------------------------------------------

    async def test_projection_failure_rolls_back_the_append(self, pool: asyncpg.Pool) -> None:
        store = self.build(pool, FailingOn())
        await store.start()
        try:
            model_id = uuid.uuid4()
            created = NewEvent("ModelCreated", {
                "model_id": str(model_id), "catalog_name": "unity", "schema_name": "default",
                "name": "boom", "owner": "a"})
            boom_id = uuid.uuid4()
            boom = NewEvent("ModelCreated", {
                "model_id": str(boom_id), "catalog_name": "unity", "schema_name": "default",
                "name": "boom2", "owner": "a"})
            good, bad, other = await asyncio.gather(
                store.append(f"model:{model_id}", 0, [created]),
                store.append(f"model:{boom_id}", 0, [boom, NewEvent("NoteAdded", {"boom": True})]),
                store.append("s:other", 0, [note(1)]),
                return_exceptions=True)
        finally:
            await store.close()
        assert isinstance(bad, asyncpg.NotNullViolationError), bad
        assert not isinstance(good, BaseException) and not isinstance(other, BaseException)
        events = await read_all(pool)
        assert {e.stream_id for e in events} == {f"model:{model_id}", "s:other"}
        assert_log_sound(events)
        names = [r["name"] for r in await pool.fetch("SELECT name FROM registered_models")]
        assert names == ["boom"]  # the failed append's projection rows are gone with it

    async def test_a_refusal_is_decided_again_when_its_batch_fails(self, pool: asyncpg.Pool) -> None:
        """B's 'already exists' was decided against A's creation in the same batch; A's projection
        fails, the batch rolls back, so B must be decided again, and succeed."""
        wm = RegistryWriteModel()
        store = self.build(pool, FailingOn("explode"), wm)
        await store.start()
        try:
            service = RegistryService(store, wm)
            await service.bootstrap()
            a, b = await asyncio.gather(
                service.execute(c.CreateModel(full_name="unity.default.x", description="explode"), "a"),
                service.execute(c.CreateModel(full_name="unity.default.x"), "b"),
                return_exceptions=True)
        finally:
            await store.close()
        assert isinstance(a, asyncpg.NotNullViolationError), a
        assert not isinstance(b, BaseException), b
        assert await pool.fetchval("SELECT created_by FROM registered_models "
                                   "WHERE full_name = 'unity.default.x'") == "b"

    async def test_a_write_is_readable_from_the_read_model_once_append_returns(
        self, store: EventStore, pool: asyncpg.Pool
    ) -> None:
        model_id = uuid.uuid4()
        await store.append(f"model:{model_id}", 0, [NewEvent("ModelCreated", {
            "model_id": str(model_id), "catalog_name": "unity", "schema_name": "default",
            "name": "ryw", "owner": "a"})])
        assert await pool.fetchval("SELECT full_name FROM registered_models WHERE id = $1",
                                   model_id) == "unity.default.ryw"

    async def test_many_concurrent_appends_keep_the_log_sound(self, store: EventStore) -> None:
        await asyncio.gather(*(store.append(f"s:{i % 7}", None, [note(i), note(-i)])
                               for i in range(300)))
        events = await store.read_all(limit=10_000)
        assert len(events) == 600
        assert_log_sound(events)


class SharedLogContract(EventStoreContract):
    """EventStoreContract, and what several writers on one log promise: separate processes (two
    pools, two writers, two write models) number versions as one, a catch-up reader meets every
    event in order, and a writer that decided on a stale head decides again."""

    # --- 2. optimistic concurrency, across processes ----------------------------------------------

    async def test_writers_in_separate_processes_share_one_model(self, db_url: str) -> None:
        """Two servers on one database (two pools, two writers, two in-memory states): each sees
        the other's writes before deciding, so numbers still never skip or repeat."""
        pools = [await create_pool(db_url, min_size=1, max_size=4) for _ in range(2)]
        services, stores = [], []
        for p in pools:
            wm = RegistryWriteModel()
            s = self.build(p, projections.inline_projector(), wm)
            await s.start()
            stores.append(s)
            services.append(RegistryService(s, wm))
        try:
            await services[0].bootstrap()
            await services[1].bootstrap()  # already there: AlreadyExists is swallowed
            await services[1].execute(c.CreateModel(full_name="unity.default.shared"), "a")
            outcomes = await asyncio.gather(*(
                services[i % 2].execute(
                    c.RegisterVersion(full_name="unity.default.shared", source=f"s{i}"), "b")
                for i in range(40)))
            numbers = sorted(o.events[0].data["version"] for o in outcomes)
            assert numbers == list(range(1, 41))
            await services[0].execute(c.SetAlias(full_name="unity.default.shared", alias="champion",
                                                 version=40), "c")
            # The other process moves it: it must know v40 is champion and record it as previous.
            moved = await services[1].execute(
                c.SetAlias(full_name="unity.default.shared", alias="champion", version=39), "d")
            assert moved.events[0].data["previous_version"] == 40
        finally:
            for s in stores:
                await s.close()
            for p in pools:
                await p.close()

    # --- 3. a total order readers can trust -------------------------------------------------------

    async def test_catch_up_reader_never_meets_an_event_behind_it(self, db_url: str) -> None:
        """Several writers (separate pools, as separate processes would be) append at once while a
        reader polls 'after P'. Every poll must continue exactly at P+1 with no holes: an event
        becoming visible behind the reader would show up as a gap it skipped."""
        pools = [await create_pool(db_url, min_size=1, max_size=8) for _ in range(3)]
        stores = [self.build(p, projections.inline_projector()) for p in pools]
        for s in stores:
            await s.start()
        reader_pool = await create_pool(db_url, min_size=1, max_size=1)
        done = asyncio.Event()
        seen: list[int] = []

        async def writer(store: EventStore, w: int) -> None:
            for k in range(40):
                await asyncio.gather(*(store.append(f"s:{w}-{k}-{j}", 0, [note(j)]) for j in range(3)))

        async def reader() -> None:
            position = 0
            while True:
                finished = done.is_set()
                batch = await read_all(reader_pool, after_position=position, limit=500)
                for e in batch:
                    assert e.position == position + 1, f"after {position} the reader met {e.position}"
                    position = e.position
                    seen.append(position)
                if finished and not batch:
                    return
                await asyncio.sleep(0)

        try:
            reading = asyncio.create_task(reader())
            await asyncio.gather(*(writer(s, w) for w, s in enumerate(stores * 2)))
            done.set()
            await reading
        finally:
            for s in stores:
                await s.close()
            for p in [*pools, reader_pool]:
                await p.close()
        assert seen == list(range(1, 6 * 40 * 3 + 1))

    # --- 4. atomic with the inline projections, across writers ------------------------------------

    async def test_a_stale_writer_clashing_in_a_read_model_decides_again(self, pool: asyncpg.Pool) -> None:
        """Two writers on one log. B decides `CreateSchema` on a head A has moved past by creating the
        same schema: whichever key the statement trips first (the log's position, or the read model
        `schemas`), B decides again under the lock and is told the schema exists."""
        services = []
        for _ in range(2):
            wm = RegistryWriteModel()
            store = self.build(pool, projections.inline_projector(), wm)
            await store.start()
            services.append(RegistryService(store, wm))
        a, b = services
        try:
            await a.bootstrap()
            await b.execute(c.CreateCatalog(name="b"), "admin")  # b knows the head, and writes unlocked
            await a.execute(c.CreateSchema(catalog_name="unity", name="s"), "admin")
            with pytest.raises(AlreadyExists):
                await b.execute(c.CreateSchema(catalog_name="unity", name="s"), "admin")
            await b.execute(c.CreateSchema(catalog_name="unity", name="t"), "admin")  # still writing
        finally:
            for s in services:
                await s.store.close()
