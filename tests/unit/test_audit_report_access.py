"""The compliance report's access part, pure: the fold on a log made in memory (which grants are in
an object's scope, and access following a renamed model to its new parents)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registry.audit.access import in_scope
from registry.audit.compliance import Report, ReportBuilder, Window
from registry.domain import events as ev
from registry.eventstore.records import RecordedEvent


@pytest.mark.parametrize(("name", "prefix", "expected"), [
    ("unity", "unity.default.fraud", True),  # a parent: its grants are inherited
    ("unity.default", "unity.default.fraud", True),
    ("unity.default.fraud", "unity.default.fraud", True),
    ("unity.tmp", "unity.default.fraud", False),  # a sibling
    ("unity.default.fraudulent", "unity.default.fraud", False),
    ("unityx", "unity", False),
    ("unity.default", "unity", True),
    ("other", None, True),
])
def test_scope_takes_the_parents_not_the_siblings(name: str, prefix: str | None,
                                                  expected: bool) -> None:
    assert in_scope(name, prefix) is expected


def _log(*entries: tuple[str, ev.Event]) -> list[RecordedEvent]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [RecordedEvent(i, stream, 1, type(e).type_name(), 1, e.payload(),
                          {"actor": "admin", "request_id": f"r{i}"}, at + timedelta(seconds=i),
                          b"", b"") for i, (stream, e) in enumerate(entries, 1)]


def _change(kind: str, name: str, principal: str, *add: str) -> ev.PrivilegesChanged:
    return ev.PrivilegesChanged(securable_type=kind, full_name=name, changes=[
        ev.PrivilegeChange(principal=principal, add=list(add))])


MODEL_ID = uuid.UUID(int=7)
RENAMED = _log(
    ("catalog:a", ev.CatalogCreated(catalog_id=uuid.uuid4(), name="a", owner="admin")),
    ("schema:a.s", ev.SchemaCreated(schema_id=uuid.uuid4(), catalog_name="a", name="s",
                                    owner="admin")),
    ("catalog:b", ev.CatalogCreated(catalog_id=uuid.uuid4(), name="b", owner="admin")),
    ("schema:b.t", ev.SchemaCreated(schema_id=uuid.uuid4(), catalog_name="b", name="t",
                                    owner="admin")),
    ("catalog:b", _change("catalog", "b", "ann", "ALL PRIVILEGES")),
    (f"model:{MODEL_ID}", ev.ModelCreated(model_id=MODEL_ID, catalog_name="a", schema_name="s",
                                          name="m", owner="admin")),
    (f"model:{MODEL_ID}", _change("registered_model", "a.s.m", "ann", "MANAGE")),
    (f"model:{MODEL_ID}", ev.ModelRenamed(from_full_name="a.s.m", catalog_name="b",
                                          schema_name="t", name="m")),
)


def _report(since: int, until: int, prefix: str | None) -> Report:
    builder = ReportBuilder(Window(RENAMED[since - 1].recorded_at, RENAMED[until - 1].recorded_at,
                                   since, until, prefix))
    for e in RENAMED:
        builder.add(e)
    return builder.report()


def test_access_follows_a_renamed_model_to_its_new_parents() -> None:
    # Before the rename: MANAGE on the model, but no USE on catalog a: ann could do nothing.
    [before] = _report(1, 7, "a.s.m").access
    assert (before.full_name, before.readers, before.modifiers) == ("a.s.m", ("admin",),
                                                                     ("admin",))
    ann = next(h for h in before.holders if h.principal == "ann")
    assert (ann.read, ann.modify, ann.basis) == (False, False, "MANAGE on the model")
    # After it: ALL PRIVILEGES on catalog b (USE and EXECUTE, not MANAGE) and MANAGE on the model.
    after = _report(8, 8, "a.s.m")
    [access] = after.access
    assert (access.full_name, access.readers, access.modifiers) == ("b.t.m", ("admin", "ann"),
                                                                     ("admin", "ann"))
    ann = next(h for h in access.holders if h.principal == "ann")
    assert ann.basis == "ALL PRIVILEGES on catalog b; MANAGE on the model"
    assert ann.effective == ("EXECUTE", "APPLY TAG", "MANAGE", "ALL PRIVILEGES")
    assert after.permission_changes == ()  # the grants were made before the window
    # The whole history under the old name: the model's grant and its parents' creation; catalog
    # b's grant is not under a.s.m, even if it counts for the model once renamed.
    whole = _report(1, 8, "a.s.m")
    assert [(p.full_name, p.principal, p.added) for p in whole.permission_changes] == [
        ("a.s.m", "ann", ("MANAGE",))]
    assert [(s.full_name, s.action) for s in whole.securable_changes] == [
        ("a", "created"), ("a.s", "created")]
