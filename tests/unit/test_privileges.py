"""Privileges, pure: the fold of grant events and who may do what (registry.domain.privileges)."""

from functools import reduce
from types import MappingProxyType
from uuid import uuid4

import pytest

from registry.domain import InvalidArgument, NotFound, RegistryState, authority
from registry.domain import commands as c
from registry.domain import events as ev
from registry.domain.principals import Principal
from registry.domain.privileges import (
    Acl,
    Action,
    Privilege,
    Securable,
    SecurableType,
    allowed,
    applies,
    change,
    effective,
    evolve,
    transfer,
)
from registry.domain.state import METASTORE_STREAM

A = Action
CATALOG = Securable(SecurableType.CATALOG, "prod")
SCHEMA = Securable(SecurableType.SCHEMA, "prod.fraud")
MODEL = Securable(SecurableType.REGISTERED_MODEL, "prod.fraud.scorer")


def grant(securable: Securable, principal: str, *privileges: str) -> ev.PrivilegesChanged:
    return ev.PrivilegesChanged(securable_type=securable.type, full_name=securable.full_name,
                                changes=[ev.PrivilegeChange(principal=principal, add=list(privileges))])


def fold(*events: ev.Event) -> Acl | None:
    return reduce(evolve, events, None)


def world(*extra: tuple[Securable, ev.Event]) -> dict[Securable, Acl]:
    """prod (owned by carol) > prod.fraud (carol) > prod.fraud.scorer (mo), and grants."""
    streams: dict[Securable, list[ev.Event]] = {
        CATALOG: [ev.CatalogCreated(catalog_id=uuid4(), name="prod", owner="carol"),
                  grant(CATALOG, "reader", "USE CATALOG"),
                  grant(CATALOG, "nouse", "USE CATALOG"),
                  grant(CATALOG, "inherits", "USE CATALOG", "USE SCHEMA", "EXECUTE"),
                  grant(CATALOG, "manager", "USE CATALOG"),
                  grant(CATALOG, "creator", "USE CATALOG", "CREATE SCHEMA"),
                  grant(CATALOG, "tagger", "USE CATALOG"),
                  grant(CATALOG, "all", "ALL PRIVILEGES"),
                  grant(CATALOG, "mo", "USE CATALOG"),
                  grant(CATALOG, "schemamgr", "USE CATALOG")],
        SCHEMA: [ev.SchemaCreated(schema_id=uuid4(), catalog_name="prod", name="fraud", owner="carol"),
                 grant(SCHEMA, "reader", "USE SCHEMA"),
                 grant(SCHEMA, "manager", "USE SCHEMA"),
                 grant(SCHEMA, "creator", "USE SCHEMA", "CREATE MODEL"),
                 grant(SCHEMA, "tagger", "USE SCHEMA"),
                 grant(SCHEMA, "mo", "USE SCHEMA"),
                 grant(SCHEMA, "schemamgr", "USE SCHEMA", "MANAGE")],
        MODEL: [ev.ModelCreated(model_id=uuid4(), catalog_name="prod", schema_name="fraud",
                                name="scorer", owner="mo"),
                grant(MODEL, "reader", "EXECUTE"),
                grant(MODEL, "nouse", "EXECUTE"),
                grant(MODEL, "manager", "MANAGE"),
                grant(MODEL, "tagger", "APPLY TAG"),
                grant(MODEL, "noparents", "EXECUTE", "MANAGE")],
    }
    for securable, event in extra:
        streams[securable].append(event)
    return {s: fold(*events) for s, events in streams.items()}


def chain(acls: dict[Securable, Acl], securable: Securable) -> list[Acl]:
    return [acls[s] for s in (CATALOG, SCHEMA, MODEL)][: [CATALOG, SCHEMA, MODEL].index(securable) + 1]


