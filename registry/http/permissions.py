"""Unity Catalog's permissions API, on its own prefix and on the native one, in UC's wire format:

GET/PATCH `/permissions/{securable_type}/{full_name}` (PermissionsList; PATCH takes UpdatePermissions,
`changes: [{principal, add, remove}]`) and GET `/effective-permissions/...` (Databricks' shape:
each privilege with the securable it is inherited from). Changing grants needs MANAGE (owners and
admins hold it); reading them needs READ or MANAGE on the object. Both GETs take `as_of` (a log
position or time): "who could deploy prod.fraud.scorer on 3 March?" is
`/effective-permissions/registered_model/prod.fraud.scorer?as_of=2026-03-03T12:00:00Z`.
"""

from typing import Any

from aiohttp import web

from registry.domain import commands as c
from registry.domain import names
from registry.domain.errors import InvalidArgument
from registry.domain.events import PrivilegeChange
from registry.domain.privileges import (
    GRANTABLE,
    Chain,
    P,
    Privilege,
    Securable,
    SecurableType,
    effective,
)
from registry.http import authorize
from registry.http.dispatch import execute
from registry.http.validation import Body, Query, parse_body, parse_query
from registry.http.wire import json_response

NATIVE = web.AppKey("permissions_native", bool)  # the native API shows every privilege


class PrincipalQuery(Query):
    principal: str | None = None
    as_of: str | None = None  # a log position or an ISO-8601 time: the grants as they were then


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


async def _readable(request: web.Request, securable: Securable, when: str | None) -> Chain:
    reader = authorize.reader(request)
    return await reader.acls(securable, None if when is None else await reader.point(when))


# Unity Catalog's own privileges (its spec's `Privilege` enum): its SDK refuses any other.
# MANAGE, APPLY TAG and ALL PRIVILEGES are Databricks' and Modelog's; on UC's surface ALL
# PRIVILEGES shows as the UC privileges it includes there, the others only on the native API.
UC_PRIVILEGES = frozenset({P.CREATE_CATALOG, P.USE_CATALOG, P.USE_SCHEMA, P.CREATE_SCHEMA, P.CREATE_MODEL,
                           P.EXECUTE})


def _as_uc(held: set[Privilege], securable: SecurableType) -> list[str]:
    if P.ALL_PRIVILEGES in held:
        held = held | GRANTABLE[securable]
    return sorted(held & UC_PRIVILEGES)


def permissions_list(acls: Chain, principal: str | None, securable: SecurableType | None = None
                     ) -> dict[str, Any]:
    """The grants on the object; with `securable`, within Unity Catalog's spec (its surface)."""
    grants = acls[-1].grants
    out = []
    for p in sorted(grants):
        if principal is None or p == principal:
            held = sorted(grants[p]) if securable is None else _as_uc(set(grants[p]), securable)
            if held:
                out.append({"principal": p, "privileges": held})
    return {"privilege_assignments": out}


def _surface(request: web.Request, securable: Securable) -> SecurableType | None:
    return None if request.app[NATIVE] else securable.type


async def get_permissions(request: web.Request) -> web.Response:
    query = parse_query(request, PrincipalQuery)
    securable = _securable(request)
    acls = await _readable(request, securable, query.as_of)
    return json_response(permissions_list(acls, query.principal, _surface(request, securable)))


async def update_permissions(request: web.Request) -> web.Response:
    parse_query(request, Query)
    body = await parse_body(request, UpdateBody)
    securable = _securable(request)
    await execute(request, c.UpdatePermissions(securable_type=securable.type,
                                               full_name=securable.full_name, changes=body.changes))
    return json_response(permissions_list(await authorize.access(request).chain(securable), None,
                                          _surface(request, securable)))


async def get_effective(request: web.Request) -> web.Response:
    query = parse_query(request, PrincipalQuery)
    securable = _securable(request)
    acls = await _readable(request, securable, query.as_of)
    parts = names.levels(securable.full_name)
    types = list(SecurableType)
    principals = {p for acl in acls for p in acl.grants} | {acl.owner for acl in acls}
    out = []
    for p in sorted(principals):
        if query.principal is not None and p != query.principal:
            continue
        held = [{"privilege": privilege.value,
                 **({} if at is None else {"inherited_from_type": types[at].value,
                                           "inherited_from_name": ".".join(parts[: at + 1])})}
                for privilege, at in effective(p, acls, securable.type)]
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
                          "owner": (await authorize.access(request).chain(securable))[-1].owner})


def add_routes(app: web.Application, *, native: bool) -> None:
    app[NATIVE] = native
    path = "{securable_type}/{full_name}"
    app.router.add_routes([
        web.get(f"/permissions/{path}", get_permissions),
        web.patch(f"/permissions/{path}", update_permissions),
        web.get(f"/effective-permissions/{path}", get_effective),
    ])
    if native:
        app.router.add_route("PUT", f"/owner/{path}", transfer_owner)
