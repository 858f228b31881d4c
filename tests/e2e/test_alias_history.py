"""The `alias_history` catch-up projection through the real server: timelines over HTTP, and a
follower that resumes from its checkpoint after a restart."""

import asyncio

import asyncpg

import projections
from projections.alias_history import AliasHistory
from projections.catch_up import check, checkpoint
from registry.domain import commands as c
from registry.eventstore import EventStore, head_position
from registry.http.keys import FOLLOWERS, SERVICE
from registry.reads.timeline import alias_at
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel
from tests.support.history import make_history
from tests.support.server import Live, serving

M = "unity.default.scorer"


async def caught_up(live: Live) -> dict:
    """/readyz once the projection has reached the head."""
    for _ in range(200):
        _, ready = await live.call("GET", "/readyz")
        if ready["projections"]["alias_history"]["lag"] == 0:
            return ready
        await asyncio.sleep(0.02)
    raise AssertionError(f"alias_history never caught up: {ready}")


async def test_alias_timeline_over_http(live: Live) -> None:
    base = f"/api/modelog/v1/models/{M}"
    assert (await live.call("POST", "/api/modelog/v1/models", json={"name": M}))[0] == 201
    for i in range(3):
        await live.call("POST", f"{base}/versions", json={"source": f"s3://b/{i}"})
    positions = []
    for v in (1, 2, 1):
        assert (await live.call("PUT", f"{base}/aliases/champion", json={"version": v}))[0] == 200
        positions.append(await head_position(live.pool))
    await live.call("DELETE", f"{base}/aliases/champion")
    deleted_at = await head_position(live.pool)
    await live.call("POST", f"{base}/versions/2/stage", json={"stage": "Staging"})
    await live.call("POST", f"{base}/versions/2/stage", json={"stage": "Production"})
    ready = await caught_up(live)
    assert ready["projections"]["alias_history"]["running"] is True

    status, body = await live.call("GET", f"{base}/aliases/champion/history")
    assert status == 200
    periods = body["periods"]
    assert [(p["version"], p["valid_from_position"], p["valid_to_position"]) for p in periods] == [
        (1, positions[0], positions[1]), (2, positions[1], positions[2]),
        (1, positions[2], deleted_at)]
    assert {p["set_by"] for p in periods} == {"admin"} == {p["ended_by"] for p in periods}

    # "What did champion point to at T": by position and by time.
    for position, version in [(positions[0], 1), (positions[1] + 0, 2), (positions[2], 1)]:
        status, body = await live.call("GET", f"{base}/aliases/champion/history",
                                        params={"at": str(position)})
        assert status == 200 and body["period"]["version"] == version
    at_time = periods[1]["valid_from"]
    body = (await live.call("GET", f"{base}/aliases/champion/history", params={"at": at_time}))[1]
    assert body["period"]["version"] == 2 and body["position"] == positions[1]
    for before_or_after in (str(positions[0] - 1), str(deleted_at)):
        body = (await live.call("GET", f"{base}/aliases/champion/history",
                                params={"at": before_or_after}))[1]
        assert body["period"] is None

    status, body = await live.call("GET", f"{base}/timeline", params={"kind": "stage"})
    assert [(p["lane"], p["version"], p["valid_to"] is None) for p in body["periods"]] == [
        ("Staging", 2, False), ("Production", 2, True)]
    # Paging walks every period once.
    seen, token = [], None
    while True:
        params = {"max_results": "2", **({"page_token": token} if token else {})}
        body = (await live.call("GET", f"{base}/timeline", params=params))[1]
        seen += body["periods"]
        token = body.get("next_page_token")
        if not token:
            break
    assert len(seen) == 5 and len({p["valid_from_position"] for p in seen}) == 5

    async with live.http.get("/metrics") as r:
        text = await r.text()
    assert 'modelog_projection_lag_events{projection="alias_history"} 0' in text


