"""The privilege check of a request: the caller's principal against the write model's ACLs.

The ACLs are the write model's, in memory and folded from the log as it commits, so a check costs
no database round trip, and a grant or revoke counts from the next request on.
"""

from aiohttp import web

from ..domain.errors import NotFound, PermissionDenied
from ..domain.privileges import Action, Chain, Securable, allowed
from .keys import PRINCIPAL, SERVICE


def chain(request: web.Request, securable: Securable) -> Chain:
    found = request.app[SERVICE].write_model.state.chain(securable)
    if found is None:
        raise NotFound(f"{securable.type} {securable.full_name!r} does not exist",
                       securable=securable.full_name)
    return found


def may(request: web.Request, action: Action, securable: Securable) -> bool:
    return allowed(request[PRINCIPAL], action, chain(request, securable))


def require(request: web.Request, action: Action, securable: Securable) -> Chain:
    acls = chain(request, securable)
    principal = request[PRINCIPAL]
    if not allowed(principal, action, acls):
        raise PermissionDenied(f"principal {principal.name!r} may not {action} "
                               f"{securable.type} {securable.full_name!r}",
                               securable=securable.full_name, action=str(action))
    return acls