ALL_ACTIONS = set(Action)
MODEL_RULES: dict[str, set[Action]] = {
    "admin": ALL_ACTIONS,
    "carol": ALL_ACTIONS,  # owns the catalog: everything below
    "mo": ALL_ACTIONS,  # owns the model and may use its parents
    "reader": {A.READ},
    "inherits": {A.READ},  # USE and EXECUTE granted on the catalog
    "nouse": set(),  # EXECUTE without USE SCHEMA
    "noparents": set(),  # MANAGE and EXECUTE, no USE at all
    "manager": {A.READ, A.MODIFY, A.MANAGE},  # MANAGE reads too
    "tagger": {A.APPLY_TAG},
    "all": {A.READ, A.APPLY_TAG},  # ALL PRIVILEGES is not MANAGE
    "schemamgr": {A.READ, A.MODIFY, A.MANAGE},  # MANAGE on the schema, inherited
    "creator": set(),
    "stranger": set(),
}
SCHEMA_RULES: dict[str, set[Action]] = {
    "admin": ALL_ACTIONS, "carol": ALL_ACTIONS,
    "reader": {A.READ}, "inherits": {A.READ}, "mo": {A.READ}, "manager": {A.READ},
    "tagger": {A.READ}, "nouse": set(), "noparents": set(), "stranger": set(),
    "creator": {A.READ, A.CREATE_MODEL},
    "all": {A.READ, A.CREATE_MODEL, A.APPLY_TAG},
    "schemamgr": {A.READ, A.MODIFY, A.MANAGE},
}
CATALOG_RULES: dict[str, set[Action]] = {
    "admin": ALL_ACTIONS, "carol": ALL_ACTIONS, "stranger": set(), "noparents": set(),
    **{p: {A.READ} for p in ("reader", "nouse", "inherits", "manager", "tagger", "mo", "schemamgr")},
    "creator": {A.READ, A.CREATE_SCHEMA},
    "all": {A.READ, A.CREATE_SCHEMA, A.CREATE_MODEL, A.APPLY_TAG},
}
MATRIX = [(who, action, securable, action in rules[who])
          for securable, rules in ((MODEL, MODEL_RULES), (SCHEMA, SCHEMA_RULES), (CATALOG, CATALOG_RULES))
          for who in rules for action in Action if applies(action, securable.type)]


@pytest.mark.parametrize(("who", "action", "securable", "expected"), MATRIX,
                         ids=[f"{w}-{a}-{s.type}-{e}" for w, a, s, e in MATRIX])
def test_matrix(who: str, action: Action, securable: Securable, expected: bool) -> None:
    principal = Principal(who, admin=who == "admin")
    assert allowed(principal, action, chain(world(), securable)) is expected


def test_an_action_on_the_wrong_kind_of_securable_is_a_bug() -> None:
    with pytest.raises(ValueError):
        allowed(Principal("admin", admin=True), A.CREATE_MODEL, chain(world(), MODEL))


def test_revocation_takes_the_privilege_away() -> None:
    revoke = ev.PrivilegesChanged(securable_type="registered_model", full_name=MODEL.full_name,
                                  changes=[ev.PrivilegeChange(principal="reader", remove=["EXECUTE"])])
    acls = world((MODEL, revoke))
    assert not allowed(Principal("reader", False), A.READ, chain(acls, MODEL))
    assert "reader" not in acls[MODEL].grants  # nothing left: no empty entry
    # Revoking on the catalog takes away what the schema and model inherited from it.
    acls = world((CATALOG, ev.PrivilegesChanged(
        securable_type="catalog", full_name="prod",
        changes=[ev.PrivilegeChange(principal="inherits", remove=["USE SCHEMA"])])))
    assert not allowed(Principal("inherits", False), A.READ, chain(acls, MODEL))


