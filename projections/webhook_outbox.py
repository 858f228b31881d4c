"""Catch-up projection `webhook_outbox`: each event a webhook subscribes to becomes a delivery row,
written in the same transaction as the checkpoint moves, so across crashes and restarts no event
is enqueued twice or skipped. The dispatcher (registry/webhooks/dispatcher.py) sends the rows.

Registrations are folded in log order along with everything else (`webhook_subscriptions`), so an
event goes to exactly the webhooks that were subscribed at its position, however far behind the
projection runs; so is which models are prompts (`webhook_prompt_models`), which decides the event
an MLflow-flavoured webhook gets. `plan` is pure. A rebuild re-derives the subscriptions; the
delivery rows stay, and replayed events find theirs already there (same id, ON CONFLICT DO
NOTHING). Rows the retention has pruned are not there to find: so no event at or below the
position the outbox had reached before (its checkpoint, or, after a rebuild, the one it had then:
`webhook_outbox_floor`) is enqueued again. Nothing is resent.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from registry.domain import events as ev
from registry.domain import streams
from registry.domain.events import parse_event
from registry.domain.mlflow_webhook_events import envelope, mlflow_event, prompt_flag
from registry.domain.names import workspace_name
from registry.domain.webhook_events import payload, webhook_event
from registry.eventstore import RecordedEvent
from registry.eventstore.feed import FeedEvent, iso_time, resolve

NAME = "webhook_outbox"
NOTIFY = "modelog_webhook_outbox"
_DELIVERY_IDS = uuid.UUID("6d6f6465-6c6f-6700-8000-776562686f6f")  # namespace for uuid5


@dataclass
class Subscription:
    webhook_id: str
    url: str
    events: list[str]
    active: bool
    secret_id: str
    updated_position: int
    flavor: str = "modelog"
    workspace: str | None = None  # an MLflow-flavoured one's schema


@dataclass
class Plan:
    upserts: dict[str, Subscription] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)  # (id, webhook, position, key, event, payload)
    prompts: dict[str, bool] = field(default_factory=dict)  # model id -> a prompt now or not


def delivery_id(webhook_id: str, position: int) -> uuid.UUID:
    """Stable for a (webhook, event): the same across retries, restarts and rebuilds."""
    return uuid.uuid5(_DELIVERY_IDS, f"{webhook_id}:{position}")


def plan(feed: Sequence[FeedEvent], subscriptions: dict[str, Subscription],
         prompts: dict[str, bool] | None = None) -> Plan:
    """`subscriptions` and `prompts` (which of the chunk's models are prompts, as of the
    checkpoint; a model not in it is none) are updated in place to the chunk's end."""
    out, prompts = Plan(), {} if prompts is None else prompts
    for fe in feed:
        r = fe.event
        kind, key = streams.parse(r.stream_id)
        if kind == "webhook":
            e = r.event or parse_event(r.type, r.schema_version, r.data)
            _follow(subscriptions, out, key, e, r.position)
            continue
        if kind == streams.MODEL and (flag := prompt_flag(r.type, r.data)) is not None:
            prompts[key] = out.prompts[key] = flag
        _native(fe, subscriptions, out)
        if kind == streams.MODEL:
            _mlflow(fe, subscriptions, prompts.get(key, False), out)
    return out


def _native(fe: FeedEvent, subscriptions: dict[str, Subscription], out: Plan) -> None:
    r, name = fe.event, webhook_event(fe.event.type)
    if name is None:
        return
    body: dict[str, Any] | None = None
    for s in subscriptions.values():
        if s.flavor == "modelog" and s.active and name in s.events:
            body = body or payload(event_type=r.type, name=fe.object, data=r.data,
                                   position=r.position, stream_id=r.stream_id, actor=r.actor,
                                   recorded_at=iso_time(r.recorded_at))
            out.deliveries.append((delivery_id(s.webhook_id, r.position), s.webhook_id,
                                   r.position, r.stream_id, name, body))


def _mlflow(fe: FeedEvent, subscriptions: dict[str, Subscription], prompt: bool, out: Plan) -> None:
    """MLflow's event to the MLflow-flavoured webhooks whose workspace schema holds the model."""
    r = fe.event
    bodies: dict[str, tuple[str, dict[str, Any]] | None] = {}  # per workspace schema
    for s in subscriptions.values():
        if s.flavor != "mlflow" or not s.active or s.workspace is None or fe.object is None:
            continue
        if s.workspace not in bodies:
            name = workspace_name(s.workspace, fe.object)
            found = None if name is None else mlflow_event(r.type, name, r.data, prompt)
            bodies[s.workspace] = None if found is None else (
                found.event, envelope(found.event, found.data, r.recorded_at))
        sent = bodies[s.workspace]
        if sent is not None and sent[0] in s.events:
            out.deliveries.append((delivery_id(s.webhook_id, r.position), s.webhook_id,
                                   r.position, r.stream_id, sent[0], sent[1]))


