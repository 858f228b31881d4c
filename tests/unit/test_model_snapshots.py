"""A model restored from a snapshot decides and folds as the model folded from its first event:
random histories are cut at a random event, the snapshot taken there goes through its JSON, and
from then on both are driven with the same commands. Pure: no database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from immutables import Map

from registry.domain import DomainError, Stamp, snapshots
from registry.domain import commands as c
from registry.domain import models as m
from registry.domain.events import Event
from registry.domain.privileges import Acl

NAME = "prod.fraud.scorer"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
numbers = st.integers(1, 9)
stages = st.sampled_from(["None", "Staging", "Production", "Archived"])
commands = st.one_of(
    st.builds(lambda: c.RegisterVersion(full_name=NAME, source="s3://b/m")),
    st.builds(lambda n: c.FinalizeVersion(full_name=NAME, version=n, status="READY"), numbers),
    st.builds(lambda n, k, v: c.SetVersionTag(full_name=NAME, version=n, key=k, value=v),
              numbers, st.sampled_from("ab"), st.sampled_from("xy")),
    st.builds(lambda n, k: c.DeleteVersionTag(full_name=NAME, version=n, key=k),
              numbers, st.sampled_from("ab")),
    st.builds(lambda n, s, a: c.TransitionStage(full_name=NAME, version=n, stage=s,
                                                archive_existing_versions=a),
              numbers, stages, st.booleans()),
    st.builds(lambda n, s: c.RequestTransition(full_name=NAME, version=n, stage=s),
              numbers, stages),
    st.builds(lambda n, s: c.ApproveTransition(full_name=NAME, version=n, stage=s),
              numbers, stages),
    st.builds(lambda n, a: c.SetAlias(full_name=NAME, alias=a, version=n),
              numbers, st.sampled_from(["champion", "challenger"])),
    st.builds(lambda a: c.DeleteAlias(full_name=NAME, alias=a),
              st.sampled_from(["champion", "challenger"])),
    st.builds(lambda n: c.DeleteVersion(full_name=NAME, version=n), numbers),
    st.builds(lambda n, d: c.UpdateVersionDescription(full_name=NAME, version=n, description=d),
              numbers, st.sampled_from(["new", None])),
    st.builds(lambda k, v: c.SetModelTag(full_name=NAME, key=k, value=v),
              st.sampled_from("ab"), st.sampled_from("xy")),
    st.builds(lambda: c.DeleteModel(full_name=NAME)),
)


def _created() -> tuple[Event, Stamp]:
    event = m.decide(c.CreateModel(full_name=NAME, model_id=uuid4()), None, "alice",
                     m.Placement(schema_exists=True, name_taken=False))[0]
    return event, Stamp(at=T0, actor="alice")


def _load(history: list[tuple[Event, Stamp]], number: int) -> m.ModelVersion | None:
    """Version `number` from the events that name it, as the shell loads it."""
    mv = None
    for event, stamp in history:
        if getattr(event, "version", None) == number:
            mv = m.evolve_version(mv, event, stamp)
    return mv


def _decide(cmd: c.ModelCommand, state: m.Model) -> list[Event] | type[DomainError]:
    try:
        return m.decide(cmd, state, "bob")
    except DomainError as exc:
        return type(exc)


def _shell(model: m.Model) -> m.Model:
    return replace(model, versions=Map(), partial=False, gone=frozenset())


@settings(max_examples=300, deadline=None)
@given(before=st.lists(commands, max_size=40), after=st.lists(commands, max_size=40))
def test_a_snapshot_decides_and_folds_as_the_whole_history(before, after) -> None:
    history = [_created()]
    full = m.evolve(None, *history[0])

    def run(cmd: c.ModelCommand) -> list[Event] | type[DomainError]:
        nonlocal full
        decided = _decide(cmd, full)
        if not isinstance(decided, type):
            for event in decided:
                stamp = Stamp(at=T0 + timedelta(seconds=len(history)), actor="bob")
                history.append((event, stamp))
                full = m.evolve(full, event, stamp)
        return decided

    for cmd in before:
        run(cmd)
    acl = Acl("alice")
    model, restored_acl = snapshots.decode(snapshots.encode(full.shell(), acl))
    assert restored_acl == acl and model.partial and not model.versions
    for cmd in after:
        number = m.needs(cmd)
        if number is not None and not model.holds(number):
            model = model.holding(number, _load(history, number))
        decided = _decide(cmd, model)
        assert decided == run(cmd), cmd
        if not isinstance(decided, type):
            for event, stamp in history[len(history) - len(decided):]:
                model = m.evolve(model, event, stamp)
    assert _shell(model) == _shell(full)
    for number in range(1, full.next_version):
        assert _load(history, number) == full.versions.get(number)
        if number in model.versions:  # held since the snapshot: as the whole fold has it
            assert model.versions[number] == full.versions[number]


def test_a_version_not_loaded_is_a_bug_not_a_missing_version() -> None:
    created, stamp = _created()
    model = m.evolve(None, created, stamp)
    for event in m.decide(c.RegisterVersion(full_name=NAME, source="s3://b/m"), model, "bob"):
        model = m.evolve(model, event, stamp)
    restored, _ = snapshots.decode(snapshots.encode(model.shell(), None))
    with pytest.raises(m.VersionNotHeld):
        m.decide(c.SetAlias(full_name=NAME, alias="champion", version=1), restored, "bob")
    # A number never given is missing all the same, loaded or not.
    with pytest.raises(DomainError):
        m.decide(c.SetAlias(full_name=NAME, alias="champion", version=2), restored, "bob")


def test_snapshot_points_fall_every_so_many_events() -> None:
    assert snapshots.due(snapshots.EVERY - 1, snapshots.EVERY)
    assert not snapshots.due(1, snapshots.EVERY - 1)
    assert snapshots.due(snapshots.EVERY - 3, 2 * snapshots.EVERY + 5)
