"""The web UI's session: a cookie, the CSRF token bound to it, and who the cookie says you are.

The cookie holds the bearer token pasted at sign-in (or, when no token is needed, a random id that
only anchors the CSRF token). It is HttpOnly, SameSite=Strict, and Secure over TLS, and the
UI's own sign-in middleware (registry/http/ui/signed_in.py) is the only one that honours it: the
JSON APIs never see a cookie as a credential, so a cross-site form cannot reach them through it.

A form's CSRF token is a digest of the cookie's value: stateless (any server process checks it),
and unknowable to a page that cannot read the cookie. POSTs must also come from this origin.
"""

import hashlib
import hmac
import secrets
from urllib.parse import quote

from aiohttp import web

from registry.auth import tokens
from registry.domain.principals import Principal
from registry.http.cross_site import cross_site
from registry.http.errors import ApiError
from registry.http.validation import read_body, unstorable

COOKIE = "modelog_session"
FLASH = "modelog_flash"
UI = "/ui"  # the UI's sub-application; its home page is `/`
STATIC_PREFIX = f"{UI}/static/"
SIGN_IN = f"{UI}/sign-in"
OPEN_UI_PATHS = frozenset({SIGN_IN})  # reachable before signing in


def is_open_ui_path(path: str) -> bool:
    return path in OPEN_UI_PATHS or path.startswith(STATIC_PREFIX)


def cookie_token(request: web.Request) -> tokens.Token | None:
    value = request.cookies.get(COOKIE)
    return None if value is None or len(value) > 256 else tokens.parse(value)


def csrf_token(request: web.Request) -> str:
    """The token this session's forms carry ("" until the session has a cookie)."""
    value = request.cookies.get(COOKIE) or request.get(_NEW_COOKIE, "")
    if not value:
        return ""
    return hashlib.sha256(b"modelog-csrf\x00" + value.encode()).hexdigest()


_NEW_COOKIE = web.RequestKey("ui_new_cookie", str)


def ensure_cookie(request: web.Request) -> None:
    """A session needs a cookie for its forms' CSRF token, even when no sign-in is asked."""
    if COOKIE not in request.cookies and _NEW_COOKIE not in request:
        request[_NEW_COOKIE] = "anon_" + secrets.token_urlsafe(24)


def finish(request: web.Request, response: web.StreamResponse) -> None:
    """Sends the cookie `ensure_cookie` made, if it made one."""
    if _NEW_COOKIE in request:
        set_cookie(request, response, COOKIE, request[_NEW_COOKIE])


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Strict",
                        secure=over_tls(request))


def over_tls(request: web.Request) -> bool:
    """TLS here, or ended by a proxy in front that says so. Trusting the proxy's header is safe
    in this one direction: a client that forges it only keeps its own cookie off plain HTTP."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def same_origin(request: web.Request) -> bool:
    """The API's own rule (registry/http/cross_site.py, whose middleware refuses such writes
    first): what a browser sends on another site's behalf is refused here too."""
    return not cross_site(request)


async def check_form(request: web.Request) -> dict[str, str]:
    """The posted form, once its origin and CSRF token are checked."""
    await read_body(request)  # within the time allowed; post() then parses what it read
    form = await request.post()
    given = str(form.get("csrf", ""))
    expected = csrf_token(request)
    if not same_origin(request) or not expected or not hmac.compare_digest(given, expected):
        raise ApiError(403, "CSRF_CHECK_FAILED", "this form is stale or comes from another site: "
                       "reload the page and try again")
    fields = {k: str(v) for k, v in form.items()}
    if unstorable(fields):  # as the APIs refuse it: PostgreSQL text cannot hold it
        raise ApiError(400, "INVALID_ARGUMENT",
                       "form fields must not contain NUL or unpaired surrogates")
    return fields


# What a path and query may hold as they are: everything printable in ASCII but what quote()
# must encode for a header (space) or that would change the URL's meaning if decoded.
_URL_SAFE = "/?&=%#:@!$'()*+,;~-._[]"


def local_target(target: str | None, default: str = "/") -> str:
    """Where to go back to: only a path on this server (never `//host` or a scheme, never a
    control character, which would break the Location header), non-ASCII percent-encoded."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ch < " " or ch == "\x7f" for ch in target):
        return default
    return quote(target, safe=_URL_SAFE)


def who(principal: Principal, auth_mode: str) -> str:
    if auth_mode == "none":
        return f"{principal.name} (local admin: authentication is off)"
    return principal.name + (" (admin)" if principal.admin else "")
