"""The dispatcher: sends the outbox's delivery rows, at least once, in log order per model.

Only the lowest pending position of each (webhook, stream) is eligible, so a model's later event
waits until its earlier ones to the same webhook are delivered or have failed for good. Rows are
leased (owner, expiry) before sending, so several processes share the outbox without sending a
row at once; a crash leaves a lease that expires, and a clean stop hands its leases back. A
receiver may therefore see a delivery again (same delivery id) if the process stops after it
answered and before the answer was recorded: that is at-least-once. Failed attempts are retried
after an exponentially growing, jittered delay; after `max_attempts` the row is marked failed.

MLflow-flavoured webhooks get what MLflow's server sends (sending.py) and are retried only where
MLflow retries (no answer, 429, 500, 502, 503, 504; not before a `Retry-After` the receiver asks
for); any other answer is final.
"""

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import structlog

from projections.webhook_outbox import NOTIFY
from registry.domain.mlflow_webhook_events import EXAMPLES, envelope
from registry.domain.mlflow_webhooks import MLFLOW_DEFAULTS, UrlPolicy
from registry.domain.webhook_events import PING, ping_payload
from registry.domain.webhooks import Webhook
from registry.eventstore.listener import Listener
from registry.webhooks.sending import Sender, Sent, final
from registry.webhooks.service import secret_of

log = structlog.get_logger(__name__)

_HEADS = """
    SELECT DISTINCT ON (webhook_id, ordering_key) d.id, d.webhook_id, d.position,
           d.next_attempt_at, d.lease_until
    FROM webhook_deliveries d WHERE d.status = 'pending'
    ORDER BY webhook_id, ordering_key, position"""
CLAIM = f"""
WITH heads AS ({_HEADS}),
due AS (
    SELECT h.id FROM heads h JOIN webhook_subscriptions s USING (webhook_id)
    WHERE s.active AND h.next_attempt_at <= now() AND (h.lease_until IS NULL OR h.lease_until < now())
    ORDER BY h.position LIMIT $1)
UPDATE webhook_deliveries d SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
FROM due, webhook_subscriptions s, webhook_secrets k
WHERE d.id = due.id AND s.webhook_id = d.webhook_id AND k.id = s.secret_id
  AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())
RETURNING d.id, d.webhook_id, d.event, d.payload, d.attempts, s.url, s.flavor, k.secret"""
NEXT_DUE = f"""
WITH heads AS ({_HEADS})
SELECT extract(epoch FROM min(greatest(h.next_attempt_at, coalesce(h.lease_until, h.next_attempt_at)))
                          - now())
FROM heads h JOIN webhook_subscriptions s USING (webhook_id) WHERE s.active"""
# Finished deliveries (and their attempts) older than the retention go, a slice at a time so no
# delete holds many rows; the log itself keeps every event, so nothing is lost to the record.
PRUNE = """
WITH gone AS (
    DELETE FROM webhook_deliveries WHERE id IN (
        SELECT id FROM webhook_deliveries WHERE status <> 'pending'
        AND finished_at < now() - make_interval(secs => $1) LIMIT $2)
    RETURNING id),
attempts AS (DELETE FROM webhook_attempts a USING gone WHERE a.delivery_id = gone.id)
SELECT count(*) FROM gone"""
PRUNE_SLICE = 5000
PRUNE_EVERY = 3600.0  # seconds between prunes

