"""Who may read what: a principal's read checks against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits (and as other
processes commit: registry/service/write_model_sync.py), so a check costs no database round trip
once the models it names are held (a model not held is looked up first, `know`), and a grant or
revoke counts from the next read on. Writes are checked by the writer itself, as
each command is decided (RegistryService.execute). Every read of the registry goes through a
`Reader` (registry/reads/reader.py), which holds one of these: no surface can forget the check.
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import asyncpg

from registry.domain import authority, names
from registry.domain.errors import PermissionDenied, Unavailable
from registry.domain.models import Model
from registry.domain.principals import Principal
from registry.domain.privileges import Acl, Action, Chain, Securable, SecurableType, allowed
from registry.domain.state import RegistryState

MODEL = SecurableType.REGISTERED_MODEL


class Privileges(Protocol):
    """What the checks need of the write model (registry/service/write_model.py)."""

    state: RegistryState
    loaded: bool  # False between a reset and its reload
    decisions: dict[Hashable, bool | None]  # cleared by the write model whenever its state changes
    max_decisions: int  # remembered before starting afresh (its memory budget's share)

    async def know(self, db: asyncpg.Pool, names: Iterable[str] = (),
                   ids: Iterable[UUID] = ()) -> None:
        """Hold these models' names and ACLs until the next await."""


@dataclass(frozen=True, slots=True)
class ReadAccess:
    principal: Principal
    privileges: Privileges
    db: asyncpg.Pool  # where models not held are looked up
    # The read answers a command this request has just run, which the writer checked: it reads
    # what it wrote.
    checked: bool = False

    def state(self) -> RegistryState:
        """The write model's state, unless it is between a reset and its reload (which starts at
        once): then Unavailable, which a retry gets past, never a check against an empty state
        that would see no object at all."""
        if not self.privileges.loaded and not self.principal.admin:
            raise Unavailable("privileges are being reloaded; retry")
        return self.privileges.state

    async def chain(self, securable: Securable) -> Chain:
        if securable.type is MODEL:  # admins' too: what they read here are the ACLs
            await self.know([securable.full_name])
        found = self.state().chain(securable)
        if found is None:
            raise securable.missing()
        return found

    async def require(self, full_name: str, kind: SecurableType = MODEL, *,
                      past: bool = False) -> None:
        """Reading a model or its versions needs EXECUTE (or ownership) and USE on its parents;
        reading a catalog or schema, its USE (and its catalog's). `past`: the object as it was at
        some moment (catalogs and schemas, whose names are their identity), checked on what it
        holds now: one deleted since holds nothing, so only admins read it."""
        if self.checked or self.principal.admin:
            return
        securable = Securable(kind, full_name)
        await self._know([full_name], kind)
        may = self._may(securable)
        if may or (may is None and not past):
            return  # None: no such object now, and its 404 follows
        raise self.denial(Action.READ, securable)

    async def require_to(self, action: Action, full_name: str) -> None:
        """A check for something other than reading that is handed out rather than written (the
        read-write credentials of a version's files need what registering the version needs)."""
        if self.principal.admin:
            return
        securable = Securable(MODEL, full_name)
        if not allowed(self.principal, action, await self.chain(securable)):
            raise self.denial(action, securable)

    async def readable(self, full_names: Iterable[str], kind: SecurableType = MODEL
                       ) -> Callable[[str], bool]:
        """Which of these objects (by full name) a listing may show: those the principal may
        read."""
        if self.principal.admin:
            return lambda _: True
        full_names = list(full_names)
        await self._know(full_names, kind)
        shown = {n for n in full_names if self._may(Securable(kind, n))}
        return shown.__contains__

    async def require_past(self, model_id: UUID, full_name: str) -> None:
        """A model as it was at some past moment (named `full_name` then): checked on the
        privileges it holds now, found by its identity, as its name then may have passed to
        another model since. A model deleted since holds none of its own: what its schema and
        catalog grant now (their ownership, EXECUTE or MANAGE on them) still counts."""
        if self.principal.admin:
            return
        await self.privileges.know(self.db, ids=[model_id])
        if not self._may_past(model_id, full_name):
            raise self.denial(Action.READ, Securable(MODEL, full_name))

    async def readable_past(self, models: Iterable[Model]) -> Callable[[Model], bool]:
        """Which of these models as they were a listing may show (see require_past)."""
        if self.principal.admin:
            return lambda _: True
        models = list(models)
        await self.privileges.know(self.db, ids=[x.id for x in models])
        shown = {x.id for x in models if self._may_past(x.id, x.full_name)}
        return lambda model: model.id in shown

    async def now_named(self, model_id: UUID) -> str | None:
        """The name a model bears now (None: deleted since), whoever asks."""
        await self.privileges.know(self.db, ids=[model_id])
        return self.privileges.state.model_name(model_id)

    def denial(self, action: str, securable: Securable) -> PermissionDenied:
        return authority.denial(self.principal, action, securable)

    async def know(self, full_names: Iterable[str]) -> None:
        """Hold these models (by full name) in the write model's index until the next await, to
        check a command against `state()` as the writer would."""
        await self.privileges.know(self.db, names=full_names)

    async def _know(self, full_names: Iterable[str], kind: SecurableType) -> None:
        if kind is MODEL and not self.principal.admin:
            await self.know(full_names)

    def _may_past(self, model_id: UUID, full_name: str) -> bool:
        """Of a model looked up by identity (`know`) just before."""
        current = self.state()
        name = current.model_name(model_id)
        if name is not None:
            return bool(self._may(Securable(MODEL, name)))
        catalog, schema, _ = names.levels(full_name)
        parents = current.chain(Securable(SecurableType.SCHEMA, f"{catalog}.{schema}"))
        return parents is not None and allowed(self.principal, Action.READ, [*parents, Acl("")])

    def _may(self, securable: Securable) -> bool | None:
        """Of an object looked up (`_know`) just before."""
        if self.principal.admin:
            return True
        current = self.state()
        decisions = self.privileges.decisions
        key = (self.principal, securable)
        if key in decisions:
            return decisions[key]
        acls = current.chain(securable)
        if acls is None:
            decided = None
        elif securable.type is SecurableType.METASTORE:
            decided = self.principal.name in acls[0].grants  # one's own grants (and admins)
        else:
            decided = allowed(self.principal, Action.READ, acls)
        if len(decisions) >= self.privileges.max_decisions:
            decisions.clear()
        decisions[key] = decided
        return decided
