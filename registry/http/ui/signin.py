"""Signing in (paste a token; it is checked by the same auth store as a bearer header, then kept
in the session cookie) and out. With authentication off there is nothing to sign in to."""

from aiohttp import web

from registry.auth import tokens
from registry.http.errors import ApiError
from registry.http.keys import AUTH, SETTINGS
from registry.http.ui import session
from registry.http.ui.render import page, redirect
from registry.http.validation import read_body


async def sign_in_form(request: web.Request) -> web.Response:
    target = session.local_target(request.query.get("next"))
    return page(request, "sign_in.html", title="Sign in", next=target, failure=None)


async def sign_in(request: web.Request) -> web.StreamResponse:
    await read_body(request)  # within the time allowed; post() then parses what it read
    form = await request.post()
    target = session.local_target(str(form.get("next", "")))
    if not session.same_origin(request):
        return page(request, "error.html", status=403, error=ApiError(
            403, "CSRF_CHECK_FAILED", "a sign-in from another site is refused"))
    if request.config_dict[SETTINGS].auth_mode == "none":
        return redirect(request, target, "Authentication is off: you act as the local admin.")
    token = tokens.parse(str(form.get("token", "")).strip())
    principal = None if token is None else await request.config_dict[AUTH].authenticate(token)
    if token is None or principal is None:
        return page(request, "sign_in.html", status=401, title="Sign in", next=target,
                    failure="That token is not valid, or it has expired or been revoked.")
    response = redirect(request, target, f"Signed in as {principal.name}.")
    session.set_cookie(request, response, session.COOKIE, str(token))
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    try:
        await session.check_form(request)
    except ApiError as exc:
        return page(request, "error.html", status=exc.status, error=exc)
    response = redirect(request, session.SIGN_IN, "Signed out.")
    response.del_cookie(session.COOKIE, path="/")
    return response