async def test_timeline_errors_are_clear(live: Live) -> None:
    base = f"/api/modelog/v1/models/{M}"
    status, body = await live.call("GET", f"{base}/timeline")
    assert status == 404 and body["error_code"] == "NOT_FOUND"
    await live.call("POST", "/api/modelog/v1/models", json={"name": M})
    for params in ({"kind": "nope"}, {"max_results": "0"}, {"page_token": "!!"},
                   {"as_of": "yesterday"}, {"bogus": "1"}):
        status, body = await live.call("GET", f"{base}/timeline", params=params)
        assert status == 400, (params, body)
    status, body = await live.call("GET", f"{base}/aliases/champion/history",
                                   params={"at": "2026-01-01T00:00:00"})  # no UTC offset
    assert status == 400 and "offset" in body["message"]


async def test_a_renamed_model_is_found_under_its_old_name_at_an_old_time(live: Live) -> None:
    base = f"/api/modelog/v1/models/{M}"
    await live.call("POST", "/api/modelog/v1/models", json={"name": M})
    await live.call("POST", f"{base}/versions", json={"source": "s3://b/1"})
    await live.call("PUT", f"{base}/aliases/champion", json={"version": 1})
    then = await head_position(live.pool)
    await live.call("PATCH", base, json={"new_name": "unity.default.renamed"})
    await caught_up(live)
    body = (await live.call("GET", f"{base}/aliases/champion/history", params={"at": str(then)}))[1]
    assert body["period"]["version"] == 1
    status, _ = await live.call("GET", f"{base}/timeline")
    assert status == 404  # no model bears that name now
    body = (await live.call("GET", "/api/modelog/v1/models/unity.default.renamed/timeline"))[1]
    assert [p["lane"] for p in body["periods"]] == ["champion"]
    # Once renamed away, the old name is nobody's: through the projection and through a fold.
    now = await head_position(live.pool)
    status, _ = await live.call("GET", f"{base}/aliases/champion/history",
                                params={"at": str(now)})
    assert status == 404
    assert await alias_at(live.pool, M, "champion", now) is None
    await live.pool.execute("UPDATE projection_checkpoints SET position = 0 "
                            "WHERE name = 'alias_history'")  # as if it lagged: the fold answers
    assert await alias_at(live.pool, M, "champion", now) is None
    assert (await alias_at(live.pool, M, "champion", then)).version == 1


async def test_the_follower_resumes_after_a_restart(db_url: str, pool: asyncpg.Pool,
                                                    tmp_path) -> None:
    async with serving(db_url, tmp_path) as server:
        follower = server.app[FOLLOWERS][0]
        await make_history(server.app[SERVICE])
        for _ in range(200):
            if follower.lag == 0 and follower.position == await head_position(pool):
                break
            await asyncio.sleep(0.02)
        stopped_at = follower.position
        assert stopped_at == await head_position(pool)
    # While no server runs, the log grows; the next server's follower picks up from the checkpoint.
    wm = RegistryWriteModel()
    store = EventStore(pool, projections.inline_projector(), wm)
    await store.start()
    svc = RegistryService(store, wm)
    for v in (1, 3, 1):
        await svc.execute(c.SetAlias(full_name="prod.fraud.m3", alias="champion", version=v), "erin")
    await store.close()
    assert await checkpoint(pool, "alias_history") == stopped_at
    async with serving(db_url, tmp_path) as server:
        follower = server.app[FOLLOWERS][0]
        head = await head_position(pool)
        for _ in range(200):
            if follower.position == head:
                break
            await asyncio.sleep(0.02)
        assert follower.position == head
    assert await check(pool, AliasHistory()) == (head, [])
    last = await pool.fetch("SELECT version, set_by FROM alias_history WHERE lane = 'champion' "
                            "AND set_by = 'erin' ORDER BY valid_from_position")
    assert [tuple(r) for r in last] == [(1, "erin"), (3, "erin"), (1, "erin")]
