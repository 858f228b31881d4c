"""The web UI's routes: `/` and everything under `/ui/`, beside the APIs and never inside them."""

from pathlib import Path

from aiohttp import web

from registry.http.authenticate import admin_only
from registry.http.errors import ApiError
from registry.http.native import audit as audit_api
from registry.http.ui import actions, audit_page, browse, model_page, signin, version_page
from registry.http.ui.render import html_errors
from registry.http.ui.session import SIGN_IN, STATIC_PREFIX

STATIC = Path(__file__).parent / "static"


def add_routes(app: web.Application) -> None:
    m = "/ui/models/{full_name}"
    v = f"{m}/versions/{{version}}"
    app.router.add_routes([
        web.get("/", browse.catalogs),
        web.get("/ui/catalogs/{catalog}", browse.schemas),
        web.get("/ui/models", browse.models),
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
        web.get("/ui/audit", audit_page.audit_view),
        # The CSV export is the audit API's own, here on a UI path so the session cookie reaches
        # it (the API's path takes bearer tokens only).
        web.get("/ui/audit/export", admin_only(audit_api.audit_export)),
        web.get(SIGN_IN, signin.sign_in_form),
        web.post(SIGN_IN, signin.sign_in),
        web.post("/ui/sign-out", signin.sign_out),
    ])
    app.router.add_static(STATIC_PREFIX, STATIC, append_version=False)
    app.router.add_get("/ui/{anything:.*}", not_found)  # last: after every other /ui/ route


@html_errors
async def not_found(request: web.Request) -> web.Response:
    raise ApiError(404, "NOT_FOUND", f"there is no page at {request.path}")
