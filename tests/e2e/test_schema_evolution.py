"""Event schema evolution: an event stored in an older shape is read in the current shape,
through an upcaster, on every path: the write model, inline read models rebuilt from the log,
the catch-up projection, `as_of`, replay, and the hash chain, which covers the stored bytes. (The
`alias_set_v2` fixture, in tests/conftest.py, makes AliasSet's current shape version 2.)"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from projections.rebuild import rebuild
from registry.cli.replay import replay
from registry.eventstore import RecordedEvent, chain_hash, read_all
from registry.eventstore import chain as audit
from tests.support.server import Live

M = "unity.default.legacy"
BASE = f"/api/modelog/v1/models/{M}"


async def append_raw(live: Live, stream_id: str, type_: str, schema_version: int, data: dict,
                     actor: str) -> RecordedEvent:
    """Append as an older writer did: straight into the table, hash-chained, no projections."""
    head = (await read_all(live.pool, after_position=0, limit=10**6))[-1]
    version = await live.pool.fetchval(
        "SELECT max(stream_version) FROM events WHERE stream_id = $1", stream_id)
    event = RecordedEvent(head.position + 1, stream_id, version + 1, type_, schema_version, data,
                          {"actor": actor}, datetime.now(UTC), head.hash, b"")
    event = replace(event, hash=chain_hash(head.hash, event))
    await live.pool.execute(
        "INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, "
        "metadata, recorded_at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        event.position, event.stream_id, event.stream_version, event.type, event.schema_version,
        event.data, event.metadata, event.recorded_at, event.prev_hash, event.hash)
    return event


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
