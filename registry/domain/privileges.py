"""Unity Catalog privileges on catalog -> schema -> registered model, pure: no I/O.

A securable's access control list (`Acl`: owner and grants) is folded from its own stream. A
check sees the chain of ACLs from the catalog down to the object (`Chain`), so privileges granted
on a parent are inherited below it, and ownership of a parent covers everything below it.

The rules follow Unity Catalog OSS (server/.../service/ModelService.java): reading a model needs
EXECUTE (or ownership) plus USE CATALOG and USE SCHEMA on its parents; creating one needs USE
CATALOG + USE SCHEMA + CREATE MODEL. OSS lets only owners change a model; `MANAGE` (from Databricks
Unity Catalog, like `APPLY TAG` and `ALL PRIVILEGES`) lets a grantee do what an owner may but tag.
That includes reading it: a manager could grant itself EXECUTE anyway, and MLflow's client reads
a model before it changes one (is it a prompt?), so without it MANAGE would be useless there.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from registry.domain import events as ev
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.principals import Principal, check_name


class SecurableType(StrEnum):
    # The levels of a chain first, in order (chains and inheritance are indexed by them).
    CATALOG = "catalog"
    SCHEMA = "schema"
    REGISTERED_MODEL = "registered_model"
    METASTORE = "metastore"  # the registry itself: who may create catalogs; no chain under it


METASTORE_NAME = "metastore"  # the one metastore's name, as Unity Catalog's server calls it


class Privilege(StrEnum):
    """The wire names of Unity Catalog (with spaces)."""

    CREATE_CATALOG = "CREATE CATALOG"  # on the metastore only
    USE_CATALOG = "USE CATALOG"
    USE_SCHEMA = "USE SCHEMA"
    CREATE_SCHEMA = "CREATE SCHEMA"
    CREATE_MODEL = "CREATE MODEL"
    EXECUTE = "EXECUTE"
    APPLY_TAG = "APPLY TAG"
    MANAGE = "MANAGE"
    ALL_PRIVILEGES = "ALL PRIVILEGES"


class Action(StrEnum):
    """What a command or read asks of the object it is on."""

    CREATE_CATALOG = "create_catalog"  # on the metastore
    READ = "read"  # get, list, load versions
    CREATE_SCHEMA = "create_schema"  # on a catalog
    CREATE_MODEL = "create_model"  # on a schema
    MODIFY = "modify"  # versions, aliases, stages, descriptions, renames, deletes
    APPLY_TAG = "apply_tag"
    MANAGE = "manage"  # grant, revoke, transfer ownership


P = Privilege
# What may be granted where (Unity Catalog rejects e.g. USE CATALOG on a schema).
GRANTABLE: Mapping[SecurableType, frozenset[Privilege]] = MappingProxyType({
    SecurableType.CATALOG: frozenset(Privilege) - {P.CREATE_CATALOG},
    SecurableType.SCHEMA: frozenset(Privilege) - {P.CREATE_CATALOG, P.USE_CATALOG, P.CREATE_SCHEMA},
    SecurableType.REGISTERED_MODEL: frozenset({P.EXECUTE, P.APPLY_TAG, P.MANAGE, P.ALL_PRIVILEGES}),
    SecurableType.METASTORE: frozenset({P.CREATE_CATALOG}),
})
# ALL PRIVILEGES is every privilege but MANAGE, as in Databricks: it does not let one grant.
_ALL = frozenset(Privilege) - {P.MANAGE, P.ALL_PRIVILEGES, P.CREATE_CATALOG}
# The privileges (any one) an action needs on the object itself (or a parent), beyond USE on
# the parents.
_NEEDS: Mapping[Action, tuple[Privilege, ...]] = MappingProxyType({
    Action.READ: (P.EXECUTE, P.MANAGE),
    Action.CREATE_SCHEMA: (P.CREATE_SCHEMA,),
    Action.CREATE_MODEL: (P.CREATE_MODEL,),
    Action.MODIFY: (P.MANAGE,),
    Action.APPLY_TAG: (P.APPLY_TAG,),
    Action.MANAGE: (P.MANAGE,),
})
# Creating is done in a container of one level only.
_CREATES_IN: Mapping[Action, SecurableType] = MappingProxyType({
    Action.CREATE_CATALOG: SecurableType.METASTORE,  # checked by may_create_catalog, never here
    Action.CREATE_SCHEMA: SecurableType.CATALOG, Action.CREATE_MODEL: SecurableType.SCHEMA})
_LEVELS = (SecurableType.CATALOG, SecurableType.SCHEMA, SecurableType.REGISTERED_MODEL)
_USE = (P.USE_CATALOG, P.USE_SCHEMA)  # what each parent level needs to be passed through


@dataclass(frozen=True)
class Securable:
    type: SecurableType
    full_name: str

    def missing(self, verb: str = "does not exist") -> NotFound:
        """Its 404, about the kind of object it is (a catalog, a schema, a model), as every other
        miss of that kind is: the surfaces word it by that (Unity Catalog's CATALOG_NOT_FOUND)."""
        about = {SecurableType.CATALOG: "catalog", SecurableType.SCHEMA: "schema",
                 SecurableType.REGISTERED_MODEL: "model",
                 SecurableType.METASTORE: "metastore"}[self.type]
        return NotFound(f"{self.type} {self.full_name!r} {verb}", **{about: self.full_name})


@dataclass(frozen=True)
class Acl:
    owner: str
    grants: Mapping[str, frozenset[Privilege]] = field(default_factory=lambda: MappingProxyType({}))

    def held(self, principal: str) -> frozenset[Privilege]:
        return self.grants.get(principal, frozenset())


# From the catalog down to the object: one ACL for a catalog, three for a model.
Chain = Sequence[Acl]


def securable_type(chain: Chain) -> SecurableType:
    return _LEVELS[len(chain) - 1]


def may_create_catalog(principal: Principal, metastore: Acl) -> bool:
    """Unity Catalog's CREATE CATALOG on the metastore (whose owners are the admins)."""
    return principal.admin or P.CREATE_CATALOG in metastore.held(principal.name)


def applies(action: Action, securable: SecurableType) -> bool:
    return _CREATES_IN.get(action, securable) is securable


def _direct(principal: str, acl: Acl) -> frozenset[Privilege]:
    held = acl.held(principal)
    if acl.owner == principal:  # an owner holds everything on its object, MANAGE included
        return frozenset(Privilege)
    return held | _ALL if P.ALL_PRIVILEGES in held else held


def _has(principal: str, privilege: Privilege, chain: Chain) -> bool:
    return any(privilege in _direct(principal, acl) for acl in chain)


def allowed(principal: Principal, action: Action, chain: Chain) -> bool:
    """May `principal` do `action` on the last securable of `chain`?"""
    if not applies(action, securable_type(chain)):
        raise ValueError(f"{action} is not an action on a {securable_type(chain)}")
    if principal.admin:
        return True
    name = principal.name
    if any(acl.owner == name for acl in chain[:-1]):  # a parent's owner: everything below
        return True
    # USE on every parent; a catalog or schema read or created in needs its own USE as well.
    enters = action in (Action.READ, Action.CREATE_SCHEMA, Action.CREATE_MODEL)
    used = len(chain) if enters else len(chain) - 1
    if not all(_has(name, _USE[i], chain[: i + 1]) for i in range(min(used, 2))):
        return False
    if action is Action.READ and len(chain) < 3:
        return True  # reading a catalog or schema is its USE
    return any(_has(name, privilege, chain) for privilege in _NEEDS[action])


def effective(principal: str, chain: Chain, kind: SecurableType | None = None
              ) -> list[tuple[Privilege, int | None]]:
    """The privileges `principal` holds on the object (of `kind`; by default the chain's level),
    each with where it comes from: the index in `chain` of the nearest securable granting it
    (None: on the object itself)."""
    last = len(chain) - 1
    grantable = GRANTABLE[kind or securable_type(chain)]
    found: dict[Privilege, int | None] = {}
    for i in range(last, -1, -1):
        for privilege in _direct(principal, chain[i]):
            if privilege in grantable:
                found.setdefault(privilege, None if i == last else i)
    return sorted(found.items(), key=lambda item: list(Privilege).index(item[0]))


# --- decisions --------------------------------------------------------------------------------


def change(acl: Acl | None, securable: Securable, changes: Iterable[ev.PrivilegeChange]
           ) -> list[ev.Event]:
    """Unity Catalog's PATCH: per principal, privileges to add and to remove. Only what changes
    is recorded; nothing at all if nothing does."""
    if acl is None:
        raise securable.missing()
    grantable = GRANTABLE[securable.type]
    wanted: dict[str, tuple[set[Privilege], set[Privilege]]] = {}
    for c in changes:
        add, remove = wanted.setdefault(check_name(c.principal), (set(), set()))
        for names, into in ((c.add, add), (c.remove, remove)):
            for text in names:
                into.add(_privilege(text, grantable, securable))
    out = []
    for principal, (add, remove) in wanted.items():
        held = acl.held(principal)
        added, removed = (add - remove) - held, remove & held
        if added or removed:
            out.append(ev.PrivilegeChange(principal=principal, add=_names(added), remove=_names(removed)))
    if not out:
        return []
    return [ev.PrivilegesChanged(securable_type=securable.type, full_name=securable.full_name,
                                 changes=out)]


def transfer(acl: Acl | None, securable: Securable, owner: str) -> list[ev.Event]:
    if acl is None:
        raise securable.missing()
    if securable.type is SecurableType.METASTORE:
        raise InvalidArgument("the metastore belongs to the admins: grant CREATE CATALOG instead "
                              "of transferring it", field="owner")
    check_name(owner)
    if owner == acl.owner:
        return []
    return [ev.OwnerChanged(securable_type=securable.type, full_name=securable.full_name,
                            owner=owner, previous_owner=acl.owner)]


def _privilege(text: str, grantable: frozenset[Privilege], securable: Securable) -> Privilege:
    try:
        privilege = Privilege(text.upper().replace("_", " "))  # 'USE_CATALOG' as the SDKs spell it
    except ValueError:
        raise InvalidArgument(f"unknown privilege {text!r}", field="changes") from None
    if privilege not in grantable:
        raise InvalidArgument(f"privilege {privilege} cannot be granted on a {securable.type}",
                              field="changes")
    return privilege


def _names(privileges: set[Privilege]) -> list[str]:
    return [p.value for p in Privilege if p in privileges]


# --- the fold ---------------------------------------------------------------------------------


def evolve(acl: Acl | None, event: ev.Event) -> Acl | None:
    """A securable's ACL from the events of its stream (the object's own events included)."""
    match event:
        case ev.CatalogCreated() | ev.SchemaCreated() | ev.ModelCreated():
            return Acl(event.owner)
        case ev.CatalogDeleted() | ev.SchemaDeleted() | ev.ModelDeleted():
            return None
        case ev.OwnerChanged() if acl is not None:
            return Acl(event.owner, acl.grants)
        case ev.PrivilegesChanged() if acl is not None:
            grants = dict(acl.grants)
            for c in event.changes:
                held = (grants.get(c.principal, frozenset()) | {P(p) for p in c.add}) \
                    - {P(p) for p in c.remove}
                if held:
                    grants[c.principal] = held
                else:
                    grants.pop(c.principal, None)
            return Acl(acl.owner, MappingProxyType(grants))
    return acl
