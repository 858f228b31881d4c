"""The privilege check of a request: the caller's principal against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits, so a check costs
no database round trip, and a grant or revoke counts from the next request on. The check of a
write runs before the command reaches the writer: a revocation committed in between is not seen
by that one command.
"""

from collections.abc import Callable

from aiohttp import web

from ..domain.authority import denied
from ..domain.commands import Command
from ..domain.errors import NotFound, PermissionDenied
from ..domain.privileges import Action, Chain, Securable, SecurableType, allowed
from .keys import COMMAND, PRINCIPAL, SERVICE


def chain(request: web.Request, securable: Securable) -> Chain:
    found = request.app[SERVICE].write_model.state.chain(securable)
    if found is None:
        raise NotFound(f"{securable.type} {securable.full_name!r} does not exist",
                       securable=securable.full_name)
    return found


def require_for(request: web.Request, cmd: Command) -> None:
    """Every write goes through here (dispatch.execute)."""
    need = denied(request[PRINCIPAL], cmd, request.app[SERVICE].write_model.state)
    if need is not None:
        raise denial(request, *need)


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
    acls = request.app[SERVICE].write_model.state.chain(
        Securable(SecurableType.REGISTERED_MODEL, full_name))
    return None if acls is None else allowed(principal, Action.READ, acls)


def denial(request: web.Request, action: str, securable: Securable) -> PermissionDenied:
    return PermissionDenied(f"principal {request[PRINCIPAL].name!r} may not {action} "
                            f"{securable.type} {securable.full_name!r}",
                            securable_type=str(securable.type), full_name=securable.full_name,
                            action=str(action))
