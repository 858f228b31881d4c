"""The compliance report's access part, pure: grants, revokes and ownership transfers on the
catalogs, schemas and models in scope; catalog and schema lifecycle events; who could read and
who could modify each model at the window's end; and the denied attempts of the window.

No I/O. The ACLs are folded from the log up to the window's end (not read from the `grants`
table), so a past window shows the access of its own time. Scope follows one rule: a securable is
in scope if its name is within the object prefix, or if it is a catalog or schema above it (its
grants and owner are inherited by the models below).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.domain import events as ev
from registry.domain import names, streams
from registry.domain.names import within
from registry.domain.principals import Principal, evolve_principal
from registry.domain.privileges import Acl, Action, Privilege, allowed, effective, evolve
from registry.eventstore.records import RecordedEvent

NAMESPACES = ("catalog", "schema")  # the securables folded here, by stream, under their names


@dataclass(frozen=True)
class PermissionChange:
    """One principal's privileges changed on a securable, or its owner changed."""

    position: int
    at: datetime
    actor: str
    request_id: str | None
    securable_type: str  # catalog, schema or registered_model
    full_name: str  # its name at the change
    action: str  # granted, revoked, changed (both) or owner changed
    principal: str | None = None  # whose privileges; None for an owner change
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    owner_before: str | None = None
    owner_after: str | None = None


@dataclass(frozen=True)
class SecurableChange:
    """A catalog's or a schema's own event: created, updated, deleted, owner changed."""

    position: int
    at: datetime
    actor: str
    request_id: str | None
    securable_type: str
    full_name: str
    action: str
    owner: str | None = None  # the owner after the change
    comment: str | None = None


@dataclass(frozen=True)
class Holder:
    """A principal who could read or modify a model, and why."""

    principal: str
    read: bool
    modify: bool
    basis: str  # what they held: "admin; owner of catalog unity; USE SCHEMA, EXECUTE on schema .."
    effective: tuple[str, ...]  # their privileges on the model, inherited ones too


@dataclass(frozen=True)
class ModelAccess:
    """Who could read and who could modify (deploy: versions, aliases, stages) a live model at
    the window's end."""

    model_id: str
    full_name: str
    owner: str
    readers: tuple[str, ...]
    modifiers: tuple[str, ...]
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class DeniedAttempt:
    at: datetime
    principal: str
    action: str
    securable_type: str
    full_name: str
    request_id: str
    method: str
    route: str


def in_scope(name: str, prefix: str | None) -> bool:
    """A securable named `name` is within the prefix, or is a catalog or schema above it."""
    return within(name, prefix) or (prefix is not None and within(prefix, name))


def permission_changes(e: RecordedEvent, d: ev.Event, acl: Acl | None
                       ) -> list[PermissionChange]:
    """The rows of one event on a securable's stream (none unless it changes grants or owner);
    `acl` is the securable's ACL before it."""
    request_id = e.metadata.get("request_id")
    stamp = (e.position, e.recorded_at, e.actor, request_id)
    match d:
        case ev.PrivilegesChanged():
            return [PermissionChange(
                *stamp, d.securable_type, d.full_name,
                "changed" if c.add and c.remove else "granted" if c.add else "revoked",
                c.principal, tuple(c.add), tuple(c.remove)) for c in d.changes]
        case ev.OwnerChanged():
            return [PermissionChange(*stamp, d.securable_type, d.full_name, "owner changed",
                                     owner_before=d.previous_owner if acl is None else acl.owner,
                                     owner_after=d.owner)]
    return []


def _namespace_change(e: RecordedEvent, d: ev.Event, kind: str, name: str
                      ) -> SecurableChange | None:
    stamp = (e.position, e.recorded_at, e.actor, e.metadata.get("request_id"), kind, name)
    match d:
        case ev.CatalogCreated() | ev.SchemaCreated():
            return SecurableChange(*stamp, "created", d.owner, d.comment)
        case ev.CatalogUpdated() | ev.SchemaUpdated():
            return SecurableChange(*stamp, "updated", comment=d.comment)
        case ev.CatalogRenamed():
            return SecurableChange(*stamp, "renamed", comment=f"from {d.from_name}")
        case ev.SchemaRenamed():
            return SecurableChange(*stamp, "renamed", comment=f"from {d.from_full_name}")
        case ev.CatalogDeleted() | ev.SchemaDeleted():
            return SecurableChange(*stamp, "deleted")
        case ev.OwnerChanged():
            return SecurableChange(*stamp, "owner changed", d.owner)
    return None


