"""Event schema evolution: an event stored in an older shape is read in the current shape,
through an upcaster, on every path: the write model, inline read models rebuilt from the log,
the catch-up projection, `as_of`, replay, and the hash chain, which covers the stored bytes. (The
`alias_set_v2` fixture, in tests/conftest.py, makes AliasSet's current shape version 2.)"""

import asyncio

from projections.rebuild import rebuild
from registry.cli.replay import replay
from registry.eventstore import chain as audit
from tests.support.server import Live, append_raw

M = "unity.default.legacy"
BASE = f"/api/modelog/v1/models/{M}"


async def test_an_old_shape_event_reads_in_the_current_shape_everywhere(
        live: Live, alias_set_v2: None) -> None:
    assert (await live.call("POST", "/api/modelog/v1/models", json={"name": M}))[0] == 201
    for i in range(2):
        await live.call("POST", f"{BASE}/versions", json={"source": f"s3://b/{i}"})
    model_id = (await live.call("GET", BASE))[1]["id"]
    old = await append_raw(live, f"model:{model_id}", "AliasSet", 1,
                           {"name": "champion", "version_number": "2"}, "legacy-writer")

    # Tamper evidence covers the stored (old) bytes.
    verdict = await audit.verify(live.pool)
    assert verdict.ok and verdict.head_hash == old.hash.hex()
    # History shows the event as stored.
    events = (await live.call("GET", f"{BASE}/history"))[1]["events"]
    assert events[-1]["schema_version"] == 1 and events[-1]["data"]["name"] == "champion"

    # as_of folds the stream, upcasting on the way.
    status, body = await live.call("GET", f"{BASE}/aliases/champion",
                                   params={"as_of": str(old.position)})
    assert status == 200 and body["version"] == 2
    # Replay (the CLI's fold of the whole log).
    document = await replay(live.pool, str(old.position))
    legacy = next(m for m in document["models"] if m["full_name"] == M)
    assert legacy["aliases"] == [{"alias": "champion", "version": 2}]

    # The raw append bypassed the inline read models; a rebuild from the log brings them level.
    assert (await live.call("GET", f"{BASE}/aliases/champion"))[0] == 404
    assert (await rebuild(live.pool, swap=True)).differences == []
    status, body = await live.call("GET", f"{BASE}/aliases/champion")
    assert status == 200 and body["version"] == 2

    # The catch-up projection was woken by the append's notification and upcast it too.
    for _ in range(200):
        body = (await live.call("GET", f"{BASE}/aliases/champion/history"))[1]
        if body["periods"]:
            break
        await asyncio.sleep(0.02)
    assert [(p["version"], p["set_by"]) for p in body["periods"]] == [(2, "legacy-writer")]

    # The write model decides against the upcast event: champion exists, and moving it records
    # the current shape, with the version it came from.
    status, body = await live.call("PUT", f"{BASE}/aliases/champion", json={"version": 1})
    assert status == 200, body
    last = (await live.call("GET", f"{BASE}/history"))[1]["events"][-1]
    assert (last["type"], last["schema_version"]) == ("AliasSet", 2)
    assert last["data"] == {"alias": "champion", "version": 1, "previous_version": 2}
    assert (await audit.verify(live.pool)).ok