def _follow(subscriptions: dict[str, Subscription], out: Plan, webhook_id: str, e: ev.Event,
            position: int) -> None:
    match e:
        case ev.WebhookCreated():
            s = Subscription(webhook_id, e.url, list(e.events), e.active, str(e.secret_id), position,
                             e.flavor, e.workspace)
        case ev.WebhookUpdated() if webhook_id in subscriptions:
            s = subscriptions[webhook_id]
            s.url, s.events = e.url or s.url, list(e.events or s.events)
            s.active = s.active if e.active is None else e.active
            s.secret_id = str(e.secret_id or s.secret_id)
            s.updated_position = position
        case ev.WebhookDeleted():
            subscriptions.pop(webhook_id, None)
            out.upserts.pop(webhook_id, None)
            out.deleted.append(webhook_id)
            return
        case _:
            return
    subscriptions[webhook_id] = s
    out.upserts[webhook_id] = s


UPSERT = (
    "INSERT INTO webhook_subscriptions (webhook_id, url, events, active, secret_id, updated_position, "
    "flavor, workspace) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (webhook_id) DO UPDATE "
    "SET url = excluded.url, events = excluded.events, active = excluded.active, "
    "secret_id = excluded.secret_id, updated_position = excluded.updated_position")
# Events at or below this were enqueued before (now, or before a rebuild); a check replays them.
_FLOOR = ("SELECT coalesce(greatest((SELECT position FROM projection_checkpoints WHERE name = $1), "
          "(SELECT position FROM webhook_outbox_floor)), 0)")
INSERT = (
    "INSERT INTO webhook_deliveries (id, webhook_id, position, ordering_key, event, payload) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[]) "
    "ON CONFLICT (webhook_id, position) DO NOTHING")


class WebhookOutbox:
    """The projection as the catch-up runner sees it (projections/catch_up.py)."""

    name = NAME
    tables = ("webhook_subscriptions", "webhook_prompt_models")  # the outbox rows change as delivered

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        subscriptions = {str(r["webhook_id"]): Subscription(
            str(r["webhook_id"]), r["url"], list(r["events"]), r["active"], str(r["secret_id"]),
            r["updated_position"], r["flavor"], r["workspace"])
            for r in await conn.fetch("SELECT * FROM webhook_subscriptions")}
        if subscriptions or any(e.stream_id.startswith("webhook:") for e in events):
            feed = await resolve(conn, events)
            prompts = await _prompts(conn, {key for e in events if (key := _model(e)) is not None})
        else:  # nobody listens: no names to look up, only which models are prompts to follow
            feed, prompts = [FeedEvent(e, None) for e in events], {}
        p = plan(feed, subscriptions, prompts)
        if p.deleted:
            await conn.execute("DELETE FROM webhook_subscriptions WHERE webhook_id = ANY($1::uuid[])",
                               p.deleted)
            await conn.execute("UPDATE webhook_deliveries SET status = 'cancelled', finished_at = now() "
                               "WHERE webhook_id = ANY($1::uuid[]) AND status = 'pending'", p.deleted)
        if p.upserts:
            await conn.executemany(UPSERT, [(s.webhook_id, s.url, s.events, s.active, s.secret_id,
                                             s.updated_position, s.flavor, s.workspace)
                                            for s in p.upserts.values()])
        if no_longer := [m for m, now in p.prompts.items() if not now]:
            await conn.execute("DELETE FROM webhook_prompt_models WHERE model_id = ANY($1::uuid[])",
                               no_longer)
        if prompts_now := [m for m, now in p.prompts.items() if now]:
            await conn.execute("INSERT INTO webhook_prompt_models SELECT unnest($1::uuid[]) "
                               "ON CONFLICT DO NOTHING", prompts_now)
        floor = await conn.fetchval(_FLOOR, NAME)
        if deliveries := [d for d in p.deliveries if d[2] > floor]:
            await conn.execute(INSERT, *_columns(deliveries))
            await conn.execute("SELECT pg_notify($1, '')", NOTIFY)  # delivered at commit

    async def reset(self, conn: asyncpg.Connection) -> None:
        # Called before the checkpoint goes back to 0: keep the position it had reached.
        await conn.execute(
            "INSERT INTO webhook_outbox_floor (position) SELECT position FROM "
            "projection_checkpoints WHERE name = $1 ON CONFLICT (only_row) DO UPDATE "
            "SET position = greatest(webhook_outbox_floor.position, excluded.position)", NAME)
        await conn.execute("TRUNCATE webhook_subscriptions, webhook_prompt_models")


def _model(e: RecordedEvent) -> str | None:
    kind, key = streams.parse(e.stream_id)
    return key if kind == streams.MODEL else None


async def _prompts(conn: asyncpg.Connection, model_ids: set[str]) -> dict[str, bool]:
    if not model_ids:
        return {}
    rows = await conn.fetch("SELECT model_id::text FROM webhook_prompt_models "
                            "WHERE model_id = ANY($1::uuid[])", list(model_ids))
    return {r["model_id"]: True for r in rows}


def _columns(rows: Sequence[tuple]) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)]
