"""Native webhook routes: register, list, change, remove, ping, and the delivery log. Admins
only: a webhook receives every event it names, on any model, and POSTs wherever its URL says.

The secret is write-only: accepted on create and update, never returned (nor logged).
"""

from typing import Any, Literal
from uuid import UUID

from aiohttp import web
from pydantic import Field

from registry.domain.errors import NotFound
from registry.domain.webhooks import Webhook
from registry.eventstore import iso_time
from registry.http.authenticate import admin_only
from registry.http.keys import ACTOR, COMMAND, DISPATCHER, POOL, REQUEST_ID, WEBHOOKS
from registry.http.native.requests import NoQuery, Page
from registry.http.validation import Body, parse_body, parse_query
from registry.http.wire import json_response
from registry.reads import queries
from registry.webhooks import service


class CreateWebhookBody(Body):
    url: str
    events: list[str]
    secret: str = Field(min_length=1)
    description: str | None = None
    active: bool = True


class UpdateWebhookBody(Body):
    url: str | None = None
    events: list[str] | None = None
    secret: str | None = Field(None, min_length=1)
    description: str | None = None
    active: bool | None = None


class DeliveriesQuery(Page):
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = None


def webhook_json(w: Webhook) -> dict[str, Any]:
    """`flavor` 'mlflow': registered through MLflow's webhooks API, with MLflow's `name` and its
    events (`model_version.created`, ...) on the models of `workspace`."""
    return {"id": str(w.id), "flavor": w.flavor, "name": w.name, "url": w.url,
            "events": list(w.events), "description": w.description, "active": w.active,
            "workspace": w.workspace, "created_at": iso_time(w.created_at),
            "created_by": w.created_by, "updated_at": iso_time(w.updated_at),
            "updated_by": w.updated_by}


def delivery_json(r: Any) -> dict[str, Any]:
    return {"id": str(r["id"]), "event": r["event"], "position": r["position"], "status": r["status"],
            "attempts": r["attempts"], "last_status_code": r["last_status_code"],
            "last_error": r["last_error"],
            "next_attempt_at": iso_time(r["next_attempt_at"]) if r["status"] == "pending" else None,
            "created_at": iso_time(r["created_at"]),
            "finished_at": None if r["finished_at"] is None else iso_time(r["finished_at"]),
            "attempt_log": r["attempt_log"]}


def _id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["webhook_id"])
    except ValueError:
        raise NotFound(f"webhook {request.match_info['webhook_id']!r} does not exist") from None


def _who(request: web.Request, command: str) -> dict[str, Any]:
    request[COMMAND] = command
    return {"actor": request[ACTOR], "request_id": request[REQUEST_ID],
            "client": request.headers.get("User-Agent")}


async def create_webhook(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, CreateWebhookBody)
    created = await request.config_dict[WEBHOOKS].create(**body.model_dump(),
                                                         **_who(request, "CreateWebhook"))
    return json_response(webhook_json(created), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    return json_response({"webhooks": [webhook_json(w)
                                       for w in await service.list_all(request.config_dict[POOL])]})


async def get_webhook(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    return json_response(webhook_json(await service.get(request.config_dict[POOL], _id(request))))


async def update_webhook(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    body = await parse_body(request, UpdateWebhookBody)
    updated = await request.config_dict[WEBHOOKS].update(
        _id(request), **body.model_dump(exclude_unset=True), **_who(request, "UpdateWebhook"))
    return json_response(webhook_json(updated))


async def delete_webhook(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    await request.config_dict[WEBHOOKS].delete(_id(request), **_who(request, "DeleteWebhook"))
    return json_response({})


async def test_webhook(request: web.Request) -> web.Response:
    parse_query(request, NoQuery)
    webhook = await service.get(request.config_dict[POOL], _id(request))
    return json_response(await request.config_dict[DISPATCHER].ping(webhook))


async def list_deliveries(request: web.Request) -> web.Response:
    q = parse_query(request, DeliveriesQuery)
    webhook_id = _id(request)
    await service.get(request.config_dict[POOL], webhook_id)  # 404 for an unknown webhook
    offset = queries.decode_token(q.page_token, int) or 0
    rows = await service.deliveries(request.config_dict[POOL], webhook_id, limit=q.max_results + 1,
                                    offset=offset, status=q.status)
    out: dict[str, Any] = {"deliveries": [delivery_json(r) for r in rows[: q.max_results]]}
    if len(rows) > q.max_results:
        out["next_page_token"] = queries.encode_token(offset + q.max_results)
    return json_response(out)


def add_routes(app: web.Application) -> None:
    w = "/webhooks"
    app.router.add_routes([
        web.post(w, admin_only(create_webhook)),
        web.get(w, admin_only(list_webhooks)),
        web.get(f"{w}/{{webhook_id}}", admin_only(get_webhook)),
        web.patch(f"{w}/{{webhook_id}}", admin_only(update_webhook)),
        web.delete(f"{w}/{{webhook_id}}", admin_only(delete_webhook)),
        web.post(f"{w}/{{webhook_id}}/test", admin_only(test_webhook)),
        web.get(f"{w}/{{webhook_id}}/deliveries", admin_only(list_deliveries)),
    ])

