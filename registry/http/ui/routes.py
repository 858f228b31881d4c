"""The web UI's routes: `/` and everything under `/ui/`, beside the APIs and never inside them."""

from pathlib import Path

from aiohttp import web

from registry.http import errors
from registry.http.authenticate import admin_only
from registry.http.errors import ApiError
from registry.http.native import audit as audit_api
from registry.http.surface import surface, through
from registry.http.ui import actions, audit_page, browse, model_page, signin, version_page
from registry.http.ui.render import html_errors
from registry.http.ui.session import SIGN_IN, STATIC_PREFIX, UI
from registry.http.ui.signed_in import signed_in

STATIC = Path(__file__).parent / "static"


def create_app() -> web.Application:
    """The UI's pages under `/ui`; its answers to failures the pages do not show themselves (e.g.
    a cross-site write) are the native API's JSON."""
    app = surface(errors.response, identified_by=signed_in)
    m = "/models/{full_name}"
    v = f"{m}/versions/{{version}}"
    app.router.add_routes([
        web.get("/catalogs/{catalog}", browse.schemas),
        web.get("/models", browse.models),
        web.get(m, model_page.model_page),
        web.post(f"{m}/aliases", actions.set_alias),
        web.post(f"{m}/aliases/{{alias}}/delete", actions.delete_alias),
        web.post(f"{m}/description", actions.set_description),
        web.post(f"{m}/tags", actions.set_tag),
        web.post(f"{m}/tags/delete", actions.delete_tag),
        web.get(v, version_page.version_page),
        web.post(f"{v}/description", actions.set_version_description),
        web.post(f"{v}/tags", actions.set_version_tag),
        web.post(f"{v}/tags/delete", actions.delete_version_tag),
        web.post(f"{m}/stage", actions.transition_stage),
        web.post(f"{m}/requests", actions.request_transition),
        web.post(f"{v}/requests/{{stage}}/approve", actions.approve_transition),
        web.post(f"{v}/requests/{{stage}}/reject", actions.reject_transition),
        web.post(f"{v}/requests/{{stage}}/cancel", actions.cancel_transition),
        web.get("/audit", audit_page.audit_view),
        # The CSV export is the audit API's own, here on a UI path so the session cookie reaches
        # it (the API's path takes bearer tokens only).
        web.get("/audit/export", admin_only(audit_api.audit_export)),
        web.get(SIGN_IN.removeprefix(UI), signin.sign_in_form),
        web.post(SIGN_IN.removeprefix(UI), signin.sign_in),
        web.post("/sign-out", signin.sign_out),
    ])
    app.router.add_static(STATIC_PREFIX.removeprefix(UI), STATIC, append_version=False)
    app.router.add_get("/{anything:.*}", not_found)  # last: after every other /ui/ route
    return app


def add_to(app: web.Application) -> None:
    """The UI under `/ui`, and its home page at `/` (outside `/ui`, through the UI's own
    middlewares)."""
    ui = create_app()
    app.add_subapp(UI, ui)
    app.router.add_get("/", through(ui.middlewares, browse.catalogs))


@html_errors
async def not_found(request: web.Request) -> web.Response:
    raise ApiError(404, "NOT_FOUND", f"there is no page at {request.path}")
