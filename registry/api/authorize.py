"""The privilege checks of reads: the caller's principal against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits (and as other
processes commit: registry/write_model_sync.py), so a check costs no database round trip, and a
grant or revoke counts from the next request on. Writes are checked by the writer itself, as each
command is decided (RegistryService.execute): no revocation can slip in between check and append.
"""

from collections.abc import Callable

from aiohttp import web

from ..domain import authority
from ..domain.errors import NotFound, PermissionDenied
from ..domain.privileges import Action, Chain, Securable, SecurableType, allowed
from ..domain.state import RegistryState
from .errors import ApiError
from .keys import COMMAND, PRINCIPAL, SERVICE


def state(request: web.Request) -> RegistryState:
    """The write model's state, unless it is between a reset and its reload (which
    registry/write_model_sync.py starts at once): then a 503 that a retry gets past, never a check
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


def require_read(request: web.Request, full_name: str) -> None:
    """Reading a model or its versions needs EXECUTE (or ownership) and USE on its parents. A
    request that has run a command was checked for it already: its answer reads what it wrote."""
    if COMMAND in request or _may_read(request, full_name) is not False:
        return  # None: no such model now, and its 404 follows
    raise denial(request, Action.READ, Securable(SecurableType.REGISTERED_MODEL, full_name))


def model_filter(request: web.Request) -> Callable[[str], bool]:
    """Which models (by full name) a listing may show the caller: those it may read."""
    return lambda full_name: bool(_may_read(request, full_name))


def _may_read(request: web.Request, full_name: str) -> bool | None:
    principal = request[PRINCIPAL]
    if principal.admin:
        return True
    acls = state(request).chain(Securable(SecurableType.REGISTERED_MODEL, full_name))
    return None if acls is None else allowed(principal, Action.READ, acls)


def denial(request: web.Request, action: str, securable: Securable) -> PermissionDenied:
    return authority.denial(request[PRINCIPAL], action, securable)