def test_ownership_transfer() -> None:
    acls = world()
    events = transfer(acls[MODEL], MODEL, "reader")
    assert events == [ev.OwnerChanged(securable_type="registered_model", full_name=MODEL.full_name,
                                      owner="reader", previous_owner="mo")]
    acls[MODEL] = evolve(acls[MODEL], events[0])
    assert allowed(Principal("reader", False), A.MANAGE, chain(acls, MODEL))
    assert not allowed(Principal("mo", False), A.MODIFY, chain(acls, MODEL))
    assert transfer(acls[MODEL], MODEL, "reader") == []
    with pytest.raises(NotFound):
        transfer(None, MODEL, "reader")


def test_change_records_only_what_changes() -> None:
    acl = world()[MODEL]
    events = change(acl, MODEL, [
        ev.PrivilegeChange(principal="reader", add=["EXECUTE", "apply_tag"], remove=[]),
        ev.PrivilegeChange(principal="nouse", remove=["EXECUTE", "MANAGE"]),
        ev.PrivilegeChange(principal="stranger", remove=["EXECUTE"]),
    ])
    assert events == [ev.PrivilegesChanged(
        securable_type="registered_model", full_name=MODEL.full_name,
        changes=[ev.PrivilegeChange(principal="reader", add=["APPLY TAG"]),
                 ev.PrivilegeChange(principal="nouse", remove=["EXECUTE"])])]
    assert change(acl, MODEL, [ev.PrivilegeChange(principal="reader", add=["EXECUTE"])]) == []


@pytest.mark.parametrize(("securable", "privilege"), [
    (MODEL, "USE CATALOG"), (MODEL, "CREATE MODEL"), (SCHEMA, "CREATE SCHEMA"), (CATALOG, "SELECT"),
    (CATALOG, "USE CATALOG; DROP TABLE grants"), (CATALOG, ""),
])
def test_change_rejects_privileges_the_securable_cannot_have(securable: Securable, privilege: str) -> None:
    with pytest.raises(InvalidArgument):
        change(world()[securable], securable, [ev.PrivilegeChange(principal="x", add=[privilege])])


@pytest.mark.parametrize("principal", ["", " padded ", "tab\there", "x" * 300])
def test_change_rejects_bad_principal_names(principal: str) -> None:
    with pytest.raises(InvalidArgument):
        change(world()[MODEL], MODEL, [ev.PrivilegeChange(principal=principal, add=["EXECUTE"])])


def test_change_on_a_missing_object() -> None:
    with pytest.raises(NotFound):
        change(None, MODEL, [ev.PrivilegeChange(principal="x", add=["EXECUTE"])])


def test_deleting_an_object_ends_its_grants() -> None:
    """A model created again under the same name starts with no grants: another stream, another ACL."""
    acl = fold(ev.ModelCreated(model_id=uuid4(), catalog_name="prod", schema_name="fraud",
                               name="scorer", owner="mo"),
               grant(MODEL, "reader", "EXECUTE"), ev.ModelDeleted(full_name=MODEL.full_name))
    assert acl is None


def test_effective_names_where_each_privilege_comes_from() -> None:
    acls = world()
    assert effective("inherits", chain(acls, MODEL)) == [(Privilege.EXECUTE, 0)]
    assert effective("reader", chain(acls, MODEL)) == [(Privilege.EXECUTE, None)]
    assert effective("all", chain(acls, MODEL)) == [
        (Privilege.EXECUTE, 0), (Privilege.APPLY_TAG, 0), (Privilege.ALL_PRIVILEGES, 0)]
    assert {p for p, _ in effective("mo", chain(acls, MODEL))} == {
        Privilege.EXECUTE, Privilege.APPLY_TAG, Privilege.MANAGE, Privilege.ALL_PRIVILEGES}
    assert effective("stranger", chain(acls, MODEL)) == []


# --- what commands need (registry.domain.authority) -------------------------------------------

M = "prod.fraud.scorer"


