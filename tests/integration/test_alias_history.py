"""The `alias_history` catch-up projection on PostgreSQL: checkpoints that survive failures, and
answers equal to a fold of the log at any instant (a hypothesis property)."""

import asyncio
import os
from collections.abc import Sequence
from dataclasses import astuple

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import projections
from projections.alias_history import AliasHistory, plan
from projections.catch_up import catch_up, check, checkpoint, rebuild, step
from registry.domain import DomainError
from registry.domain import commands as c
from registry.eventstore import EventStore, RecordedEvent, head_position, read_all
from registry.eventstore.database import create_pool
from registry.reads import as_of
from registry.reads.timeline import alias_at
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel
from tests.support.history import make_history
from tests.support.pg import with_database


class Flaky:
    """alias_history that fails once, after writing, on its `fail_on`-th chunk."""

    def __init__(self, fail_on: int) -> None:
        self.inner, self.calls, self.fail_on = AliasHistory(), 0, fail_on
        self.name, self.tables = self.inner.name, self.inner.tables

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        self.calls += 1
        await self.inner.apply(conn, events)
        if self.calls == self.fail_on:
            raise RuntimeError("crash after writing, before the checkpoint")

    async def reset(self, conn: asyncpg.Connection) -> None:
        await self.inner.reset(conn)


async def test_a_failed_step_applies_nothing_and_the_next_resumes_exactly(
        service: RegistryService, pool: asyncpg.Pool) -> None:
    await make_history(service)
    flaky = Flaky(fail_on=3)
    async with pool.acquire() as conn:
        for _ in range(2):
            await step(conn, flaky, 7)
        before = await checkpoint(pool, flaky.name)
        rows = await pool.fetchval("SELECT count(*) FROM alias_history")
        with pytest.raises(RuntimeError):
            await step(conn, flaky, 7)
    assert await checkpoint(pool, flaky.name) == before == 14
    assert await pool.fetchval("SELECT count(*) FROM alias_history") == rows
    await catch_up(pool, flaky, chunk=5)
    head = await head_position(pool)
    assert await checkpoint(pool, flaky.name) == head
    assert await check(pool, AliasHistory()) == (head, [])
    # A drifted row is noticed by the check, and a rebuild repairs it.
    await pool.execute("UPDATE alias_history SET set_by = 'mallory' WHERE version = 3")
    assert (await check(pool, AliasHistory()))[1] == ["alias_history"]
    seen: list[tuple[int, int]] = []
    caught = await rebuild(pool, AliasHistory(), chunk=50, progress=lambda p, h: seen.append((p, h)))
    assert caught.events == head and seen[-1] == (head, head)
    assert await check(pool, AliasHistory()) == (head, [])


# --- the property: the projection answers as a fold of the log does, at any instant ----------

ALIASES = ("champion", "challenger")
STAGES = ("None", "Staging", "Production", "Archived")
NAME = "unity.default.prop"

ops = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from(ALIASES), st.integers(1, 4)),
    st.tuples(st.just("set"), st.sampled_from(ALIASES), st.integers(1, 4)),
    st.tuples(st.just("unset"), st.sampled_from(ALIASES)),
    st.tuples(st.just("stage"), st.integers(1, 4), st.sampled_from(STAGES), st.booleans()),
    st.tuples(st.just("stage"), st.integers(1, 4), st.sampled_from(STAGES), st.booleans()),
    st.tuples(st.just("delete_version"), st.integers(1, 4)),
    st.tuples(st.just("register")),
    st.tuples(st.just("recreate")),
), min_size=8, max_size=40)


def command(op: tuple) -> c.Command:
    match op:
        case ("register",):
            return c.RegisterVersion(full_name=NAME, source="s3://b/x")
        case ("set", alias, v):
            return c.SetAlias(full_name=NAME, alias=alias, version=v)
        case ("unset", alias):
            return c.DeleteAlias(full_name=NAME, alias=alias)
        case ("stage", v, stage, archive):
            return c.TransitionStage(full_name=NAME, version=v, stage=stage,
                                     archive_existing_versions=archive and stage == "Production")
        case ("delete_version", v):
            return c.DeleteVersion(full_name=NAME, version=v)
    raise AssertionError(op)


async def scenario(url: str, sequence: list[tuple], chunk: int, probes: list[int]) -> None:
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        wm = RegistryWriteModel()
        store = EventStore(pool, projections.inline_projector(), wm)
        await store.start()
        svc = RegistryService(store, wm)
        await svc.bootstrap()
        await svc.execute(c.CreateModel(full_name=NAME), "u0")
        for _ in range(3):
            await svc.execute(command(("register",)), "u0")
        for i, op in enumerate(sequence):
            actor = f"u{i % 3}"
            try:
                if op == ("recreate",):
                    await svc.execute(c.DeleteModel(full_name=NAME, force=True), actor)
                    await svc.execute(c.CreateModel(full_name=NAME), actor)
                    for _ in range(3):
                        await svc.execute(command(("register",)), actor)
                else:
                    await svc.execute(command(op), actor)
            except DomainError:
                pass
        await store.close()
        async with pool.acquire() as conn:  # in chunks of a random size: periods cross them
            while (await step(conn, AliasHistory(), chunk))[1]:
                pass
        # Chunked, the projection holds exactly the periods one pass over the whole log gives.
        rows = await pool.fetch("SELECT model_id::text, kind, lane, version, valid_from_position, "
                                "valid_from, set_by, valid_to_position, valid_to, ended_by "
                                "FROM alias_history")
        whole = plan(await read_all(pool, limit=10**6)).periods
        assert sorted(tuple(r) for r in rows) == sorted(astuple(p) for p in whole)
        head = await head_position(pool)
        events = await pool.fetch("SELECT position, recorded_at FROM events ORDER BY position")
        instants = [str(p % (head + 1)) for p in probes]
        instants += [events[p % len(events)]["recorded_at"].isoformat() for p in probes]
        for when in instants:
            position = await as_of.resolve(pool, when)
            model = await as_of.model_at(pool, NAME, position)
            for alias in ALIASES:
                period = await alias_at(pool, NAME, alias, position)
                expected = None if model is None else model.aliases.get(alias)
                assert (None if period is None else period.version) == expected, (when, alias)
            staged = await pool.fetch(
                "SELECT lane, version FROM alias_history WHERE kind = 'stage' AND model_id = "
                "(SELECT model_id FROM model_names WHERE full_name = $1 AND position <= $2 "
                " ORDER BY position DESC LIMIT 1) AND valid_from_position <= $2 "
                "AND (valid_to_position IS NULL OR valid_to_position > $2)", NAME, position)
            expected_stages = set() if model is None else {
                (mv.stage, n) for n, mv in model.versions.items() if mv.stage != "None"}
            assert {tuple(r) for r in staged} == expected_stages, when
    finally:
        await pool.close()


_examples = iter(range(10**6))


@settings(max_examples=int(os.environ.get("MODELOG_PROPERTY_EXAMPLES", "20")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=ops, chunk=st.integers(1, 12), probes=st.lists(st.integers(0, 10**6), min_size=1,
                                                                max_size=8))
def test_projection_equals_a_fold_at_random_instants(pg_url: str, template_db: str,
                                                     sequence: list[tuple], chunk: int,
                                                     probes: list[int]) -> None:
    name = f"modelog_prop_{os.getpid()}_{next(_examples)}"

    async def run() -> None:
        admin = await asyncpg.connect(pg_url)
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
        try:
            await scenario(with_database(pg_url, name), sequence, chunk, probes)
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.close()

    asyncio.run(run())
