"""Who a request to an API is: the local admin (no auth), a bearer token's principal, or a trusted
proxy's user. Unauthenticated requests get a 401 in their surface's own error format (the
sub-application's `answering` middleware, which this runs inside), with `WWW-Authenticate: Bearer`.
The web UI has its own (registry/http/ui/signed_in.py): there a session cookie counts too.
"""

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from registry.auth import tokens
from registry.domain.errors import InvalidArgument
from registry.domain.principals import ADMIN, Principal
from registry.http.errors import ApiError
from registry.http.keys import ACTOR, AUTH, PRINCIPAL, SETTINGS

LOCAL_ADMIN = Principal(ADMIN, admin=True)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def unauthenticated(why: str) -> ApiError:
    # The presented credential is never echoed back, nor logged.
    return ApiError(401, "UNAUTHENTICATED", f"{why}; send 'Authorization: Bearer <token>' "
                    "(MLFLOW_TRACKING_TOKEN or MLFLOW_UC_OSS_TOKEN for the MLflow client)")


async def identify(request: web.Request) -> Principal:
    settings = request.config_dict[SETTINGS]
    if settings.auth_mode == "none":
        return LOCAL_ADMIN
    if settings.auth_mode == "trusted-header" and settings.trusted_header in request.headers:
        names = request.headers.getall(settings.trusted_header)
        if len(names) > 1:
            # A proxy that appends its header to the client's would leave the client's first.
            raise unauthenticated("the trusted header is given more than once")
        try:
            return await request.config_dict[AUTH].principal(names[0])
        except InvalidArgument:
            raise unauthenticated("the trusted header does not name a principal") from None
    header = request.headers.get("Authorization")
    if header is None:
        raise unauthenticated("authentication required")
    token = tokens.bearer(header)
    principal = None if token is None else await request.config_dict[AUTH].authenticate(token)
    if principal is None:
        raise unauthenticated("the bearer token is invalid, expired or revoked")
    return principal


def acting_as(request: web.Request, principal: Principal) -> None:
    request[PRINCIPAL], request[ACTOR] = principal, principal.name


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    acting_as(request, await identify(request))
    return await handler(request)


def admin_only(handler: Handler) -> Handler:
    """For views of the whole log (audit events, the live feed) and of webhooks, which receive
    it: they show every object, actor and grant, whatever the caller may read."""

    @functools.wraps(handler)
    async def view(request: web.Request) -> web.StreamResponse:
        require_admin(request)
        return await handler(request)

    return view


def require_admin(request: web.Request) -> None:
    if not request[PRINCIPAL].admin:
        raise ApiError(403, "PERMISSION_DENIED", f"principal {request[PRINCIPAL].name!r} is not an admin")
