"""Unity Catalog's permissions API, on its own prefix and on the native one, in UC's wire format:

GET/PATCH `/permissions/{securable_type}/{full_name}` (PermissionsList; PATCH takes UpdatePermissions,
`changes: [{principal, add, remove}]`) and GET `/effective-permissions/...` (Databricks' shape:
each privilege with the securable it is inherited from). Changing grants needs MANAGE (owners and
admins hold it); reading them needs READ or MANAGE on the object.
"""

from typing import Any

from aiohttp import web

from ..domain import commands as c
from ..domain.errors import InvalidArgument
from ..domain.events import PrivilegeChange
from ..domain.privileges import Action, Chain, Securable, SecurableType, allowed, effective
from . import authorize
from .dispatch import execute
from .keys import PRINCIPAL
from .validation import Body, Query, parse_body, parse_query
from .wire import json_response


class PrincipalQuery(Query):
    principal: str | None = None


class UpdateBody(Body):
    changes: list[PrivilegeChange]


class OwnerBody(Body):
    owner: str


def _securable(request: web.Request) -> Securable:
    kind = request.match_info["securable_type"]
    try:
        return Securable(SecurableType(kind), request.match_info["full_name"])
    except ValueError:
        raise InvalidArgument(f"securable type {kind!r} is not one of "
                              f"{', '.join(t.value for t in SecurableType)}",
                              field="securable_type") from None


def _readable(request: web.Request, securable: Securable) -> Chain:
    acls = authorize.chain(request, securable)
    if not any(allowed(request[PRINCIPAL], a, acls) for a in (Action.READ, Action.MANAGE)):
        raise authorize.denial(request, Action.READ, securable)
    return acls


def permissions_list(acls: Chain, principal: str | None) -> dict[str, Any]:
    grants = acls[-1].grants
    return {"privilege_assignments": [
        {"principal": p, "privileges": sorted(grants[p])}
        for p in sorted(grants) if principal is None or p == principal]}


async def get_permissions(request: web.Request) -> web.Response:
    query = parse_query(request, PrincipalQuery)
    return json_response(permissions_list(_readable(request, _securable(request)), query.principal))


async def update_permissions(request: web.Request) -> web.Response:
    parse_query(request, Query)
    body = await parse_body(request, UpdateBody)
    securable = _securable(request)
    await execute(request, c.UpdatePermissions(securable_type=securable.type,
                                               full_name=securable.full_name, changes=body.changes))
    return json_response(permissions_list(authorize.chain(request, securable), None))


async def get_effective(request: web.Request) -> web.Response:
    query = parse_query(request, PrincipalQuery)
    securable = _securable(request)
    acls = _readable(request, securable)
    parts = securable.full_name.split(".")
    types = list(SecurableType)
    principals = {p for acl in acls for p in acl.grants} | {acl.owner for acl in acls}
    out = []
    for p in sorted(principals):
        if query.principal is not None and p != query.principal:
            continue
        held = [{"privilege": privilege.value,
                 **({} if at is None else {"inherited_from_type": types[at].value,
                                           "inherited_from_name": ".".join(parts[: at + 1])})}
                for privilege, at in effective(p, acls)]
        if held:
            out.append({"principal": p, "privileges": held})
    return json_response({"privilege_assignments": out})


async def transfer_owner(request: web.Request) -> web.Response:
    parse_query(request, Query)
    body = await parse_body(request, OwnerBody)
    securable = _securable(request)
    await execute(request, c.TransferOwnership(securable_type=securable.type,
                                               full_name=securable.full_name, owner=body.owner))
    return json_response({"securable_type": securable.type.value, "full_name": securable.full_name,
                          "owner": authorize.chain(request, securable)[-1].owner})


def add_routes(app: web.Application, prefix: str, *, native: bool) -> None:
    path = "{securable_type}/{full_name}"
    app.router.add_routes([
        web.get(f"{prefix}/permissions/{path}", get_permissions),
        web.patch(f"{prefix}/permissions/{path}", update_permissions),
        web.get(f"{prefix}/effective-permissions/{path}", get_effective),
    ])
    if native:
        app.router.add_route("PUT", f"{prefix}/owner/{path}", transfer_owner)
