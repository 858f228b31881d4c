"""The native API's sub-application, mounted at `PREFIX`: the registry's objects, their history,
the audit trail and its live feed, webhooks, tokens and permissions."""

from aiohttp import web

from registry.http import errors, permissions
from registry.http.native import audit, feed, history, tokens, views, webhooks
from registry.http.surface import surface


def create_app() -> web.Application:
    app = surface(errors.response)
    for part in (views, history, audit, feed, webhooks, tokens):
        part.add_routes(app)
    permissions.add_routes(app, native=True)
    return app
