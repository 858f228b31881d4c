"""Webhook registrations, the imperative shell: append their events, keep secrets aside, read.

A secret is written to `webhook_secrets` before the event that names it (the two cannot share the
writer's statement); if the append then fails, the row is never named and never used. An
MLflow-flavoured webhook may have none (an empty one: its deliveries go unsigned, as MLflow's),
and its URL must pass MLflow's rules, resolution included (addresses.py), before anything is kept.
"""

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from registry.domain import events as ev
from registry.domain import streams
from registry.domain import webhooks as reg
from registry.domain.events import parse_event
from registry.domain.mlflow_webhooks import MLFLOW_DEFAULTS, UrlPolicy
from registry.domain.webhooks import Flavor, Webhook
from registry.eventstore import EventStore, NewEvent, RecordedEvent, Tx, read_stream
from registry.eventstore.domain_events import stamp
from registry.eventstore.reads import COLUMNS, from_row
from registry.webhooks.addresses import check_reachable


def fold(events: Sequence[RecordedEvent]) -> dict[UUID, Webhook]:
    found: dict[UUID, Webhook] = {}
    for r in events:
        webhook_id = UUID(streams.parse(r.stream_id).key)
        e = r.event or parse_event(r.type, r.schema_version, r.data)
        state = reg.evolve(found.get(webhook_id), e, stamp(r))
        if state is None:
            found.pop(webhook_id, None)
        else:
            found[webhook_id] = state
    return found


async def get(db: asyncpg.Pool | asyncpg.Connection, webhook_id: UUID) -> Webhook:
    found = fold(await read_stream(db, reg.stream_id(webhook_id))).get(webhook_id)
    return reg.exists(found, webhook_id)


async def list_all(db: asyncpg.Pool | asyncpg.Connection) -> list[Webhook]:
    rows = await db.fetch(f"SELECT {COLUMNS} FROM events WHERE stream_id LIKE 'webhook:%' "
                          "ORDER BY position")  # the partial index events_webhooks
    return sorted(fold([from_row(r) for r in rows]).values(), key=lambda w: w.created_at)


async def secret_of(db: asyncpg.Pool | asyncpg.Connection, secret_id: UUID) -> str:
    return await db.fetchval("SELECT secret FROM webhook_secrets WHERE id = $1", secret_id)


class Webhooks:
    def __init__(self, store: EventStore, mlflow_urls: UrlPolicy = MLFLOW_DEFAULTS) -> None:
        self.store, self.mlflow_urls = store, mlflow_urls

    async def _keep_secret(self, webhook_id: UUID, secret: str | None, flavor: Flavor) -> UUID:
        secret_id = uuid.uuid4()
        await self.store.pool.execute(
            "INSERT INTO webhook_secrets (id, webhook_id, secret) VALUES ($1, $2, $3)",
            secret_id, webhook_id, reg.check_secret(secret, flavor))
        return secret_id

    async def _append(self, webhook_id: UUID, decide: Any, metadata: dict[str, Any]) -> Webhook | None:
        """Decide on the stream's state inside a write batch and append what was decided."""
        stream = reg.stream_id(webhook_id)

        async def job(tx: Tx) -> Webhook | None:
            state = fold(await tx.read_stream(stream)).get(webhook_id)
            decided: ev.Event | None = decide(state)
            if decided is None:
                return state
            recorded = await tx.append(stream, await tx.version(stream), [
                NewEvent(decided.type_name(), decided.payload(), decided.schema_version, decided)],
                {k: v for k, v in metadata.items() if v is not None})
            return reg.evolve(state, decided, stamp(recorded[-1]))

        return await self.store.transact(job)

    async def create(self, *, url: str, events: list[str], secret: str | None, actor: str,
                     description: str | None = None, active: bool = True,
                     flavor: Flavor = "modelog", name: str | None = None,
                     workspace: str | None = None, **metadata: Any) -> Webhook:
        webhook_id = uuid.uuid4()
        registration = {"flavor": flavor, "name": name, "workspace": workspace,
                        "urls": self.mlflow_urls}
        # refuse before storing
        reg.create(webhook_id, url, events, webhook_id, description, active, **registration)
        reg.check_secret(secret, flavor)
        if flavor == "mlflow":
            await check_reachable(url, self.mlflow_urls)
        secret_id = await self._keep_secret(webhook_id, secret, flavor)
        created = await self._append(
            webhook_id, lambda _: reg.create(webhook_id, url, events, secret_id, description,
                                             active, **registration),
            {"actor": actor, "command": "CreateWebhook", **metadata})
        assert created is not None
        return created

    async def update(self, webhook_id: UUID, *, actor: str, secret: str | None = None,
                     **changes: Any) -> Webhook:
        metadata = {k: changes.pop(k) for k in ("request_id", "client") if k in changes}
        state = await get(self.store.pool, webhook_id)
        decided = reg.update(state, webhook_id, urls=self.mlflow_urls, **changes)
        if secret is not None:  # refuse bad input before storing a secret
            reg.check_secret(secret, state.flavor)
        if state.flavor == "mlflow" and decided is not None and decided.url is not None:
            await check_reachable(decided.url, self.mlflow_urls)
        secret_id = None if secret is None else await self._keep_secret(webhook_id, secret,
                                                                         state.flavor)
        updated = await self._append(
            webhook_id, lambda s: reg.update(s, webhook_id, secret_id=secret_id,
                                             urls=self.mlflow_urls, **changes),
            {"actor": actor, "command": "UpdateWebhook", **metadata})
        return reg.exists(updated, webhook_id)

    async def delete(self, webhook_id: UUID, *, actor: str, **metadata: Any) -> None:
        await self._append(webhook_id, lambda s: reg.delete(s, webhook_id),
                           {"actor": actor, "command": "DeleteWebhook", **metadata})


async def deliveries(db: asyncpg.Pool | asyncpg.Connection, webhook_id: UUID, *, limit: int,
                     offset: int = 0, status: str | None = None) -> list[asyncpg.Record]:
    """The delivery log, newest first, each with its attempts."""
    return await db.fetch(
        "SELECT d.id, d.position, d.event, d.status, d.attempts, d.last_status_code, d.last_error, "
        "d.next_attempt_at, d.created_at, d.finished_at, coalesce((SELECT jsonb_agg(jsonb_build_object("
        "'attempt', a.attempt, 'at', a.at, 'status_code', a.status_code, 'error', a.error, "
        "'duration_ms', round(a.duration_ms::numeric, 2)) ORDER BY a.attempt) FROM webhook_attempts a "
        "WHERE a.delivery_id = d.id), '[]') AS attempt_log "
        "FROM webhook_deliveries d WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2) "
        "ORDER BY d.created_at DESC, d.position DESC NULLS FIRST, d.id LIMIT $3 OFFSET $4",
        webhook_id, status, limit, offset)
