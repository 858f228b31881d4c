"""Who a request is: the local admin (no auth), a bearer token's principal, or a trusted proxy's
user. Unauthenticated requests get a 401 in their surface's own error format (see api.app's
error_json, which this runs inside), with `WWW-Authenticate: Bearer`.
"""

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from registry.auth import tokens
from registry.domain.errors import InvalidArgument
from registry.domain.principals import ADMIN, Principal
from registry.http.errors import ApiError
from registry.http.keys import ACTOR, AUTH, PRINCIPAL, SETTINGS
from registry.http.ui import session as ui

LOCAL_ADMIN = Principal(ADMIN, admin=True)
# Health for probes; /metrics for scrapers: counters only, no names. Until privileges exist any
# token may write, so a scraper's token would be a registry credential.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def unauthenticated(why: str) -> ApiError:
    # The presented credential is never echoed back, nor logged.
    return ApiError(401, "UNAUTHENTICATED", f"{why}; send 'Authorization: Bearer <token>' "
                    "(MLFLOW_TRACKING_TOKEN or MLFLOW_UC_OSS_TOKEN for the MLflow client)")


async def identify(request: web.Request) -> Principal:
    settings = request.app[SETTINGS]
    if settings.auth_mode == "trusted-header" and settings.trusted_header in request.headers:
        names = request.headers.getall(settings.trusted_header)
        if len(names) > 1:
            # A proxy that appends its header to the client's would leave the client's first.
            raise unauthenticated("the trusted header is given more than once")
        try:
            return await request.app[AUTH].principal(names[0])
        except InvalidArgument:
            raise unauthenticated("the trusted header does not name a principal") from None
    header = request.headers.get("Authorization")
    if header is None:
        raise unauthenticated("authentication required")
    token = tokens.bearer(header)
    principal = None if token is None else await request.app[AUTH].authenticate(token)
    if principal is None:
        raise unauthenticated("the bearer token is invalid, expired or revoked")
    return principal


async def identify_ui(request: web.Request) -> Principal | None:
    """On the web UI's paths only, the session cookie is a credential too (registry/http/ui/session.py).
    None: no valid credential at all."""
    settings = request.app[SETTINGS]
    token = ui.cookie_token(request)
    presented = "Authorization" in request.headers or (
        settings.auth_mode == "trusted-header" and settings.trusted_header in request.headers)
    if token is not None and not presented:
        principal = await request.app[AUTH].authenticate(token)
        if principal is not None:
            return principal
    try:
        return await identify(request)
    except ApiError:
        return None


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.app[SETTINGS].auth_mode == "none":
        principal = LOCAL_ADMIN
    elif request.path in OPEN_PATHS or ui.is_open_ui_path(request.path):
        return await handler(request)
    elif ui.is_ui_path(request.path):
        found = await identify_ui(request)
        if found is None:  # the browser is sent to sign in, and back here after
            return web.Response(status=303, headers={
                "Location": f"{ui.SIGN_IN}?next={quote(request.path_qs)}"})
        principal = found
    else:
        principal = await identify(request)
    request[PRINCIPAL], request[ACTOR] = principal, principal.name
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
