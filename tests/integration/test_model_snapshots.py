"""Snapshots on PostgreSQL: written with the events that reach a snapshot point, and a model
restored from one (and its versions from their own events) equals the fold of its whole stream,
at every point of its history and in a writer that starts afresh."""

import asyncio
import random

import pytest

from registry import bootstrap
from registry.domain import NotFound, snapshots
from registry.domain import commands as c
from registry.domain import models as m
from registry.eventstore import model_folds as folds
from registry.eventstore import read_stream
from registry.eventstore.domain_events import domain_event, stamp
from registry.reads import as_of

NAME = "unity.default.long"


def fold_model(events: list) -> m.Model | None:
    """The whole fold, from the stream's first event: the truth snapshots are held to."""
    state = None
    for e in events:
        state = m.evolve(state, domain_event(e), stamp(e))
    return state


async def _long_history(service, pool) -> list[int]:
    """A model past several snapshot points, with every kind of version event along the way."""
    await service.execute(c.CreateModel(full_name=NAME), "alice")
    rng = random.Random(7)

    async def attempt(cmd: c.Command) -> None:
        try:
            await service.execute(cmd, "bob")
        except NotFound:
            pass  # a version deleted in an earlier round

    for round_ in range(3):
        await asyncio.gather(*(service.execute(c.RegisterVersion(
            full_name=NAME, source=f"s3://b/{round_}/{i}", ready=True), "alice")
            for i in range(60)))
        top = (round_ + 1) * 60
        for n in rng.sample(range(1, top + 1), 12):
            await attempt(c.SetVersionTag(full_name=NAME, version=n, key="k", value=str(round_)))
        for n, stage in zip(rng.sample(range(1, top + 1), 4), ["Staging", "Production"] * 2,
                            strict=True):
            await attempt(c.TransitionStage(full_name=NAME, version=n, stage=stage,
                                            archive_existing_versions=True))
        await attempt(c.SetAlias(full_name=NAME, alias="champion", version=top - 3))
        for n in rng.sample(range(1, top - 5), 3):
            await attempt(c.DeleteVersion(full_name=NAME, version=n))
    stream = m.stream_id(service.write_model.state.model_ids[NAME])
    return [e.position for e in await read_stream(pool, stream)]


async def test_snapshots_are_written_at_their_points(service, pool) -> None:
    positions = await _long_history(service, pool)
    model_id = service.write_model.state.model_ids[NAME]
    rows = await pool.fetch("SELECT stream_version, position FROM model_snapshots "
                            "WHERE stream_id = $1 ORDER BY position", m.stream_id(model_id))
    assert len(positions) > 2 * snapshots.EVERY
    # One at each point, taken as its event was folded in, though batches span several points.
    assert [r["stream_version"] for r in rows] == list(
        range(snapshots.EVERY, len(positions) + 1, snapshots.EVERY))
    for r in rows:
        assert positions[r["stream_version"] - 1] == r["position"]


async def test_a_restored_model_equals_the_whole_fold_at_every_point(service, pool) -> None:
    await _long_history(service, pool)
    stream = m.stream_id(service.write_model.state.model_ids[NAME])
    events = await read_stream(pool, stream)
    points = sorted({e.position for e in events[::23]} | {events[-1].position}
                    | {r["position"] + d for r in await pool.fetch(
                        "SELECT position FROM model_snapshots WHERE stream_id = $1", stream)
                       for d in (-1, 0, 1)})
    first = min(r["position"] for r in await pool.fetch(
        "SELECT position FROM model_snapshots WHERE stream_id = $1", stream))
    for point in points:
        whole = fold_model([e for e in events if e.position <= point])
        restored = (await folds.restore(pool, stream, point)).model
        assert restored is not None and whole is not None
        assert restored.partial == (point >= first)  # from a snapshot once there is one
        assert m.Model.shell(restored) == m.Model.shell(whole), point
        listed = await as_of.versions_at(pool, restored, point, None, 10_000)
        assert listed == [whole.versions[n] for n in sorted(whole.versions)], point
        for n in (1, 2, whole.next_version - 1, whole.next_version):
            assert await as_of.version_at(pool, restored, n, point) == whole.versions.get(n)


async def test_a_fresh_writer_decides_on_old_versions_from_their_own_events(service, pool) -> None:
    await _long_history(service, pool)
    stream = m.stream_id(service.write_model.state.model_ids[NAME])
    whole = fold_model(await read_stream(pool, stream))
    assert whole is not None
    deleted = next(n for n in range(1, whole.next_version) if n not in whole.versions)
    old = min(whole.versions)
    async with bootstrap.writing(pool) as fresh:
        await fresh.service.execute(c.SetVersionTag(full_name=NAME, version=old, key="late",
                                                    value="yes"), "carol")
        loaded = fresh.write_model.model(stream)
        assert loaded is not None and loaded.partial  # restored, not folded from the start
        assert loaded.versions[old].tags["late"] == "yes"
        with pytest.raises(NotFound):
            await fresh.service.execute(c.SetAlias(full_name=NAME, alias="x", version=deleted),
                                        "carol")
        with pytest.raises(Exception, match=f"has {whole.live_versions} version"):
            await fresh.service.execute(c.DeleteModel(full_name=NAME), "carol")
    after = fold_model(await read_stream(pool, stream))
    assert after is not None and after.versions[old].tags["late"] == "yes"


async def test_a_snapshot_of_another_shape_is_not_used(service, pool) -> None:
    await service.execute(c.CreateModel(full_name=NAME, description="real"), "alice")
    stream = m.stream_id(service.write_model.state.model_ids[NAME])
    head = (await read_stream(pool, stream))[-1]
    forged = snapshots.encode(service.write_model.model(stream).shell(), None) | {
        "description": "forged"}
    await pool.execute("INSERT INTO model_snapshots VALUES ($1, $2, $3, $4, $5)", stream,
                       head.position, head.stream_version, snapshots.SCHEMA_VERSION + 1, forged)
    restored = await folds.restore(pool, stream)
    assert restored.model is not None and restored.model.description == "real"


async def test_a_repeated_registration_answers_with_its_version_after_a_restart(service,
                                                                             pool) -> None:
    await service.execute(c.CreateModel(full_name=NAME), "alice")
    register = c.RegisterVersion(full_name=NAME, source="s3://b/once", ready=True)
    first = await service.execute(register, "alice", idempotency_key="once")
    await asyncio.gather(*(service.execute(c.RegisterVersion(
        full_name=NAME, source="s3://b/more", ready=True), "alice")
        for _ in range(snapshots.EVERY)))
    async with bootstrap.writing(pool) as fresh:  # the model is restored from a snapshot
        again = await fresh.service.execute(register, "alice", idempotency_key="once")
        assert again.version == first.version == 1
        assert again.model is not None and again.model.partial
        assert again.model.versions[again.version].source == "s3://b/once"