@pytest.mark.parametrize(("cmd", "expected"), [
    (c.CreateCatalog(name="x"), [(A.CREATE_CATALOG, authority.METASTORE)]),
    (c.DeleteCatalog(name="prod"), [(A.MODIFY, CATALOG)]),
    (c.CreateSchema(catalog_name="prod", name="s"), [(A.CREATE_SCHEMA, CATALOG)]),
    (c.UpdateSchema(catalog_name="prod", name="fraud"), [(A.MODIFY, SCHEMA)]),
    (c.CreateModel(full_name=M), [(A.CREATE_MODEL, SCHEMA)]),
    (c.RegisterVersion(full_name=M, source="s3://x"), [(A.MODIFY, MODEL)]),
    (c.SetAlias(full_name=M, alias="champion", version=1), [(A.MODIFY, MODEL)]),
    (c.DeleteAlias(full_name=M, alias="champion"), [(A.MODIFY, MODEL)]),
    (c.TransitionStage(full_name=M, version=1, stage="Production"), [(A.MODIFY, MODEL)]),
    (c.ApproveTransition(full_name=M, version=1, stage="Production"), [(A.MODIFY, MODEL)]),
    (c.RequestTransition(full_name=M, version=1, stage="Production"), [(A.READ, MODEL)]),
    (c.DeleteModel(full_name=M), [(A.MODIFY, MODEL)]),
    (c.SetModelTag(full_name=M, key="k", value="v"), [(A.APPLY_TAG, MODEL)]),
    (c.DeleteVersionTag(full_name=M, version=1, key="k"), [(A.APPLY_TAG, MODEL)]),
    (c.RenameModel(full_name=M, new_full_name="prod.fraud.other"), [(A.MODIFY, MODEL)]),
    (c.RenameModel(full_name=M, new_full_name="prod.other.x"),
     [(A.MODIFY, MODEL), (A.CREATE_MODEL, Securable(SecurableType.SCHEMA, "prod.other"))]),
    (c.UpdatePermissions(securable_type="schema", full_name="prod.fraud", changes=[]),
     [(A.MANAGE, SCHEMA)]),
    (c.TransferOwnership(securable_type="registered_model", full_name=M, owner="x"), [(A.MANAGE, MODEL)]),
])
def test_what_each_command_needs(cmd: c.Command, expected: list | None) -> None:
    assert authority.needs(cmd) == expected


def test_denied_names_the_first_missing_need() -> None:
    state = RegistryState()
    acls = world()
    state.model_ids[M] = model_id = uuid4()
    state.catalog_streams["prod"], state.schema_streams[("prod", "fraud")] = \
        "catalog:prod", "schema:prod.fraud"
    state.acls = {"catalog:prod": acls[CATALOG], "schema:prod.fraud": acls[SCHEMA],
                  f"model:{model_id}": acls[MODEL],
                  METASTORE_STREAM: Acl("", MappingProxyType(
                      {"creator": frozenset({Privilege.CREATE_CATALOG})}))}
    reader, manager = Principal("reader", False), Principal("manager", False)
    alias = c.SetAlias(full_name=M, alias="champion", version=1)
    assert authority.denied(reader, alias, state) == (A.MODIFY, MODEL)
    assert authority.denied(manager, alias, state) is None
    assert authority.denied(reader, c.RequestTransition(full_name=M, version=1, stage="Staging"),
                            state) is None
    # Creating a catalog is CREATE CATALOG on the metastore (its owners, the admins, hold it).
    assert authority.denied(manager, c.CreateCatalog(name="x"), state) == (
        A.CREATE_CATALOG, authority.METASTORE)
    assert authority.denied(Principal("creator", False), c.CreateCatalog(name="x"), state) is None
    assert authority.denied(Principal("root", True), c.CreateCatalog(name="x"), state) is None
    # Granting on the metastore is the admins' alone.
    grant = c.UpdatePermissions(securable_type="metastore", full_name="metastore", changes=[])
    assert authority.denied(Principal("creator", False), grant, state) == (
        A.MANAGE, authority.METASTORE)
    # A command on what does not exist goes on, to be refused with NOT_FOUND when decided.
    assert authority.denied(reader, c.SetAlias(full_name="prod.fraud.nope", alias="a", version=1),
                            state) is None
