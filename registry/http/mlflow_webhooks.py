"""MLflow's webhooks REST API (`/api/2.0/mlflow/webhooks`, and under `/ajax-api/2.0/mlflow`), so
that `MlflowClient.create_webhook`, `list_webhooks`, `get_webhook`, `update_webhook`,
`delete_webhook` and `test_webhook` work unchanged. Admins only, like the native webhooks.

The registrations are the native webhooks' (stream `webhook:<id>`, the same service, outbox and
dispatcher), flavoured 'mlflow': MLflow's events and payloads, and the models of the server's
default schema, named as MLflow names them. This surface shows only those of its schema; the
secret is never returned.
"""

from typing import Any
from uuid import UUID

from aiohttp import web

from registry.domain import mlflow_webhooks as rules
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.webhooks import Webhook
from registry.http import mlflow_webhook_requests as req
from registry.http.authenticate import admin_only
from registry.http.keys import ACTOR, COMMAND, DISPATCHER, POOL, REQUEST_ID, SETTINGS, WEBHOOKS
from registry.http.validation import parse_body, parse_query
from registry.http.wire import epoch_ms, json_response
from registry.reads import queries
from registry.webhooks import service

DEFAULT_PAGE, MAX_PAGE = 100, 1000


def webhook_json(w: Webhook) -> dict[str, Any]:
    """MLflow's Webhook message as JSON: enums by name, times in epoch ms, no empty description."""
    out: dict[str, Any] = {"webhook_id": str(w.id), "name": w.name}
    if w.description:
        out["description"] = w.description
    out.update(url=w.url, events=[rules.event_to_wire(e) for e in w.events],
               status="ACTIVE" if w.active else "DISABLED",
               creation_timestamp=epoch_ms(w.created_at),
               last_updated_timestamp=epoch_ms(w.updated_at))
    return out


def _workspace(request: web.Request) -> str:
    return request.config_dict[SETTINGS].default_schema


def _missing(webhook_id: str) -> NotFound:
    return NotFound(f"Webhook with ID {webhook_id} not found.", webhook_id=webhook_id)


async def _webhook(request: web.Request) -> Webhook:
    """The path's webhook, if it is one of this surface's."""
    text = request.match_info["webhook_id"]
    try:
        found = await service.get(request.config_dict[POOL], UUID(text))
    except (ValueError, NotFound):
        raise _missing(text) from None
    if found.flavor != "mlflow" or found.workspace != _workspace(request):
        raise _missing(text)
    return found


def _who(request: web.Request, command: str) -> dict[str, Any]:
    request[COMMAND] = command
    return {"actor": request[ACTOR], "request_id": request[REQUEST_ID],
            "client": request.headers.get("User-Agent")}


async def create_webhook(request: web.Request) -> web.Response:
    body = await parse_body(request, req.CreateWebhook)
    created = await request.config_dict[WEBHOOKS].create(
        **body.registration(), flavor="mlflow", workspace=_workspace(request),
        **_who(request, "CreateWebhook"))
    return json_response({"webhook": webhook_json(created)})


async def list_webhooks(request: web.Request) -> web.Response:
    q = parse_query(request, req.ListWebhooks)
    limit = q.max_results or DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_PAGE}.", field="max_results")
    offset = queries.decode_token(q.page_token, int) or 0
    ours = sorted((w for w in await service.list_all(request.config_dict[POOL])
                   if w.flavor == "mlflow" and w.workspace == _workspace(request)),
                  key=lambda w: (w.created_at, str(w.id)), reverse=True)  # newest first, as MLflow
    out: dict[str, Any] = {"webhooks": [webhook_json(w) for w in ours[offset:offset + limit]]}
    if len(ours) > offset + limit:
        out["next_page_token"] = queries.encode_token(offset + limit)
    return json_response(out)


async def get_webhook(request: web.Request) -> web.Response:
    return json_response({"webhook": webhook_json(await _webhook(request))})


async def update_webhook(request: web.Request) -> web.Response:
    body = await parse_body(request, req.UpdateWebhook)
    webhook = await _webhook(request)
    try:
        updated = await request.config_dict[WEBHOOKS].update(
            webhook.id, **body.changes(), **_who(request, "UpdateWebhook"))
    except NotFound:  # deleted meanwhile
        raise _missing(str(webhook.id)) from None
    return json_response({"webhook": webhook_json(updated)})


async def delete_webhook(request: web.Request) -> web.Response:
    webhook = await _webhook(request)
    try:
        await request.config_dict[WEBHOOKS].delete(webhook.id, **_who(request, "DeleteWebhook"))
    except NotFound:
        raise _missing(str(webhook.id)) from None
    return json_response({})


async def test_webhook(request: web.Request) -> web.Response:
    body = await parse_body(request, req.TestWebhook)
    webhook = await _webhook(request)
    event = webhook.events[0] if body.event is None else body.event.name()
    result = await request.config_dict[DISPATCHER].test_mlflow(webhook, event)
    return json_response({"result": result})


def add_routes(app: web.Application) -> None:
    """Onto the MLflow surface's sub-application (registry/http/mlflow.py)."""
    w = "/webhooks"
    app.router.add_routes([
        web.post(w, admin_only(create_webhook)),
        web.get(w, admin_only(list_webhooks)),
        web.get(f"{w}/{{webhook_id}}", admin_only(get_webhook)),
        web.patch(f"{w}/{{webhook_id}}", admin_only(update_webhook)),
        web.delete(f"{w}/{{webhook_id}}", admin_only(delete_webhook)),
        web.post(f"{w}/{{webhook_id}}/test", admin_only(test_webhook)),
    ])
