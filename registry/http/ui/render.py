"""Pages from templates (Jinja2, autoescaped: every string from the log is text, never markup),
the one-shot message a redirect carries, and errors shown as pages rather than JSON."""

import base64
import functools
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jinja2
import pydantic
from aiohttp import web

from registry.domain.errors import DomainError, PermissionDenied
from registry.http import authorize, errors
from registry.http.keys import PRINCIPAL, SETTINGS
from registry.http.ui import session
from registry.http.validation import Query

View = Callable[[web.Request], Awaitable[web.StreamResponse]]

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("registry.http.ui", "templates"),
    autoescape=True,  # every template is HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(t: datetime | None) -> str:
    return "" if t is None else t.isoformat(sep=" ", timespec="seconds")


ENV.filters["when"] = _when
ENV.globals["STATIC"] = session.STATIC_PREFIX
ENV.globals["qs"] = lambda **params: urlencode({k: v for k, v in params.items()
                                                if v is not None and v != ""})


class FormQuery(Query):
    """Query parameters from an HTML form (GET): a field left empty is a field not given."""

    @pydantic.model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if v != ""} if isinstance(data, dict) else data


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    session.ensure_cookie(request)
    error = context.get("error")
    context.setdefault("title", "Modelog" if error is None else f"{error.status} {error.code}")
    principal = request.get(PRINCIPAL)
    mode = request.config_dict[SETTINGS].auth_mode
    flash = _read_flash(request)
    html = ENV.get_template(template).render(
        request=request, csrf=session.csrf_token(request), flash=flash, auth_mode=mode,
        signed_in=None if principal is None else session.who(principal, mode),
        is_admin=principal is not None and principal.admin,
        can_sign_out=session.cookie_token(request) is not None, **context)
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    # Nothing framed, nothing fetched from elsewhere, no inline script.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    if flash is not None:
        response.del_cookie(session.FLASH, path="/")
    session.finish(request, response)
    return response


def redirect(request: web.Request, target: str, message: str, ok: bool = True) -> web.Response:
    """POST/redirect/GET: the message rides along in a cookie for the next page to show."""
    response = web.Response(status=303, headers={"Location": session.local_target(target)})
    # base64 keeps the cookie's value within its alphabet, and a cut message within 4 KiB.
    session.set_cookie(request, response, session.FLASH, base64.urlsafe_b64encode(
        json.dumps({"ok": ok, "text": message[:1200]}).encode()).decode())
    return response


def _read_flash(request: web.Request) -> dict[str, Any] | None:
    raw = request.cookies.get(session.FLASH)
    if not raw:
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(raw.encode()))
        return {"ok": bool(found["ok"]), "text": str(found["text"])}
    except (ValueError, KeyError, TypeError):
        return None


def problem(exc: Exception) -> errors.ApiError:
    """A failure as the APIs would report it: the same status, code and message."""
    if isinstance(exc, errors.ApiError):
        return exc
    if isinstance(exc, DomainError):
        return errors.from_domain(exc)
    if isinstance(exc, pydantic.ValidationError):
        return errors.from_validation(exc, "form")
    raise exc


async def record_denied(request: web.Request, exc: Exception) -> None:
    """A refusal is kept in the denied attempts, as the APIs keep theirs."""
    if isinstance(exc, PermissionDenied):
        await authorize.record_refusal(request, exc)


def html_errors(view: View) -> View:
    """A page view whose domain errors (403, 404, …) render as an error page."""

    @functools.wraps(view)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await view(request)
        except (errors.ApiError, DomainError, pydantic.ValidationError) as exc:
            await record_denied(request, exc)
            err = problem(exc)
            return page(request, "error.html", status=err.status, error=err)

    return wrapped
