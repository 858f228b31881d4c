"""`as_of` on every native read and list, and `modelog replay`: at any position, what the API
and the CLI show equals a fold of the whole log up to that position."""

import asyncio
import json

from registry.cli.replay import registry_at, registry_document
from registry.eventstore import head_position
from registry.http.keys import SERVICE
from tests.support.cli import run
from tests.support.history import make_history
from tests.support.server import Live

API = "/api/modelog/v1"


async def everything(live: Live, path: str, field: str, **params: str) -> list:
    """All pages of a list."""
    out, token = [], None
    while True:
        status, body = await live.call("GET", path, params={
            **params, "max_results": "3", **({"page_token": token} if token else {})})
        assert status == 200, body
        out += body[field]
        token = body.get("next_page_token")
        if not token:
            return out


async def test_every_list_and_read_at_every_position_equals_a_fold(live: Live) -> None:
    await make_history(live.app[SERVICE])
    head = await head_position(live.pool)
    positions = sorted({1, 2, head, *range(3, head, 7)})
    for p in positions:
        expected = without_grants(registry_document(await registry_at(live.pool, p)))
        at = {"as_of": str(p)}
        assert await everything(live, f"{API}/catalogs", "catalogs", **at) == expected["catalogs"]
        for cat in expected["catalogs"]:
            assert (await live.call("GET", f"{API}/catalogs/{cat['name']}", params=at))[1] == cat
            schemas = [s for s in expected["schemas"] if s["catalog_name"] == cat["name"]]
            assert await everything(live, f"{API}/schemas", "schemas", catalog_name=cat["name"],
                                    **at) == schemas
            for s in schemas:
                status, body = await live.call("GET", f"{API}/schemas/{s['full_name']}", params=at)
                assert (status, body) == (200, s)
        models = [{k: v for k, v in m.items() if k != "versions"} for m in expected["models"]]
        assert await everything(live, f"{API}/models", "registered_models", **at) == models
        assert await everything(live, f"{API}/models", "registered_models", catalog_name="prod",
                                schema_name="fraud", name_pattern="m%", **at) == [
            m for m in models if m["full_name"].startswith("prod.fraud.m")]
        for m in expected["models"]:
            base = f"{API}/models/{m['full_name']}"
            assert (await live.call("GET", base, params=at))[1] == model_json_without(m)
            assert await everything(live, f"{base}/versions", "model_versions", **at) == \
                m["versions"]
    # Before a catalog existed, and a deleted one: not found, with the time-travel wording.
    status, body = await live.call("GET", f"{API}/catalogs/scratch", params={"as_of": str(head)})
    assert status == 404
    status, body = await live.call("GET", f"{API}/schemas", params={"catalog_name": "prod",
                                                                     "as_of": "1"})
    assert status == 404 and "did not exist then" in body["message"]


def without_grants(document: dict) -> dict:
    """A replay document in the API's shapes: reads do not carry their object's grants."""
    return {kind: [{k: v for k, v in x.items() if k != "privilege_assignments"} for x in items]
            for kind, items in document.items()}


def model_json_without(m: dict) -> dict:
    return {k: v for k, v in m.items() if k != "versions"}


async def test_as_of_by_time_matches_as_of_by_position(live: Live) -> None:
    await make_history(live.app[SERVICE])
    rows = await live.pool.fetch("SELECT position, recorded_at FROM events "
                                 "WHERE position % 11 = 0 ORDER BY position")
    for r in rows:
        by_time = await everything(live, f"{API}/models", "registered_models",
                                   as_of=r["recorded_at"].isoformat())
        # Several events can share an instant; a time covers all of them.
        last = await live.pool.fetchval("SELECT max(position) FROM events WHERE recorded_at <= $1",
                                        r["recorded_at"])
        by_position = await everything(live, f"{API}/models", "registered_models",
                                       as_of=str(last))
        assert by_time == by_position


async def test_replay_command_prints_the_registry_as_it_was(live: Live, db_url: str) -> None:
    svc = live.app[SERVICE]
    await make_history(svc)
    head = await head_position(live.pool)
    middle = head // 2
    out = await asyncio.to_thread(run, "replay", "--as-of", str(middle), "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    expected = registry_document(await registry_at(live.pool, middle))
    assert document["as_of"]["position"] == middle
    assert {k: document[k] for k in expected} == expected
    assert f"{middle}/{middle}" in out.stderr  # the progress bar reached the end

    # One model, by time: the model renamed since is found under the name it bore then.
    then = await live.pool.fetchval("SELECT recorded_at FROM events WHERE position = $1", middle)
    out = await asyncio.to_thread(run, "replay", "--as-of", then.isoformat(), "--model",
                                  "prod.fraud.m0", "--database-url", db_url)
    assert out.returncode == 0, out.stderr
    model = json.loads(out.stdout)["model"]
    current = next(m for m in expected["models"] if m["full_name"] == "prod.fraud.m0")
    assert model == current and model_json_without(model)["id"] == current["id"]

    out = await asyncio.to_thread(run, "replay", "--as-of", "1", "--model", "prod.fraud.m0",
                                  "--database-url", db_url)
    assert out.returncode == 1 and "did not exist then" in out.stderr
    out = await asyncio.to_thread(run, "replay", "--as-of", "last tuesday", "--database-url",
                                  db_url)
    assert out.returncode == 2 and "ISO-8601" in out.stderr
