"""`Idempotency-Key`: a client that re-sends a write whose answer it lost (a dropped connection,
a 5xx, a timeout) gets the first outcome again, and the log holds the change once."""

import asyncio
from typing import Any

from tests.support.server import V1

M = f"{V1}/models/unity.default.keyed"


async def count(live, type_: str) -> int:
    return await live.pool.fetchval("SELECT count(*) FROM events WHERE type = $1", type_)


async def post(live, path: str, body: dict[str, Any], key: str | None) -> tuple[int, Any]:
    headers = {} if key is None else {"Idempotency-Key": key}
    return await live.call("POST", path, json=body, headers=headers)


async def test_a_repeated_key_answers_the_first_outcome_and_appends_nothing(live) -> None:
    assert (await post(live, f"{V1}/models", {"name": "unity.default.keyed"}, "m-1"))[0] == 201
    assert (await post(live, f"{V1}/models", {"name": "unity.default.keyed"}, "m-1"))[0] == 201
    first = await post(live, f"{M}/versions", {"source": "s3://b/1"}, "register-1")
    again = await post(live, f"{M}/versions", {"source": "s3://b/1"}, "register-1")
    assert first[0] == again[0] == 201
    assert first[1]["version"] == again[1]["version"] == 1
    assert await count(live, "VersionRegistered") == 1 and await count(live, "ModelCreated") == 1
    # Without a key, or with another one, it is a new request.
    assert (await post(live, f"{M}/versions", {"source": "s3://b/1"}, "register-2"))[1][
        "version"] == 2
    assert (await post(live, f"{M}/versions", {"source": "s3://b/1"}, None))[1]["version"] == 3
    # The key and what was asked under it travel with the events, in the same transaction.
    keyed = await live.pool.fetch(
        "SELECT metadata FROM events WHERE metadata->>'idempotency_key' = 'register-1'")
    assert len(keyed) == 1
    metadata = keyed[0]["metadata"]
    assert metadata["actor"] == "admin" and metadata["command"] == "RegisterVersion"
    assert len(metadata["request"]) == 32


async def test_racing_copies_of_one_request_register_one_version(live) -> None:
    await post(live, f"{V1}/models", {"name": "unity.default.keyed"}, None)
    answers = await asyncio.gather(*(
        post(live, f"{M}/versions", {"source": "s3://b/race"}, "race") for _ in range(8)))
    assert {status for status, _ in answers} == {201}
    assert {body["version"] for _, body in answers} == {1}
    assert await count(live, "VersionRegistered") == 1


async def test_a_key_reused_for_another_request_is_refused(live) -> None:
    await post(live, f"{V1}/models", {"name": "unity.default.keyed"}, None)
    assert (await post(live, f"{M}/versions", {"source": "s3://b/1"}, "k"))[0] == 201
    status, err = await post(live, f"{M}/versions", {"source": "s3://b/other"}, "k")
    assert status == 400 and err["error_code"] == "INVALID_ARGUMENT"
    assert "different request" in err["message"]
    assert await count(live, "VersionRegistered") == 1
    for bad in ("", "x" * 256, "caf\u00e9"):
        status, err = await live.call("POST", f"{M}/versions", json={"source": "s3://b/2"},
                                      headers={"Idempotency-Key": bad.encode().decode("latin-1")})
        assert status == 400 and err["error_code"] == "INVALID_ARGUMENT", bad


async def test_a_refused_request_leaves_its_key_free(live) -> None:
    status, _ = await post(live, f"{M}/versions", {"source": "s3://b/1"}, "early")
    assert status == 404  # no model yet: nothing appended, nothing remembered
    await post(live, f"{V1}/models", {"name": "unity.default.keyed"}, None)
    status, body = await post(live, f"{M}/versions", {"source": "s3://b/1"}, "early")
    assert status == 201 and body["version"] == 1
