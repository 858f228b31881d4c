"""The privilege checks of reads: the caller's principal against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits (and as other
processes commit: registry/service/write_model_sync.py), so a check costs no database round trip, and a
grant or revoke counts from the next request on. Writes are checked by the writer itself, as each
command is decided (RegistryService.execute): no revocation can slip in between check and append.
"""

from collections.abc import Callable
from uuid import UUID

from aiohttp import web

from registry.audit import denied
from registry.domain import authority
from registry.domain.errors import NotFound, PermissionDenied
from registry.domain.models import Model
from registry.domain.privileges import Acl, Action, Chain, Securable, SecurableType, allowed
from registry.domain.state import RegistryState
from registry.http.errors import ApiError
from registry.http.keys import COMMAND, POOL, PRINCIPAL, REQUEST_ID, SERVICE

MODEL = SecurableType.REGISTERED_MODEL
MAX_DECISIONS = 100_000  # remembered read checks (principal x object) before starting afresh


def state(request: web.Request) -> RegistryState:
    """The write model's state, unless it is between a reset and its reload (which
    registry/service/write_model_sync.py starts at once): then a 503 that a retry gets past, never a check
    against an empty state that would see no object at all."""
    service = request.app[SERVICE]
    if not service.write_model.loaded and not request[PRINCIPAL].admin:
        raise ApiError(503, "UNAVAILABLE", "privileges are being reloaded; retry")
    return service.write_model.state


def chain(request: web.Request, securable: Securable) -> Chain:
    found = state(request).chain(securable)
    if found is None:
        raise NotFound(f"{securable.type} {securable.full_name!r} does not exist",
                       securable=securable.full_name)
    return found


def require_read(request: web.Request, full_name: str, kind: SecurableType = MODEL, *,
                 past: bool = False) -> None:
    """Reading a model or its versions needs EXECUTE (or ownership) and USE on its parents;
    reading a catalog or schema, its USE (and its catalog's). A request that has run a command was
    checked for it already: its answer reads what it wrote. `past`: the object as it was at some
    moment (catalogs and schemas, whose names are their identity), checked on what it holds now:
    one deleted since holds nothing, so only admins read it."""
    securable = Securable(kind, full_name)
    if COMMAND in request:
        return
    may = _may_read(request, securable)
    if may or (may is None and not past):
        return  # None: no such object now, and its 404 follows
    raise denial(request, Action.READ, securable)


def readable(request: web.Request, kind: SecurableType = MODEL) -> Callable[[str], bool]:
    """Which objects (by full name) a listing may show the caller: those it may read."""
    return lambda full_name: bool(_may_read(request, Securable(kind, full_name)))


def require_read_past(request: web.Request, model_id: UUID, full_name: str) -> None:
    """A model as it was at some past moment (named `full_name` then): checked on the privileges
    it holds now, found by its identity, as its name then may have passed to another model since.
    A model deleted since holds none of its own: what its schema and catalog grant now (their
    ownership, EXECUTE or MANAGE on them) still counts."""
    if not _may_read_past(request, model_id, full_name):
        raise denial(request, Action.READ, Securable(MODEL, full_name))


def readable_past(request: web.Request) -> Callable[[Model], bool]:
    """Which models as they were a listing may show the caller (see require_read_past)."""
    return lambda model: _may_read_past(request, model.id, model.full_name)


def _may_read_past(request: web.Request, model_id: UUID, full_name: str) -> bool:
    if request[PRINCIPAL].admin:
        return True
    current = state(request)
    name = current.model_names.get(model_id)
    if name is not None:
        return bool(_may_read(request, Securable(MODEL, name)))
    catalog, schema, _ = full_name.split(".")
    parents = current.chain(Securable(SecurableType.SCHEMA, f"{catalog}.{schema}"))
    return parents is not None and allowed(request[PRINCIPAL], Action.READ, [*parents, Acl("")])


def _may_read(request: web.Request, securable: Securable) -> bool | None:
    principal = request[PRINCIPAL]
    if principal.admin:
        return True
    current = state(request)
    decisions = request.app[SERVICE].write_model.decisions  # cleared whenever the state changes
    key = (principal, securable)
    if key in decisions:
        return decisions[key]
    acls = current.chain(securable)
    decided = None if acls is None else allowed(principal, Action.READ, acls)
    if len(decisions) >= MAX_DECISIONS:
        decisions.clear()
    decisions[key] = decided
    return decided


async def record_refusal(request: web.Request, exc: PermissionDenied) -> None:
    """Keep a refusal among the denied attempts (principal, action, object, request, route)."""
    resource = request.match_info.route.resource
    await denied.record(request.app[POOL], request[PRINCIPAL].name, exc.details,
                        request[REQUEST_ID], request.method,
                        resource.canonical if resource is not None else request.path)


def denial(request: web.Request, action: str, securable: Securable) -> PermissionDenied:
    return authority.denial(request[PRINCIPAL], action, securable)
