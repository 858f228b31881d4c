"""decide/evolve through `registry.domain.decide` and `RegistryState`: no database, no I/O."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.domain import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    RegistryState,
    Stamp,
    cascade,
    decide,
    renames,
    stream_of,
)
from registry.domain import commands as c
from registry.domain.events import (
    AliasDeleted,
    AliasSet,
    CatalogCreated,
    CatalogDeleted,
    CatalogUpdated,
    Event,
    ModelCreated,
    ModelDeleted,
    ModelDescriptionUpdated,
    ModelRenamed,
    ModelTagDeleted,
    ModelTagSet,
    SchemaCreated,
    SchemaDeleted,
    SchemaUpdated,
    VersionDeleted,
    VersionDescriptionUpdated,
    VersionFailed,
    VersionReady,
    VersionRegistered,
    VersionTagDeleted,
    VersionTagSet,
)
from registry.domain.models import FAILED, PENDING, READY
from registry.domain.privileges import Securable, SecurableType

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ALICE = "alice@example.com"
BOB = "bob@example.com"
MODEL = "main.default.churn"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(
    state: RegistryState,
    cmd: c.Command,
    actor: str = ALICE,
    when: datetime = T0,
    log: list[tuple[str, Event, Stamp]] | None = None,
) -> list[Event]:
    """Decide `cmd` against `state` and fold the events into it, as the shell would."""
    stream, events = decide(cmd, state, actor)
    stamp = Stamp(at=when, actor=actor)
    for e in events:
        state.apply(stream, e, stamp)
        if log is not None:
            log.append((stream, e, stamp))
    return events


def with_schema(catalog: str = "main", schema: str = "default") -> RegistryState:
    state = RegistryState()
    run(state, c.CreateCatalog(name=catalog))
    run(state, c.CreateSchema(catalog_name=catalog, name=schema))
    return state


def with_model(full_name: str = MODEL) -> RegistryState:
    state = with_schema()
    run(state, c.CreateModel(full_name=full_name))
    return state


def register(state: RegistryState, full_name: str = MODEL, **kw) -> int:
    (event,) = run(state, c.RegisterVersion(full_name=full_name, source="s3://b/m", **kw))
    assert isinstance(event, VersionRegistered)
    return event.version


def model(state: RegistryState, full_name: str = MODEL):
    m = state.model_named(full_name)
    assert m is not None
    return m


# --- catalogs --------------------------------------------------------------------------------


def test_create_catalog():
    state = RegistryState()
    cmd = c.CreateCatalog(name="main", comment="the main one")
    assert stream_of(cmd, state) == f"catalog:{cmd.catalog_id}"  # by id: it keeps it through renames
    events = run(state, cmd, actor=ALICE, when=at(1))
    assert events == [
        CatalogCreated(catalog_id=cmd.catalog_id, name="main", comment="the main one", owner=ALICE)
    ]
    cat = state.catalogs["main"]
    assert (cat.id, cat.name, cat.comment, cat.owner) == (cmd.catalog_id, "main", "the main one",
                                                          ALICE)
    assert (cat.created_at, cat.created_by, cat.updated_at, cat.updated_by) == (
        at(1), ALICE, at(1), ALICE)


def test_create_duplicate_catalog_fails():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main", comment="first"))
    with pytest.raises(AlreadyExists):
        decide(c.CreateCatalog(name="main", comment="second"), state, BOB)
    assert state.catalogs["main"].comment == "first"


def test_catalog_names_are_distinct_per_name():
    state = RegistryState()
    run(state, c.CreateCatalog(name="a"))
    run(state, c.CreateCatalog(name="b"))
    assert set(state.catalogs) == {"a", "b"}


def test_update_catalog_comment():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main", comment="old"), actor=ALICE, when=at(0))
    events = run(state, c.UpdateCatalog(name="main", comment="new"), actor=BOB, when=at(5))
    assert events == [CatalogUpdated(name="main", comment="new")]
    cat = state.catalogs["main"]
    assert cat.comment == "new"
    assert (cat.created_by, cat.created_at) == (ALICE, at(0))
    assert (cat.updated_by, cat.updated_at) == (BOB, at(5))
    assert cat.owner == ALICE


def test_update_catalog_with_same_comment_is_a_no_op():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main", comment="same"), when=at(0))
    before = state.catalogs["main"]
    assert run(state, c.UpdateCatalog(name="main", comment="same"), actor=BOB, when=at(9)) == []
    assert state.catalogs["main"] == before
    assert state.catalogs["main"].updated_by == ALICE


def test_update_catalog_can_clear_comment():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main", comment="x"))
    assert run(state, c.UpdateCatalog(name="main", comment=None)) == [
        CatalogUpdated(name="main", comment=None)
    ]
    assert state.catalogs["main"].comment is None


@pytest.mark.parametrize(
    "cmd", [c.UpdateCatalog(name="nope", comment="x"), c.DeleteCatalog(name="nope")]
)
def test_commands_on_missing_catalog_fail(cmd):
    with pytest.raises(NotFound):
        decide(cmd, RegistryState(), ALICE)


def test_delete_empty_catalog():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main"))
    assert run(state, c.DeleteCatalog(name="main")) == [CatalogDeleted(name="main")]
    assert "main" not in state.catalogs
    # the name is free again
    assert [type(e) for e in run(state, c.CreateCatalog(name="main"))] == [CatalogCreated]


def test_delete_catalog_with_schemas_fails_unless_forced():
    state = with_schema()
    with pytest.raises(FailedPrecondition):
        decide(c.DeleteCatalog(name="main"), state, ALICE)
    assert "main" in state.catalogs
    # Forced, what is inside goes first, in the same transaction (cascade.contents).
    assert cascade.contents(c.DeleteCatalog(name="main", force=True), state) == [
        c.DeleteSchema(catalog_name="main", name="default", force=True)]
    assert cascade.contents(c.DeleteCatalog(name="main"), state) == []
    assert decide(c.DeleteCatalog(name="main", force=True), state, ALICE)[1] == [
        CatalogDeleted(name="main")]


def test_delete_catalog_after_its_schemas_are_deleted():
    state = with_schema()
    run(state, c.CreateSchema(catalog_name="main", name="other"))
    run(state, c.DeleteSchema(catalog_name="main", name="default"))
    with pytest.raises(FailedPrecondition):
        decide(c.DeleteCatalog(name="main"), state, ALICE)
    run(state, c.DeleteSchema(catalog_name="main", name="other"))
    assert run(state, c.DeleteCatalog(name="main")) == [CatalogDeleted(name="main")]


# --- schemas ---------------------------------------------------------------------------------


def test_create_schema_needs_catalog():
    with pytest.raises(NotFound) as info:
        decide(c.CreateSchema(catalog_name="main", name="default"), RegistryState(), ALICE)
    assert info.value.details == {"catalog": "main"}


def test_create_schema():
    state = RegistryState()
    run(state, c.CreateCatalog(name="main"))
    cmd = c.CreateSchema(catalog_name="main", name="default", comment="c")
    assert stream_of(cmd, state) == f"schema:{cmd.schema_id}"
    events = run(state, cmd, actor=BOB, when=at(3))
    assert events == [SchemaCreated(schema_id=cmd.schema_id, catalog_name="main", name="default",
                                    comment="c", owner=BOB)]
    schema = state.schemas[("main", "default")]
    assert schema.full_name == "main.default"
    assert (schema.id, schema.owner, schema.created_by, schema.updated_at) == (
        cmd.schema_id, BOB, BOB, at(3))
    assert state.schema_counts["main"] == 1


def test_create_duplicate_schema_fails():
    state = with_schema()
    with pytest.raises(AlreadyExists):
        decide(c.CreateSchema(catalog_name="main", name="default"), state, ALICE)


def test_same_schema_name_in_two_catalogs():
    state = with_schema("a", "s")
    run(state, c.CreateCatalog(name="b"))
    run(state, c.CreateSchema(catalog_name="b", name="s"))
    assert set(state.schemas) == {("a", "s"), ("b", "s")}


def test_update_schema_comment_and_no_op():
    state = with_schema()
    events = run(state, c.UpdateSchema(catalog_name="main", name="default", comment="x"),
                 actor=BOB, when=at(2))
    assert events == [SchemaUpdated(catalog_name="main", name="default", comment="x")]
    schema = state.schemas[("main", "default")]
    assert (schema.comment, schema.updated_by, schema.updated_at) == ("x", BOB, at(2))
    assert schema.created_by == ALICE
    assert run(state, c.UpdateSchema(catalog_name="main", name="default", comment="x")) == []


@pytest.mark.parametrize(
    "cmd",
    [c.UpdateSchema(catalog_name="main", name="nope", comment="x"),
     c.DeleteSchema(catalog_name="main", name="nope")],
)
def test_commands_on_missing_schema_fail(cmd):
    with pytest.raises(NotFound):
        decide(cmd, with_schema(), ALICE)


def test_delete_schema_only_when_empty():
    state = with_model()
    with pytest.raises(FailedPrecondition):
        decide(c.DeleteSchema(catalog_name="main", name="default"), state, ALICE)
    assert cascade.contents(c.DeleteSchema(catalog_name="main", name="default", force=True),
                            state) == [c.DeleteModel(full_name=MODEL, force=True)]
    run(state, c.DeleteModel(full_name=MODEL))
    assert run(state, c.DeleteSchema(catalog_name="main", name="default")) == [
        SchemaDeleted(catalog_name="main", name="default")
    ]
    assert ("main", "default") not in state.schemas
    assert state.schema_counts["main"] == 0


def test_delete_schema_then_create_model_in_it_fails():
    state = with_schema()
    run(state, c.DeleteSchema(catalog_name="main", name="default"))
    with pytest.raises(NotFound):
        decide(c.CreateModel(full_name=MODEL), state, ALICE)


# --- registered models -----------------------------------------------------------------------


def test_create_model_needs_schema():
    state = with_schema()
    with pytest.raises(NotFound) as info:
        decide(c.CreateModel(full_name="main.other.m"), state, ALICE)
    assert info.value.details == {"schema": "main.other"}
    # Without its catalog, the catalog is what is missing (Unity Catalog's CATALOG_NOT_FOUND).
    with pytest.raises(NotFound) as info:
        decide(c.CreateModel(full_name="nocat.default.m"), state, ALICE)
    assert info.value.details == {"catalog": "nocat"}
    run(state, c.CreateModel(full_name=MODEL))
    with pytest.raises(NotFound) as info:
        decide(c.RenameModel(full_name=MODEL, new_full_name="nocat.default.m"), state, ALICE)
    assert info.value.details == {"catalog": "nocat"}
    assert list(state.model_ids) == [MODEL]


def test_create_model():
    state = with_schema()
    cmd = c.CreateModel(full_name=MODEL, description="d", tags={"team": "ml"})
    assert stream_of(cmd, state) == f"model:{cmd.model_id}"
    events = run(state, cmd, actor=BOB, when=at(4))
    assert events == [ModelCreated(model_id=cmd.model_id, catalog_name="main",
                                   schema_name="default", name="churn", description="d",
                                   owner=BOB, tags={"team": "ml"})]
    assert state.model_ids == {MODEL: cmd.model_id}
    assert state.model_stream(MODEL) == f"model:{cmd.model_id}"
    assert state.models_in("main", "default") == 1
    m = model(state)
    assert (m.id, m.full_name, m.description, m.owner) == (cmd.model_id, MODEL, "d", BOB)
    assert dict(m.tags) == {"team": "ml"}
    assert (m.created_at, m.created_by, m.updated_at, m.updated_by) == (at(4), BOB, at(4), BOB)
    assert dict(m.versions) == {} and dict(m.aliases) == {}
    assert m.next_version == 1 and not m.deleted


def test_create_duplicate_model_fails():
    state = with_model()
    first = state.model_ids[MODEL]
    with pytest.raises(AlreadyExists):
        decide(c.CreateModel(full_name=MODEL), state, BOB)
    assert state.model_ids == {MODEL: first}


def test_same_model_name_in_two_schemas():
    state = with_model()
    run(state, c.CreateSchema(catalog_name="main", name="other"))
    run(state, c.CreateModel(full_name="main.other.churn"))
    assert state.model_ids[MODEL] != state.model_ids["main.other.churn"]


def test_rename_model():
    state = with_model()
    model_id = state.model_ids[MODEL]
    events = run(state, c.RenameModel(full_name=MODEL, new_full_name="main.default.retention"),
                 actor=BOB, when=at(7))
    assert events == [ModelRenamed(from_full_name=MODEL, catalog_name="main",
                                   schema_name="default", name="retention")]
    # the name index follows, and the old name is freed
    assert state.model_ids == {"main.default.retention": model_id}
    assert state.model_named(MODEL) is None
    renamed = model(state, "main.default.retention")
    assert renamed.id == model_id
    assert renamed.full_name == "main.default.retention"
    assert (renamed.updated_by, renamed.updated_at, renamed.created_by) == (BOB, at(7), ALICE)
    assert state.models_in("main", "default") == 1
    with pytest.raises(NotFound):
        decide(c.SetModelTag(full_name=MODEL, key="k", value="v"), state, ALICE)
    # a new model may take the old name
    run(state, c.CreateModel(full_name=MODEL))
    assert state.model_ids[MODEL] != model_id
    assert state.model_ids["main.default.retention"] == model_id


def test_rename_model_keeps_versions_and_aliases():
    state = with_model()
    register(state)
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1))
    run(state, c.RenameModel(full_name=MODEL, new_full_name="main.default.new"))
    m = model(state, "main.default.new")
    assert list(m.versions) == [1]
    assert dict(m.aliases) == {"champion": 1}
    assert register(state, "main.default.new") == 2


def test_rename_model_to_another_schema_moves_the_count():
    state = with_model()
    run(state, c.CreateCatalog(name="other"))
    run(state, c.CreateSchema(catalog_name="other", name="s"))
    run(state, c.RenameModel(full_name=MODEL, new_full_name="other.s.churn"))
    assert state.models_in("main", "default") == 0
    assert state.models_in("other", "s") == 1
    m = model(state, "other.s.churn")
    assert (m.catalog_name, m.schema_name, m.name) == ("other", "s", "churn")
    # the old schema is empty now; the new one is not
    run(state, c.DeleteSchema(catalog_name="main", name="default"))
    with pytest.raises(FailedPrecondition):
        decide(c.DeleteSchema(catalog_name="other", name="s"), state, ALICE)


def test_rename_model_to_a_taken_name_fails():
    state = with_model()
    run(state, c.CreateModel(full_name="main.default.other"))
    with pytest.raises(AlreadyExists):
        decide(c.RenameModel(full_name=MODEL, new_full_name="main.default.other"), state, ALICE)
    assert model(state).name == "churn"


def test_rename_model_to_a_missing_schema_fails():
    state = with_model()
    with pytest.raises(NotFound) as info:
        decide(c.RenameModel(full_name=MODEL, new_full_name="main.nope.churn"), state, ALICE)
    assert info.value.details == {"schema": "main.nope"}
    assert MODEL in state.model_ids


def test_rename_model_to_its_own_name_is_a_no_op():
    state = with_model()
    assert run(state, c.RenameModel(full_name=MODEL, new_full_name=MODEL)) == []


def test_rename_to_a_deleted_models_name_succeeds():
    state = with_model()
    run(state, c.CreateModel(full_name="main.default.gone"))
    run(state, c.DeleteModel(full_name="main.default.gone"))
    events = run(state, c.RenameModel(full_name=MODEL, new_full_name="main.default.gone"))
    assert [type(e) for e in events] == [ModelRenamed]
    assert model(state, "main.default.gone").name == "gone"


def test_update_model_description():
    state = with_model()
    events = run(state, c.UpdateModelDescription(full_name=MODEL, description="hello"),
                 actor=BOB, when=at(1))
    assert events == [ModelDescriptionUpdated(description="hello")]
    m = model(state)
    assert (m.description, m.updated_by, m.updated_at) == ("hello", BOB, at(1))
    assert run(state, c.UpdateModelDescription(full_name=MODEL, description="hello")) == []
    assert run(state, c.UpdateModelDescription(full_name=MODEL, description=None)) == [
        ModelDescriptionUpdated(description=None)
    ]
    assert model(state).description is None


def test_model_tags_set_overwrite_and_delete():
    state = with_model()
    assert run(state, c.SetModelTag(full_name=MODEL, key="k", value="1")) == [
        ModelTagSet(key="k", value="1")
    ]
    assert run(state, c.SetModelTag(full_name=MODEL, key="k", value="1")) == []
    assert run(state, c.SetModelTag(full_name=MODEL, key="k", value="2")) == [
        ModelTagSet(key="k", value="2")
    ]
    run(state, c.SetModelTag(full_name=MODEL, key="other", value="x"))
    assert dict(model(state).tags) == {"k": "2", "other": "x"}
    assert run(state, c.DeleteModelTag(full_name=MODEL, key="k")) == [ModelTagDeleted(key="k")]
    assert dict(model(state).tags) == {"other": "x"}


def test_delete_missing_model_tag_fails():
    state = with_model()
    with pytest.raises(NotFound) as info:
        decide(c.DeleteModelTag(full_name=MODEL, key="nope"), state, ALICE)
    assert info.value.details == {"model": MODEL, "key": "nope"}


def test_model_state_is_read_only():
    state = with_model()
    with pytest.raises(TypeError):
        model(state).tags["k"] = "v"  # type: ignore[index]


def test_delete_model_without_versions():
    state = with_model()
    model_id = state.model_ids[MODEL]
    assert run(state, c.DeleteModel(full_name=MODEL)) == [ModelDeleted(full_name=MODEL)]
    assert state.model_named(MODEL) is None
    assert state.model_stream(MODEL) is None
    assert state.models[model_id].deleted
    assert state.models_in("main", "default") == 0
    with pytest.raises(NotFound):
        decide(c.RegisterVersion(full_name=MODEL, source="s"), state, ALICE)
    # the name can be reused by a new model with a new identity and fresh numbering
    run(state, c.CreateModel(full_name=MODEL))
    assert state.model_ids[MODEL] != model_id
    assert register(state) == 1


def test_delete_model_with_versions_needs_force():
    state = with_model()
    register(state)
    with pytest.raises(FailedPrecondition):
        decide(c.DeleteModel(full_name=MODEL), state, ALICE)
    assert MODEL in state.model_ids
    assert run(state, c.DeleteModel(full_name=MODEL, force=True)) == [
        ModelDeleted(full_name=MODEL)
    ]
    assert MODEL not in state.model_ids


def test_delete_model_whose_versions_are_all_deleted_needs_no_force():
    state = with_model()
    register(state)
    run(state, c.DeleteVersion(full_name=MODEL, version=1))
    assert run(state, c.DeleteModel(full_name=MODEL)) == [ModelDeleted(full_name=MODEL)]


UNKNOWN = "main.default.ghost"


@pytest.mark.parametrize(
    "cmd",
    [
        c.RenameModel(full_name=UNKNOWN, new_full_name="main.default.x"),
        c.UpdateModelDescription(full_name=UNKNOWN, description="d"),
        c.SetModelTag(full_name=UNKNOWN, key="k", value="v"),
        c.DeleteModelTag(full_name=UNKNOWN, key="k"),
        c.DeleteModel(full_name=UNKNOWN),
        c.DeleteModel(full_name=UNKNOWN, force=True),
        c.RegisterVersion(full_name=UNKNOWN, source="s"),
        c.FinalizeVersion(full_name=UNKNOWN, version=1),
        c.UpdateVersionDescription(full_name=UNKNOWN, version=1, description="d"),
        c.SetVersionTag(full_name=UNKNOWN, version=1, key="k", value="v"),
        c.DeleteVersionTag(full_name=UNKNOWN, version=1, key="k"),
        c.DeleteVersion(full_name=UNKNOWN, version=1),
        c.SetAlias(full_name=UNKNOWN, alias="a", version=1),
        c.DeleteAlias(full_name=UNKNOWN, alias="a"),
    ],
    ids=lambda cmd: type(cmd).__name__,
)
def test_commands_on_unknown_models_are_not_found(cmd):
    state = with_model()
    assert stream_of(cmd, state) is None
    with pytest.raises(NotFound) as info:
        decide(cmd, state, ALICE)
    assert info.value.details["model"] == UNKNOWN


@pytest.mark.parametrize(
    "cmd",
    [
        c.UpdateModelDescription(full_name=MODEL, description="d"),
        c.RegisterVersion(full_name=MODEL, source="s"),
        c.SetAlias(full_name=MODEL, alias="a", version=1),
    ],
    ids=lambda cmd: type(cmd).__name__,
)
def test_commands_on_deleted_models_are_not_found(cmd):
    state = with_model()
    run(state, c.DeleteModel(full_name=MODEL))
    with pytest.raises(NotFound):
        decide(cmd, state, ALICE)


# --- versions --------------------------------------------------------------------------------


def test_versions_are_numbered_from_one():
    state = with_model()
    assert [register(state) for _ in range(3)] == [1, 2, 3]
    assert sorted(model(state).versions) == [1, 2, 3]
    assert model(state).next_version == 4


def test_version_numbers_are_never_reused_after_delete():
    state = with_model()
    for _ in range(3):
        register(state)
    run(state, c.DeleteVersion(full_name=MODEL, version=3))
    assert sorted(model(state).versions) == [1, 2]
    assert register(state) == 4
    run(state, c.DeleteVersion(full_name=MODEL, version=1))
    run(state, c.DeleteVersion(full_name=MODEL, version=2))
    run(state, c.DeleteVersion(full_name=MODEL, version=4))
    assert dict(model(state).versions) == {}
    assert register(state) == 5


def test_register_version():
    state = with_model()
    cmd = c.RegisterVersion(full_name=MODEL, source="s3://b/m", run_id="r1", run_link="http://r",
                            logged_model_id="lm", description="d", tags={"k": "v"},
                            storage_root="s3://store/")
    # Keyed by the model's id, not its name: no rename or re-used name reaches these files.
    location = f"s3://store/models/{model(state).id}/versions/1"
    events = run(state, cmd, actor=BOB, when=at(10))
    assert events == [VersionRegistered(version=1, source="s3://b/m", run_id="r1",
                                        run_link="http://r", logged_model_id="lm",
                                        description="d", storage_location=location,
                                        tags={"k": "v"})]
    mv = model(state).version(1)
    assert mv.status == PENDING
    assert mv.status_message is None
    assert (mv.source, mv.run_id, mv.run_link, mv.logged_model_id) == ("s3://b/m", "r1",
                                                                       "http://r", "lm")
    assert (mv.description, mv.storage_location, dict(mv.tags)) == ("d", location, {"k": "v"})
    assert (mv.created_at, mv.created_by, mv.updated_at, mv.updated_by) == (at(10), BOB, at(10),
                                                                            BOB)
    m = model(state)
    assert (m.updated_by, m.updated_at, m.created_by) == (BOB, at(10), ALICE)


def test_version_locations_follow_identity_through_renames_and_reused_names():
    state = with_model()
    # A version registered before locations were keyed by id keeps the one its event recorded.
    old = "file:///data/artifacts/main/default/churn/versions/1"
    state.apply(f"model:{model(state).id}",
                VersionRegistered(version=1, source="s3://b/m", storage_location=old),
                Stamp(at=T0, actor=ALICE))
    first_id = model(state).id
    register(state, storage_root="file:///data/artifacts")
    run(state, c.RenameModel(full_name=MODEL, new_full_name="main.default.renamed"))
    run(state, c.CreateModel(full_name=MODEL))
    register(state, storage_root="file:///data/artifacts")
    renamed, reused = model(state, "main.default.renamed"), model(state)
    assert renamed.version(1).storage_location == old
    assert renamed.version(2).storage_location == \
        f"file:///data/artifacts/models/{first_id}/versions/2"
    assert reused.id != first_id
    assert reused.version(1).storage_location == \
        f"file:///data/artifacts/models/{reused.id}/versions/1"


@pytest.mark.parametrize(
    ("status", "event_type", "final"),
    [("READY", VersionReady, READY), ("FAILED_REGISTRATION", VersionFailed, FAILED)],
)
def test_finalize_version(status, event_type, final):
    state = with_model()
    register(state)
    events = run(state, c.FinalizeVersion(full_name=MODEL, version=1, status=status,
                                          status_message="m"), actor=BOB, when=at(2))
    assert [type(e) for e in events] == [event_type]
    assert events[0].version == 1
    mv = model(state).version(1)
    assert mv.status == final
    assert (mv.updated_by, mv.updated_at, mv.created_by) == (BOB, at(2), ALICE)


def test_failed_finalize_keeps_status_message():
    state = with_model()
    register(state)
    events = run(state, c.FinalizeVersion(full_name=MODEL, version=1,
                                          status="FAILED_REGISTRATION", status_message="boom"))
    assert events == [VersionFailed(version=1, status_message="boom")]
    assert model(state).version(1).status_message == "boom"


@pytest.mark.parametrize("status", ["READY", "FAILED_REGISTRATION"])
def test_finalize_twice_with_same_status_is_a_no_op(status):
    state = with_model()
    register(state)
    run(state, c.FinalizeVersion(full_name=MODEL, version=1, status=status), when=at(1))
    before = model(state)
    assert run(state, c.FinalizeVersion(full_name=MODEL, version=1, status=status),
               actor=BOB, when=at(2)) == []
    assert model(state) == before


@pytest.mark.parametrize(
    ("first", "second"), [("READY", "FAILED_REGISTRATION"), ("FAILED_REGISTRATION", "READY")]
)
def test_finalize_with_other_status_fails(first, second):
    state = with_model()
    register(state)
    run(state, c.FinalizeVersion(full_name=MODEL, version=1, status=first))
    with pytest.raises(FailedPrecondition) as info:
        decide(c.FinalizeVersion(full_name=MODEL, version=1, status=second), state, ALICE)
    assert info.value.details["status"] == first
    assert model(state).version(1).status == first


def test_finalize_missing_or_deleted_version_fails():
    state = with_model()
    register(state)
    with pytest.raises(NotFound):
        decide(c.FinalizeVersion(full_name=MODEL, version=2), state, ALICE)
    run(state, c.DeleteVersion(full_name=MODEL, version=1))
    with pytest.raises(NotFound):
        decide(c.FinalizeVersion(full_name=MODEL, version=1), state, ALICE)


def test_version_description_and_tags():
    state = with_model()
    register(state)
    register(state)
    assert run(state, c.UpdateVersionDescription(full_name=MODEL, version=2, description="d"),
               actor=BOB, when=at(3)) == [VersionDescriptionUpdated(version=2, description="d")]
    assert run(state, c.UpdateVersionDescription(full_name=MODEL, version=2,
                                                 description="d")) == []
    assert run(state, c.SetVersionTag(full_name=MODEL, version=2, key="k", value="v")) == [
        VersionTagSet(version=2, key="k", value="v")
    ]
    assert run(state, c.SetVersionTag(full_name=MODEL, version=2, key="k", value="v")) == []
    m = model(state)
    assert m.version(2).description == "d"
    assert dict(m.version(2).tags) == {"k": "v"}
    assert m.version(1).description is None and dict(m.version(1).tags) == {}
    assert run(state, c.DeleteVersionTag(full_name=MODEL, version=2, key="k")) == [
        VersionTagDeleted(version=2, key="k")
    ]
    assert dict(model(state).version(2).tags) == {}
    with pytest.raises(NotFound):
        decide(c.DeleteVersionTag(full_name=MODEL, version=2, key="k"), state, ALICE)
    with pytest.raises(NotFound):
        decide(c.SetVersionTag(full_name=MODEL, version=9, key="k", value="v"), state, ALICE)


def test_delete_missing_version_fails():
    state = with_model()
    register(state)
    with pytest.raises(NotFound) as info:
        decide(c.DeleteVersion(full_name=MODEL, version=2), state, ALICE)
    assert info.value.details == {"model": MODEL, "version": 2}
    run(state, c.DeleteVersion(full_name=MODEL, version=1))
    with pytest.raises(NotFound):
        decide(c.DeleteVersion(full_name=MODEL, version=1), state, ALICE)


# --- aliases ---------------------------------------------------------------------------------


def test_set_alias_records_previous_version():
    state = with_model()
    register(state)
    register(state)
    assert run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1)) == [
        AliasSet(alias="champion", version=1, previous_version=None)
    ]
    assert run(state, c.SetAlias(full_name=MODEL, alias="champion", version=2)) == [
        AliasSet(alias="champion", version=2, previous_version=1)
    ]
    assert dict(model(state).aliases) == {"champion": 2}


def test_set_alias_to_same_version_is_a_no_op():
    state = with_model()
    register(state)
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1), when=at(1))
    before = model(state)
    assert run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1), when=at(2)) == []
    assert model(state) == before


def test_set_alias_to_missing_version_fails():
    state = with_model()
    register(state)
    with pytest.raises(NotFound) as info:
        decide(c.SetAlias(full_name=MODEL, alias="champion", version=2), state, ALICE)
    assert info.value.details == {"model": MODEL, "version": 2}
    assert dict(model(state).aliases) == {}


def test_set_alias_to_deleted_version_fails():
    state = with_model()
    register(state)
    register(state)
    run(state, c.DeleteVersion(full_name=MODEL, version=1))
    with pytest.raises(NotFound):
        decide(c.SetAlias(full_name=MODEL, alias="champion", version=1), state, ALICE)


def test_several_aliases_on_one_version():
    state = with_model()
    register(state)
    for alias in ["b", "a", "c"]:
        run(state, c.SetAlias(full_name=MODEL, alias=alias, version=1))
    assert model(state).aliases_of(1) == ["a", "b", "c"]


def test_deleting_a_version_deletes_its_aliases_first():
    state = with_model()
    register(state)
    register(state)
    run(state, c.SetAlias(full_name=MODEL, alias="prod", version=1))
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1))
    run(state, c.SetAlias(full_name=MODEL, alias="staging", version=2))
    events = run(state, c.DeleteVersion(full_name=MODEL, version=1))
    assert events == [
        AliasDeleted(alias="champion", version=1),
        AliasDeleted(alias="prod", version=1),
        VersionDeleted(version=1),
    ]
    m = model(state)
    assert dict(m.aliases) == {"staging": 2}
    assert sorted(m.versions) == [2]


def test_deleting_a_version_without_aliases_emits_only_version_deleted():
    state = with_model()
    register(state)
    register(state)
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=2))
    assert run(state, c.DeleteVersion(full_name=MODEL, version=1)) == [VersionDeleted(version=1)]
    assert dict(model(state).aliases) == {"champion": 2}


def test_delete_alias():
    state = with_model()
    register(state)
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1))
    assert run(state, c.DeleteAlias(full_name=MODEL, alias="champion")) == [
        AliasDeleted(alias="champion", version=1)
    ]
    assert dict(model(state).aliases) == {}
    assert 1 in model(state).versions
    with pytest.raises(NotFound) as info:
        decide(c.DeleteAlias(full_name=MODEL, alias="champion"), state, ALICE)
    assert info.value.details == {"model": MODEL, "alias": "champion"}


# --- stamps ----------------------------------------------------------------------------------


def test_created_and_updated_follow_the_stamp():
    state = with_schema()
    run(state, c.CreateModel(full_name=MODEL), actor=ALICE, when=at(0))
    run(state, c.RegisterVersion(full_name=MODEL, source="s"), actor=BOB, when=at(1))
    m = model(state)
    assert (m.owner, m.created_by, m.created_at) == (ALICE, ALICE, at(0))
    assert (m.updated_by, m.updated_at) == (BOB, at(1))
    run(state, c.FinalizeVersion(full_name=MODEL, version=1), actor="carol", when=at(2))
    m = model(state)
    mv = m.version(1)
    assert (mv.created_by, mv.created_at) == (BOB, at(1))
    assert (mv.updated_by, mv.updated_at) == ("carol", at(2))
    assert (m.updated_by, m.updated_at) == ("carol", at(2))
    run(state, c.SetAlias(full_name=MODEL, alias="champion", version=1), actor="dave", when=at(3))
    m = model(state)
    assert (m.updated_by, m.updated_at) == ("dave", at(3))
    run(state, c.DeleteAlias(full_name=MODEL, alias="champion"), actor="erin", when=at(4))
    m = model(state)
    assert (m.updated_by, m.updated_at) == ("erin", at(4))
    run(state, c.DeleteVersion(full_name=MODEL, version=1), actor="frank", when=at(5))
    m = model(state)
    assert (m.updated_by, m.updated_at) == ("frank", at(5))
    assert (m.owner, m.created_by, m.created_at) == (ALICE, ALICE, at(0))


def test_failed_commands_change_nothing():
    state = with_model()
    register(state)
    before = model(state)
    ids = dict(state.model_ids)
    for cmd in [
        c.DeleteModel(full_name=MODEL),
        c.SetAlias(full_name=MODEL, alias="a", version=7),
        c.DeleteModelTag(full_name=MODEL, key="k"),
        c.CreateModel(full_name=MODEL),
    ]:
        with pytest.raises(DomainError):
            run(state, cmd, actor=BOB, when=at(99))
    assert model(state) == before
    assert state.model_ids == ids


def test_folding_the_log_from_scratch_gives_the_same_state():
    state = RegistryState()
    log: list[tuple[str, Event, Stamp]] = []
    steps = [
        c.CreateCatalog(name="main"),
        c.CreateSchema(catalog_name="main", name="default"),
        c.CreateSchema(catalog_name="main", name="other"),
        c.CreateModel(full_name=MODEL, tags={"a": "1"}),
        c.RegisterVersion(full_name=MODEL, source="s"),
        c.RegisterVersion(full_name=MODEL, source="s"),
        c.FinalizeVersion(full_name=MODEL, version=1),
        c.SetAlias(full_name=MODEL, alias="champion", version=1),
        c.SetModelTag(full_name=MODEL, key="b", value="2"),
        c.RenameModel(full_name=MODEL, new_full_name="main.other.churn"),
        c.DeleteVersion(full_name="main.other.churn", version=1),
        c.DeleteSchema(catalog_name="main", name="default"),
    ]
    for i, cmd in enumerate(steps):
        run(state, cmd, actor=f"user{i}", when=at(i), log=log)
    fresh = RegistryState()
    for stream, e, stamp in log:
        fresh.apply(stream, e, stamp)
    assert fresh.catalogs == state.catalogs
    assert fresh.schemas == state.schemas
    assert fresh.model_ids == state.model_ids
    assert fresh.models == state.models
    assert +fresh.schema_counts == +state.schema_counts


# --- property: random version/alias histories ------------------------------------------------

ALIASES = ["champion", "challenger", "prod"]

op = st.one_of(
    st.tuples(st.just("register")),
    st.tuples(st.just("set_alias"), st.sampled_from(ALIASES), st.integers(1, 8)),
    st.tuples(st.just("delete_version"), st.integers(1, 8)),
    st.tuples(st.just("delete_alias"), st.sampled_from(ALIASES)),
)


def to_command(step: tuple) -> c.Command:
    match step:
        case ("register",):
            return c.RegisterVersion(full_name=MODEL, source="s3://b/m")
        case ("set_alias", alias, version):
            return c.SetAlias(full_name=MODEL, alias=alias, version=version)
        case ("delete_version", version):
            return c.DeleteVersion(full_name=MODEL, version=version)
        case ("delete_alias", alias):
            return c.DeleteAlias(full_name=MODEL, alias=alias)
    raise AssertionError(step)


@settings(max_examples=300, deadline=None)
@given(st.lists(op, max_size=40))
def test_random_version_and_alias_histories_keep_invariants(steps):
    state = RegistryState()
    log: list[tuple[str, Event, Stamp]] = []
    run(state, c.CreateCatalog(name="main"), log=log)
    run(state, c.CreateSchema(catalog_name="main", name="default"), log=log)
    run(state, c.CreateModel(full_name=MODEL), log=log)
    model_id: UUID = state.model_ids[MODEL]

    # a reference model of what should be live
    live: set[int] = set()
    aliases: dict[str, int] = {}
    highest = 0

    for i, step in enumerate(steps, start=1):
        cmd = to_command(step)
        expected_error: type[DomainError] | None = None
        match step:
            case ("set_alias", _, version) | ("delete_version", version) if version not in live:
                expected_error = NotFound
            case ("delete_alias", alias) if alias not in aliases:
                expected_error = NotFound
        before = state.models[model_id]
        if expected_error is not None:
            with pytest.raises(expected_error):
                run(state, cmd, actor=f"u{i}", when=at(i), log=log)
            assert state.models[model_id] == before
        else:
            events = run(state, cmd, actor=f"u{i}", when=at(i), log=log)
            match step:
                case ("register",):
                    (e,) = events
                    assert isinstance(e, VersionRegistered)
                    assert e.version > highest, "version numbers must strictly increase"
                    highest = e.version
                    live.add(e.version)
                case ("set_alias", alias, version):
                    if aliases.get(alias) == version:
                        assert events == []
                    else:
                        assert events == [AliasSet(alias=alias, version=version,
                                                   previous_version=aliases.get(alias))]
                    aliases[alias] = version
                case ("delete_version", version):
                    assert isinstance(events[-1], VersionDeleted)
                    assert events[-1].version == version
                    dropped = [a for a, v in aliases.items() if v == version]
                    assert events[:-1] == [AliasDeleted(alias=a, version=version)
                                           for a in sorted(dropped)]
                    for a in dropped:
                        del aliases[a]
                    live.discard(version)
                case ("delete_alias", alias):
                    assert events == [AliasDeleted(alias=alias, version=aliases.pop(alias))]

        m = state.models[model_id]
        # every alias points at a live version
        assert all(v in m.versions for v in m.aliases.values())
        assert dict(m.aliases) == aliases
        assert set(m.versions) == live
        # numbers are never reused: the next one is above everything ever registered
        assert m.next_version == highest + 1
        assert all(v <= highest for v in m.versions)

    # every registered number is distinct and increasing across the whole log
    registered = [e.version for _, e, _ in log if isinstance(e, VersionRegistered)]
    assert registered == list(range(1, len(registered) + 1))

    fresh = RegistryState()
    for stream, e, stamp in log:
        fresh.apply(stream, e, stamp)
    assert fresh.models[model_id] == state.models[model_id]
    assert fresh.model_ids == state.model_ids


def test_register_ready_at_once_is_two_events_in_one_decision():
    state = with_model()
    events = run(state, c.RegisterVersion(full_name=MODEL, source="s", ready=True))
    assert [type(e).__name__ for e in events] == ["VersionRegistered", "VersionReady"]
    assert model(state).version(1).status == "READY"
    assert model(state).version(1).storage_location is None  # files stay at the source


def test_stage_transitions_and_archiving_existing_versions():
    state = with_model()
    for _ in range(3):
        register(state)
    run(state, c.TransitionStage(full_name=MODEL, version=1, stage="production"))
    run(state, c.TransitionStage(full_name=MODEL, version=2, stage="Production"))
    assert [model(state).version(n).stage for n in (1, 2, 3)] == ["Production", "Production",
                                                                  "None"]
    events = run(state, c.TransitionStage(full_name=MODEL, version=3, stage="Production",
                                          archive_existing_versions=True))
    assert [(e.version, e.stage, e.previous_stage) for e in events] == [
        (3, "Production", "None"), (1, "Archived", "Production"), (2, "Archived", "Production")]
    assert run(state, c.TransitionStage(full_name=MODEL, version=3, stage="PRODUCTION")) == []
    with pytest.raises(InvalidArgument):
        c.TransitionStage(full_name=MODEL, version=1, stage="Shipped")
    with pytest.raises(InvalidArgument):
        decide(c.TransitionStage(full_name=MODEL, version=1, stage="Archived",
                                 archive_existing_versions=True), state, ALICE)


# --- catalog and schema renames ----------------------------------------------------------------


def rename(state: RegistryState, cmd: c.Command) -> list[Event]:
    """A rename and what follows it, folded into `state` as the shell appends them."""
    followers = renames.followers(cmd, state)
    events = run(state, cmd, when=at(9))
    for stream, e in followers:
        state.apply(stream, e, Stamp(at=at(9), actor=ALICE))
    return [*events, *(e for _, e in followers)]


def test_a_catalog_rename_carries_its_schemas_and_models_on_their_own_streams():
    state = with_model("main.default.my.model")  # a model's own name may hold dots
    run(state, c.CreateSchema(catalog_name="main", name="other"))
    run(state, c.CreateCatalog(name="mainly"))  # a prefix of the name, not inside it
    run(state, c.CreateSchema(catalog_name="mainly", name="x"))
    run(state, c.CreateModel(full_name="mainly.x.m"))
    catalog_stream, model_id = state.catalog_streams["main"], state.model_ids["main.default.my.model"]
    events = rename(state, c.RenameCatalog(name="main", new_name="prod"))
    assert [type(e).__name__ for e in events] == [
        "CatalogRenamed", "SchemaRenamed", "SchemaRenamed", "ModelRenamed"]
    assert events[3] == ModelRenamed(from_full_name="main.default.my.model", catalog_name="prod",
                                     schema_name="default", name="my.model")
    assert state.catalog_streams["prod"] == catalog_stream and "main" not in state.catalogs
    assert sorted(state.schemas) == [("mainly", "x"), ("prod", "default"), ("prod", "other")]
    assert state.schema_counts["prod"] == 2 and state.schema_counts["main"] == 0
    assert state.model_ids["prod.default.my.model"] == model_id
    assert state.models_in("prod", "default") == 1
    assert "mainly.x.m" in state.model_ids
    assert state.catalogs["prod"].updated_at == at(9)
    # The old name is free, and a new catalog under it is on a stream of its own.
    run(state, c.CreateCatalog(name="main"))
    assert state.catalog_streams["main"] != catalog_stream
    assert state.securable_stream(Securable(SecurableType.CATALOG, "prod")) == catalog_stream


def test_a_rename_onto_a_borne_name_or_of_nothing_is_refused():
    state = with_schema()
    run(state, c.CreateCatalog(name="prod"))
    run(state, c.CreateSchema(catalog_name="main", name="b"))
    for cmd, error in ((c.RenameCatalog(name="main", new_name="prod"), AlreadyExists),
                       (c.RenameCatalog(name="main", new_name="main"), AlreadyExists),
                       (c.RenameCatalog(name="nope", new_name="x"), NotFound),
                       (c.RenameSchema(catalog_name="main", name="default", new_name="b"),
                        AlreadyExists),
                       (c.RenameSchema(catalog_name="main", name="nope", new_name="c"), NotFound)):
        with pytest.raises(error):
            decide(cmd, state, ALICE)
    with pytest.raises(InvalidArgument):
        c.RenameCatalog(name="main", new_name="a.b")
    with pytest.raises(FailedPrecondition):
        renames.keep_workspace(c.RenameSchema(catalog_name="main", name="default", new_name="x"),
                               "main.default")
    renames.keep_workspace(c.RenameSchema(catalog_name="main", name="b", new_name="x"),
                           "main.default")


def test_a_schema_rename_carries_its_models_within_the_catalog():
    state = with_model()
    events = rename(state, c.RenameSchema(catalog_name="main", name="default", new_name="ml"))
    assert [(type(e).__name__, e.full_name) for e in events] == [
        ("SchemaRenamed", "main.ml"), ("ModelRenamed", "main.ml.churn")]
    assert model(state, "main.ml.churn").full_name == "main.ml.churn"
    assert MODEL not in state.model_ids