@dataclass
class Namespaces:
    """The fold of catalog, schema and principal streams: their ACLs and admins at the window's
    end, and the window's changes in scope. Feed every such event up to the window's end."""

    prefix: str | None
    since_position: int
    acls: dict[str, Acl] = field(default_factory=dict)  # by stream
    names: dict[str, str] = field(default_factory=dict)  # stream -> the full name it bears
    named: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, full name) -> stream
    principals: dict[str, Principal] = field(default_factory=dict)
    changes: list[SecurableChange] = field(default_factory=list)
    permissions: list[PermissionChange] = field(default_factory=list)
    actors: set[str] = field(default_factory=set)

    def add(self, e: RecordedEvent, d: ev.Event) -> None:
        kind, key = streams.parse(e.stream_id)
        if kind == "principal":
            found = evolve_principal(self.principals.get(key), d)
            if found is not None:
                self.principals[key] = found
            return
        if kind not in NAMESPACES:
            return
        # A stream's key is not its object's name (ids; renames): the events name it.
        match d:
            case ev.CatalogCreated() | ev.CatalogRenamed():
                name = d.name
            case ev.SchemaCreated() | ev.SchemaRenamed():
                name = f"{d.catalog_name}.{d.name}"
            case _:
                name = self.names.get(e.stream_id, key)
        before = self.acls.get(e.stream_id)
        if e.position >= self.since_position and in_scope(name, self.prefix):
            change = _namespace_change(e, d, kind, name)
            rows = permission_changes(e, d, before)
            self.changes += [change] if change is not None else []
            self.permissions += rows
            if change is not None or rows:
                self.actors.add(e.actor)
        after = evolve(before, d)
        was = self.names.pop(e.stream_id, None)
        if was is not None:
            self.named.pop((kind, was), None)
        if after is None:
            self.acls.pop(e.stream_id, None)
        else:
            self.acls[e.stream_id] = after
            self.names[e.stream_id] = name
            self.named[(kind, name)] = e.stream_id

    def chain(self, full_name: str, model: Acl) -> list[Acl] | None:
        """A model's ACL chain under its name; None if its catalog or schema is gone."""
        catalog, schema, _ = names.levels(full_name)
        parents = [self.acls.get(self.named.get(("catalog", catalog), "")),
                   self.acls.get(self.named.get(("schema", f"{catalog}.{schema}"), ""))]
        return None if None in parents else [*parents, model]  # type: ignore[list-item]

    @property
    def admins(self) -> list[str]:
        return sorted(p.name for p in self.principals.values() if p.admin)


def model_access(model_id: str, full_name: str, chain: list[Acl], admins: Iterable[str]
                 ) -> ModelAccess:
    """Everyone the chain names (owners and grantees) and every admin, each checked with the
    rules a request is checked with (`allowed`). All are listed, with what they held: an owner
    without USE on the parents, say, could not read, and an auditor wants to see that."""
    parts = names.levels(full_name)
    levels = [f"catalog {parts[0]}", f"schema {parts[0]}.{parts[1]}", "the model"]
    admin = set(admins)
    holders, at = [], list(zip(chain, levels, strict=True))
    for name in sorted({p for acl in chain for p in (acl.owner, *acl.grants)} | admin):
        who = Principal(name, name in admin)
        facts = ["admin"] if who.admin else []
        facts += [f"owner of {level}" for acl, level in at if acl.owner == name]
        facts += [", ".join(sorted(acl.held(name), key=list(Privilege).index)) + f" on {level}"
                  for acl, level in at if acl.held(name)]
        holders.append(Holder(name, allowed(who, Action.READ, chain),
                              allowed(who, Action.MODIFY, chain), "; ".join(facts),
                              tuple(p.value for p, _ in effective(name, chain))))
    return ModelAccess(model_id, full_name, chain[-1].owner,
                       tuple(h.principal for h in holders if h.read),
                       tuple(h.principal for h in holders if h.modify), tuple(holders))


def denied_attempts(rows: Iterable[Mapping[str, Any]], prefix: str | None
                    ) -> tuple[DeniedAttempt, ...]:
    """The table's rows of the window's time span, in scope by the object's name."""
    return tuple(DeniedAttempt(r["at"], r["principal"], r["action"], r["securable_type"],
                               r["full_name"], r["request_id"], r["method"], r["route"])
                 for r in rows if within(r["full_name"], prefix))
