"""Who a request to the web UI is. As for the APIs (registry/http/authenticate.py), and the session
cookie counts too: the UI's paths are the only ones where it does (registry/http/ui/session.py).
With no valid credential the browser is sent to sign in, and back here after."""

from urllib.parse import quote

from aiohttp import web

from registry.domain.principals import Principal
from registry.http.authenticate import Handler, acting_as, identify
from registry.http.errors import ApiError
from registry.http.keys import AUTH, SETTINGS
from registry.http.ui import session


async def _identify(request: web.Request) -> Principal | None:
    """None: no valid credential at all."""
    settings = request.config_dict[SETTINGS]
    token = session.cookie_token(request)
    presented = "Authorization" in request.headers or (
        settings.auth_mode == "trusted-header" and settings.trusted_header in request.headers)
    if settings.auth_mode != "none" and token is not None and not presented:
        principal = await request.config_dict[AUTH].authenticate(token)
        if principal is not None:
            return principal
    try:
        return await identify(request)
    except ApiError:
        return None


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.config_dict[SETTINGS].auth_mode != "none" and session.is_open_ui_path(request.path):
        return await handler(request)
    found = await _identify(request)
    if found is None:
        return web.Response(status=303, headers={
            "Location": f"{session.SIGN_IN}?next={quote(request.path_qs)}"})
    acting_as(request, found)
    return await handler(request)
