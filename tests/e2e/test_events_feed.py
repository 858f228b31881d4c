"""The live event feed over a real HTTP client: catch-up in log order, live events, resuming
with Last-Event-ID, filters, heartbeats, and a shutdown that does not wait on open streams."""

import asyncio
import time

import aiohttp

from registry.eventstore import head_position
from registry.http.keys import POOL
from tests.support.server import Live, read_sse, serving

V1 = "/api/modelog/v1"
A, B = "unity.default.feed_a", "unity.default.feed_b"


async def history(live: Live) -> None:
    for name in (A, B):
        assert (await live.call("POST", f"{V1}/models", json={"name": name}))[0] == 201
        assert (await live.call("POST", f"{V1}/models/{name}/versions",
                                json={"source": "s3://b/1"}))[0] == 201
        assert (await live.call("PUT", f"{V1}/models/{name}/aliases/champion",
                                json={"version": 1}))[0] == 200


async def test_catches_up_in_order_then_follows_live(live: Live) -> None:
    await history(live)
    head = await head_position(live.pool)
    async with live.http.get(f"{V1}/events", params={"after": "0"}) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        seen = await read_sse(r, head)
        assert [int(e.id) for e in seen] == list(range(1, head + 1))
        assert [e.data["position"] for e in seen] == list(range(1, head + 1))
        assert all(e.event == e.data["type"] for e in seen)
        created = next(e.data for e in seen if e.event == "ModelCreated")
        assert created["object"] == A and created["stream_id"].startswith("model:")
        assert created["actor"] == "admin" and len(created["hash"]) == 64 and created["recorded_at"]
        assert seen[0].data["object"] == "unity"  # the bootstrap catalog
        # A write made after connecting arrives live.
        started = time.perf_counter()
        assert (await live.call("PUT", f"{V1}/models/{A}/tags/team", json={"value": "ml"}))[0] == 200
        [live_event] = await read_sse(r, 1, seconds=5)
        assert live_event.event == "ModelTagSet" and int(live_event.id) == head + 1
        assert live_event.data["object"] == A and live_event.data["data"] == {"key": "team",
                                                                                "value": "ml"}
        assert time.perf_counter() - started < 2


async def test_resumes_with_last_event_id_exactly_after_it(live: Live) -> None:
    await history(live)
    head = await head_position(live.pool)
    async with live.http.get(f"{V1}/events") as r:
        first = await read_sse(r, 3)
    resume_at = int(first[-1].id)
    # The header wins over `after`, and gives exactly the rest.
    async with live.http.get(f"{V1}/events", params={"after": "1"},
                             headers={"Last-Event-ID": str(resume_at)}) as r:
        rest = await read_sse(r, head - resume_at)
        assert [int(e.id) for e in rest] == list(range(resume_at + 1, head + 1))
    async with live.http.get(f"{V1}/events", params={"after": str(resume_at)}) as r:
        assert [e.id for e in await read_sse(r, head - resume_at)] == [e.id for e in rest]


async def test_filters_by_type_and_object(live: Live) -> None:
    await history(live)
    await live.call("POST", f"{V1}/models/{B}/versions", json={"source": "s3://b/2"})
    await live.call("PATCH", f"{V1}/models/{A}", json={"new_name": "unity.default.feed_c"})
    await live.call("PUT", f"{V1}/models/unity.default.feed_c/aliases/challenger", json={"version": 1})
    async with live.http.get(f"{V1}/events", params=[("type", "AliasSet"),
                                                     ("type", "VersionRegistered,ModelRenamed")]) as r:
        got = await read_sse(r, 7)
    assert [e.event for e in got] == ["VersionRegistered", "AliasSet", "VersionRegistered",
                                      "AliasSet", "VersionRegistered", "ModelRenamed", "AliasSet"]
    # The object is named as it was then: feed_a before the rename, feed_c after.
    assert [e.data["object"] for e in got if e.event == "AliasSet"] == [
        A, B, "unity.default.feed_c"]
    async with live.http.get(f"{V1}/events", params={"object": B}) as r:
        got = await read_sse(r, 4)
    assert [e.event for e in got] == ["ModelCreated", "VersionRegistered", "AliasSet",
                                      "VersionRegistered"]
    assert {e.data["object"] for e in got} == {B}
    async with live.http.get(f"{V1}/events", params={"object": "unity", "type": "SchemaCreated"}) as r:
        [schema] = await read_sse(r, 1)
    assert schema.data["object"] == "unity.default"
    # A prefix matches at dots only.
    async with live.http.get(f"{V1}/events", params={"object": "unity.default.feed",
                                                     "type": "ModelCreated"}) as r:
        assert await read_sse(r, 1, seconds=0.5) == []


async def test_bad_input_is_a_400_json(live: Live) -> None:
    for params, headers in [({"type": "AliasSet,Nope"}, {}), ({"after": "x"}, {}),
                            ({"after": "-1"}, {}), ({"bogus": "1"}, {}),
                            ({}, {"Last-Event-ID": "abc"})]:
        status, body = await live.call("GET", f"{V1}/events", params=params, headers=headers)
        assert status == 400 and body["error_code"] == "INVALID_ARGUMENT", (params, body)
    status, body = await live.call("GET", f"{V1}/events", params={"type": "Nope"})
    assert "Nope" in body["message"] and "AliasSet" in body["details"]["known"]


async def test_heartbeats_and_a_shutdown_that_ends_open_streams(db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path, feed_heartbeat=0.1) as server, \
            aiohttp.ClientSession(server.url) as http:
        head = await head_position(server.app[POOL])
        async with http.get(f"{V1}/events", headers={"Last-Event-ID": str(head)}) as r:
            beats = await read_sse(r, 2, seconds=3, comments=True)
            assert [b.comments for b in beats] == [["keepalive"], ["keepalive"]]
            started = time.perf_counter()
            closing = asyncio.create_task(server.runner.cleanup())
            assert await r.content.read() in (b"", b": keepalive\n\n")  # the stream ends
            await asyncio.wait_for(closing, 5)
            assert time.perf_counter() - started < 3

