"""The outbox on PostgreSQL for MLflow-flavoured webhooks: the delivery rows it writes, which models
it holds for prompts, and that a check or a rebuild replays the same (nothing enqueued twice)."""

import asyncpg

from projections.catch_up import catch_up, check, rebuild
from projections.webhook_outbox import WebhookOutbox
from registry.domain import commands as c
from registry.domain.mlflow_webhooks import UrlPolicy
from registry.service.handler import RegistryService
from registry.webhooks.dispatcher import Dispatcher
from registry.webhooks.service import Webhooks

IS_PROMPT = "mlflow.prompt.is_prompt"


async def test_mlflow_deliveries_prompts_and_a_rebuild(service: RegistryService,
                                                       pool: asyncpg.Pool) -> None:
    outbox = WebhookOutbox()
    greet, iris = "unity.default.greet", "unity.default.iris"
    await service.execute(c.CreateModel(full_name=greet, tags={IS_PROMPT: "true"}), "ann")
    await catch_up(pool, outbox)  # nobody listens yet: the prompt is followed all the same
    assert await pool.fetchval("SELECT count(*) FROM webhook_prompt_models") == 1

    hooks = Webhooks(service.store, UrlPolicy(("https",), allow_private=True))
    hook = await hooks.create(url="https://hooks.example/x", secret=None, actor="ann",
                              events=["prompt_alias.created", "model_version_alias.created",
                                      "prompt_tag.set"],
                              flavor="mlflow", name="h", workspace="unity.default")
    await service.execute(c.RegisterVersion(full_name=greet, source="s"), "ann")
    await service.execute(c.SetAlias(full_name=greet, alias="live", version=1), "ann")
    await service.execute(c.CreateModel(full_name=iris), "ann")
    await service.execute(c.RegisterVersion(full_name=iris, source="s"), "ann")
    await service.execute(c.SetAlias(full_name=iris, alias="live", version=1), "ann")
    await service.execute(c.SetModelTag(full_name=iris, key="team", value="ml"), "ann")
    await service.execute(c.DeleteModelTag(full_name=greet, key=IS_PROMPT), "ann")
    await service.execute(c.SetAlias(full_name=greet, alias="next", version=1), "ann")
    await catch_up(pool, outbox)

    rows = await pool.fetch("SELECT event, payload FROM webhook_deliveries WHERE webhook_id = $1 "
                            "ORDER BY position", hook.id)
    assert [(r["event"], r["payload"]["data"]) for r in rows] == [
        ("prompt_alias.created", {"name": "greet", "alias": "live", "version": "1"}),
        ("model_version_alias.created", {"name": "iris", "alias": "live", "version": "1"}),
        # no longer a prompt: its alias is a model version's
        ("model_version_alias.created", {"name": "greet", "alias": "next", "version": "1"}),
    ]
    assert await pool.fetchval("SELECT flavor FROM webhook_subscriptions") == "mlflow"
    assert await pool.fetchval("SELECT count(*) FROM webhook_prompt_models") == 0

    _, differences = await check(pool, outbox)
    assert differences == []
    await rebuild(pool, outbox)
    again = await pool.fetch("SELECT event, payload FROM webhook_deliveries WHERE webhook_id = $1 "
                             "ORDER BY position", hook.id)
    assert again == rows
    assert await pool.fetchval("SELECT count(*) FROM webhook_prompt_models") == 0


async def test_a_rebuild_or_a_check_never_resends_what_retention_pruned(
        service: RegistryService, pool: asyncpg.Pool) -> None:
    """Deliveries sent and then pruned by the retention leave no row for a replay to find: a check
    and a rebuild of the outbox enqueue none of their events again; an event after the rebuild is
    enqueued as ever."""
    outbox = WebhookOutbox()
    hooks = Webhooks(service.store, UrlPolicy(("https",), allow_private=True))
    hook = await hooks.create(url="https://hooks.example/x", secret=None, actor="ann",
                              events=["model_version_alias.created"], flavor="mlflow", name="h",
                              workspace="unity.default")
    iris = "unity.default.iris"
    for cmd in (c.CreateModel(full_name=iris), c.RegisterVersion(full_name=iris, source="s"),
                c.SetAlias(full_name=iris, alias="a", version=1),
                c.SetAlias(full_name=iris, alias="b", version=1)):
        await service.execute(cmd, "ann")
    await catch_up(pool, outbox)
    assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 2
    await pool.execute("UPDATE webhook_deliveries SET status = 'delivered', "
                       "finished_at = now() - interval '60 days'")
    assert await Dispatcher(pool, retention=30 * 86400.0).prune() == 2

    await check(pool, outbox)
    await rebuild(pool, outbox)
    await rebuild(pool, outbox)  # a second rebuild keeps the floor the first one set
    assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries") == 0
    await service.execute(c.SetAlias(full_name=iris, alias="c", version=1), "ann")
    await catch_up(pool, outbox)
    rows = await pool.fetch("SELECT payload FROM webhook_deliveries WHERE webhook_id = $1",
                            hook.id)
    assert [r["payload"]["data"]["alias"] for r in rows] == ["c"]