RECORD_ATTEMPT = ("INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms) "
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
RECORD_OUTCOME = """
UPDATE webhook_deliveries SET attempts = $2, status = $3, last_status_code = $4, last_error = $5,
    next_attempt_at = now() + make_interval(secs => $6), lease_owner = NULL, lease_until = NULL,
    finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
WHERE id = $1 AND lease_owner = $7"""


def retry_delay(attempts: int, base: float, cap: float, rand: float) -> float:
    """Seconds before the next attempt after `attempts` failed ones: exponential, capped, with
    "equal jitter" (half fixed, half random) so receivers that come back are not stampeded."""
    delay = min(cap, base * 2 ** (attempts - 1))
    return delay / 2 + delay / 2 * rand


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, *, timeout: float = 10.0, backoff: float = 2.0,
                 backoff_cap: float = 600.0, max_attempts: int = 8, batch: int = 32,
                 idle_poll: float = 5.0, rand: Callable[[], float] = random.random,
                 retention: float = 30 * 86400.0, mlflow_urls: UrlPolicy = MLFLOW_DEFAULTS) -> None:
        self.pool, self.timeout, self.batch, self.idle_poll = pool, timeout, batch, idle_poll
        self.sender = Sender(timeout, mlflow_urls)
        self.retention = retention  # seconds a finished delivery stays in the delivery log
        self._next_prune = 0.0
        self.backoff, self.backoff_cap, self.max_attempts, self.rand = (
            backoff, backoff_cap, max_attempts, rand)
        self.owner = uuid.uuid4()
        self.attempts = self.delivered = self.failed = 0  # counters for /metrics
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener = Listener(NOTIFY, self._notified, again=self._listening_again)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        await self.sender.start()
        await self._listener.start(self.pool)
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        with contextlib.suppress(Exception):  # hand the leases back: a new process resends now
            await self.pool.execute("UPDATE webhook_deliveries SET lease_owner = NULL, "
                                    "lease_until = NULL WHERE lease_owner = $1", self.owner)
        await self._listener.stop()
        await self.sender.close()

    def _notified(self, _payload: str) -> None:
        self._wake.set()

    async def _listening_again(self) -> None:
        self._wake.set()  # deliveries may have been queued while it could not hear of them

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self.pool.fetch(CLAIM, self.batch, self.owner,
                                                self.timeout * 2 + 5)
                if claimed:
                    await asyncio.gather(*(self._deliver(row) for row in claimed))
                    continue
                if time.monotonic() >= self._next_prune:
                    await self.prune()
                    self._next_prune = time.monotonic() + PRUNE_EVERY
                due = await self.pool.fetchval(NEXT_DUE)
                wait = self.idle_poll if due is None else min(self.idle_poll, max(float(due), 0.01))
            except Exception as exc:
                log.warning("webhook dispatch failed; retrying", error=repr(exc))
                wait = self.idle_poll
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def prune(self) -> int:
        """Remove finished deliveries older than the retention; how many went."""
        removed = 0
        while (count := await self.pool.fetchval(PRUNE, self.retention, PRUNE_SLICE)):
            removed += count
            if count < PRUNE_SLICE:
                break
        if removed:
            log.info("webhook delivery log pruned", removed=removed,
                     retention_days=round(self.retention / 86400, 2))
        return removed

    async def _deliver(self, row: asyncpg.Record) -> None:
        attempt = row["attempts"] + 1
        if row["flavor"] == "mlflow":
            sent = await self.sender.mlflow(row["url"], row["secret"], row["id"],
                                            orjson.dumps(row["payload"]))
        else:
            body = orjson.dumps({"delivery_id": str(row["id"]),
                                 "webhook_id": str(row["webhook_id"]), **row["payload"]})
            sent = await self.sender.modelog(row["url"], row["secret"], row["id"], row["event"],
                                             attempt, body)
        self.attempts += 1
        if sent.ok:
            status, delay = "delivered", 0.0
            self.delivered += 1
        elif attempt >= self.max_attempts or final(row["flavor"], sent):
            status, delay = "failed", 0.0
            self.failed += 1
            log.warning("webhook delivery failed for good", delivery_id=str(row["id"]),
                        webhook_id=str(row["webhook_id"]), attempts=attempt, error=sent.error)
        else:
            status = "pending"
            delay = retry_delay(attempt, self.backoff, self.backoff_cap, self.rand())
            if row["flavor"] == "mlflow" and sent.retry_after is not None:
                delay = max(delay, min(sent.retry_after, self.backoff_cap))
            log.info("webhook delivery will be retried", delivery_id=str(row["id"]),
                     attempt=attempt, retry_in=round(delay, 3), error=sent.error)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(RECORD_ATTEMPT, row["id"], attempt, sent.status_code, sent.error,
                               sent.duration_ms)
            await conn.execute(RECORD_OUTCOME, row["id"], attempt, status, sent.status_code,
                               sent.error, delay, self.owner)

    async def _log_once(self, delivery_id: uuid.UUID, webhook: Webhook, event: str,
                        payload: dict[str, Any], sent: Sent, ok: bool) -> None:
        """A delivery sent now, once, outside the outbox, in the delivery log all the same."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, ordering_key, event, payload, status, "
                "attempts, last_status_code, last_error, finished_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, now())",
                delivery_id, webhook.id, f"ping:{delivery_id}", event, payload,
                "delivered" if ok else "failed", sent.status_code, sent.error)
            await conn.execute(RECORD_ATTEMPT, delivery_id, 1, sent.status_code, sent.error,
                               sent.duration_ms)

    async def ping(self, webhook: Webhook) -> dict[str, Any]:
        """Send a PING to the webhook now, once, and log it as a delivery. An MLflow-flavoured
        webhook gets MLflow's test of its first event instead: it speaks only MLflow."""
        if webhook.flavor == "mlflow":
            delivery_id, sent, ok = await self._test_mlflow(webhook, webhook.events[0])
        else:
            delivery_id = uuid.uuid4()
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            payload = ping_payload(str(webhook.id), now)
            body = orjson.dumps({"delivery_id": str(delivery_id), "webhook_id": str(webhook.id),
                                 **payload})
            secret = await secret_of(self.pool, webhook.secret_id)
            sent = await self.sender.modelog(webhook.url, secret, delivery_id, PING, 1, body)
            ok = sent.ok
            await self._log_once(delivery_id, webhook, PING, payload, sent, ok)
        return {"delivery_id": str(delivery_id), "success": ok,
                "status_code": sent.status_code, "error": sent.error}

    async def test_mlflow(self, webhook: Webhook, event: str) -> dict[str, Any]:
        """MLflow's test of a webhook: its example payload for `event`, sent now, once; the
        answer as MLflow's WebhookTestResult (success: a status under 400)."""
        _, sent, success = await self._test_mlflow(webhook, event)
        if sent.status_code is None:
            return {"success": False, "error_message": f"Failed to test webhook: {sent.error}"}
        return {"success": success, "response_status": sent.status_code,
                "response_body": sent.body}

    async def _test_mlflow(self, webhook: Webhook, event: str) -> tuple[uuid.UUID, Sent, bool]:
        delivery_id = uuid.uuid4()
        payload = envelope(event, EXAMPLES[event], datetime.now(UTC))
        secret = await secret_of(self.pool, webhook.secret_id)
        sent = await self.sender.mlflow(webhook.url, secret, delivery_id, orjson.dumps(payload),
                                        read=True)
        success = sent.status_code is not None and sent.status_code < 400
        await self._log_once(delivery_id, webhook, event, payload, sent, success)
        return delivery_id, sent, success
