"""Webhook deliveries on PostgreSQL, without the server: finished ones are pruned after their
retention."""

import uuid

import asyncpg

from registry.webhooks.dispatcher import Dispatcher


async def test_finished_deliveries_are_pruned_after_their_retention(pool: asyncpg.Pool) -> None:
    """Delivered, failed and cancelled deliveries older than the retention go, with their attempts;
    newer ones and pending ones (however old) stay."""
    webhook = uuid.uuid4()
    rows = {  # name: (status, finished that many days ago)
        "old delivered": ("delivered", 40), "old failed": ("failed", 31),
        "old cancelled": ("cancelled", 90), "new delivered": ("delivered", 29),
        "old pending": ("pending", None)}
    ids = {}
    for n, (name, (status, days)) in enumerate(rows.items()):
        ids[name] = uuid.uuid4()
        await pool.execute(
            "INSERT INTO webhook_deliveries (id, webhook_id, position, ordering_key, event, payload,"
            " status, attempts, created_at, finished_at) VALUES ($1, $2, $3, 'k', 'E', '{}', $4, 1,"
            " now() - interval '100 days', now() - make_interval(days => $5))",
            ids[name], webhook, n, status, days)
        await pool.execute("INSERT INTO webhook_attempts (delivery_id, attempt, duration_ms) "
                           "VALUES ($1, 1, 1.0)", ids[name])
    dispatcher = Dispatcher(pool, retention=30 * 86400.0)
    assert await dispatcher.prune() == 3
    kept = {r["id"] for r in await pool.fetch("SELECT id FROM webhook_deliveries")}
    assert kept == {ids["new delivered"], ids["old pending"]}
    attempts = {r["delivery_id"] for r in await pool.fetch("SELECT delivery_id FROM webhook_attempts")}
    assert attempts == kept
    assert await dispatcher.prune() == 0
