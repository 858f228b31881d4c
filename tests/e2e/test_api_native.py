"""The native API (`/api/modelog/v1`) over real HTTP: every route, bad input, `as_of`,
read-your-writes, concurrency and request ids.

A refused request must append nothing, so every error case compares the log's head before and after.
"""

import asyncio
import base64
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

from registry.http.keys import SETTINGS

V1 = "/api/modelog/v1"
M = f"{V1}/models/unity.default.iris"  # the model most tests build on


# --- helpers ----------------------------------------------------------------------------------


async def head(live) -> int:
    return await live.pool.fetchval("SELECT coalesce(max(position), 0) FROM events")


async def send(live, method: str, path: str, **kwargs: Any) -> tuple[int, Mapping[str, str], Any]:
    """Status, headers and the body, which must be JSON (every response of this API is)."""
    async with live.http.request(method, path, **kwargs) as r:
        text = await r.text()
        assert r.content_type == "application/json", (method, path, r.status, text[:200])
        return r.status, r.headers.copy(), json.loads(text)


async def ok(live, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    got, headers, body = await send(live, method, path, **kwargs)
    assert got == status, (method, path, got, body)
    assert headers.get("X-Request-Id")
    return body


async def refused(live, method: str, path: str, status: int, code: str, **kwargs: Any) -> dict:
    """The request fails with exactly this status and code, as a JSON error, appending nothing."""
    before = await head(live)
    got, headers, body = await send(live, method, path, **kwargs)
    assert (got, body.get("error_code")) == (status, code), (method, path, kwargs, got, body)
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    assert headers.get("X-Request-Id")
    assert await head(live) == before, f"{method} {path} {kwargs} appended events although refused"
    return body


async def create_model(live, name: str = "unity.default.iris", **body: Any) -> dict:
    return await ok(live, "POST", f"{V1}/models", 201, json={"name": name, **body})


async def register(live, model: str = M, **body: Any) -> dict:
    return await ok(live, "POST", f"{model}/versions", 201, json={"source": "s3://b/x", **body})


async def history(live, model: str = M, **params: str) -> list[dict]:
    return (await ok(live, "GET", f"{model}/history", params=params))["events"]


async def pages(live, path: str, field: str, max_results: int, **params: str) -> list[list[Any]]:
    """Every page of a list, following next_page_token; the last page has none."""
    out: list[list[Any]] = []
    token = None
    while True:
        query = {**params, "max_results": str(max_results)}
        if token is not None:
            query["page_token"] = token
        body = await ok(live, "GET", path, params=query)
        out.append(body[field])
        assert len(body[field]) <= max_results
        token = body.get("next_page_token")
        if token is None:
            return out
        assert len(out) < 100, "paging does not end"


def later(*events: dict) -> None:
    """Each event's batch was recorded strictly after the previous one's: time-based `as_of`
    between them is meaningful (every event of one batch shares its `recorded_at`)."""
    times = [datetime.fromisoformat(e["recorded_at"]) for e in events]
    assert all(a < b for a, b in pairwise(times)), times


def token(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


# --- catalogs and schemas ---------------------------------------------------------------------


async def test_catalogs_create_get_list_page_patch_delete(live):
    for name in ("c_b", "c_a", "c_c"):
        cat = await ok(live, "POST", f"{V1}/catalogs", 201, json={"name": name, "comment": f"{name}!"})
        assert cat["name"] == name and cat["comment"] == f"{name}!" and cat["owner"] == "admin"
        assert cat["created_by"] == cat["updated_by"] == "admin" and cat["id"]
    cat = await ok(live, "GET", f"{V1}/catalogs/c_a")
    assert cat["name"] == "c_a" and cat["comment"] == "c_a!"

    everything = await ok(live, "GET", f"{V1}/catalogs")
    assert [c["name"] for c in everything["catalogs"]] == ["c_a", "c_b", "c_c", "unity"]
    assert "next_page_token" not in everything
    paged = await pages(live, f"{V1}/catalogs", "catalogs", 3)
    assert [[c["name"] for c in p] for p in paged] == [["c_a", "c_b", "c_c"], ["unity"]]
    paged = await pages(live, f"{V1}/catalogs", "catalogs", 2)
    assert [[c["name"] for c in p] for p in paged] == [["c_a", "c_b"], ["c_c", "unity"]]

    cat = await ok(live, "PATCH", f"{V1}/catalogs/c_b", json={"comment": "changed"})
    assert cat["comment"] == "changed" and cat["updated_at"] >= cat["created_at"]
    assert (await ok(live, "GET", f"{V1}/catalogs/c_b"))["comment"] == "changed"

    assert await ok(live, "DELETE", f"{V1}/catalogs/c_c") == {}
    await refused(live, "GET", f"{V1}/catalogs/c_c", 404, "NOT_FOUND")
    await refused(live, "DELETE", f"{V1}/catalogs/c_c", 404, "NOT_FOUND")

    # Not empty: refused, with or without force, until its schema is gone.
    await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "c_a", "name": "s"})
    await refused(live, "DELETE", f"{V1}/catalogs/c_a", 409, "FAILED_PRECONDITION")
    await refused(live, "DELETE", f"{V1}/catalogs/unity", 409, "FAILED_PRECONDITION")
    await ok(live, "DELETE", f"{V1}/schemas/c_a.s")
    await ok(live, "DELETE", f"{V1}/catalogs/c_a")
    names = [c["name"] for c in (await ok(live, "GET", f"{V1}/catalogs"))["catalogs"]]
    assert names == ["c_b", "unity"]


async def test_schemas_create_get_list_page_patch_delete(live):
    await ok(live, "POST", f"{V1}/catalogs", 201, json={"name": "cat"})
    for name in ("s3", "s1", "s2"):
        s = await ok(live, "POST", f"{V1}/schemas", 201,
                     json={"catalog_name": "cat", "name": name, "comment": "hi"})
        assert (s["catalog_name"], s["name"], s["full_name"]) == ("cat", name, f"cat.{name}")
        assert s["comment"] == "hi" and s["owner"] == "admin" and s["id"]
    s = await ok(live, "GET", f"{V1}/schemas/cat.s2")
    assert s["full_name"] == "cat.s2" and s["comment"] == "hi"
    default = await ok(live, "GET", f"{V1}/schemas/unity.default")
    assert default["full_name"] == "unity.default"

    listed = await ok(live, "GET", f"{V1}/schemas", params={"catalog_name": "cat"})
    assert [s["name"] for s in listed["schemas"]] == ["s1", "s2", "s3"]
    paged = await pages(live, f"{V1}/schemas", "schemas", 2, catalog_name="cat")
    assert [[s["full_name"] for s in p] for p in paged] == [["cat.s1", "cat.s2"], ["cat.s3"]]
    only = await ok(live, "GET", f"{V1}/schemas", params={"catalog_name": "unity"})
    assert [s["full_name"] for s in only["schemas"]] == ["unity.default"]
    await refused(live, "GET", f"{V1}/schemas", 400, "INVALID_ARGUMENT")  # catalog_name needed
    await refused(live, "GET", f"{V1}/schemas", 404, "NOT_FOUND", params={"catalog_name": "nope"})

    s = await ok(live, "PATCH", f"{V1}/schemas/cat.s1", json={"comment": "new"})
    assert s["comment"] == "new"
    assert (await ok(live, "GET", f"{V1}/schemas/cat.s1"))["comment"] == "new"

    await create_model(live, "cat.s1.m")
    await refused(live, "DELETE", f"{V1}/schemas/cat.s1", 409, "FAILED_PRECONDITION")
    assert await ok(live, "DELETE", f"{V1}/schemas/cat.s3") == {}
    await refused(live, "GET", f"{V1}/schemas/cat.s3", 404, "NOT_FOUND")
    await ok(live, "DELETE", f"{V1}/models/cat.s1.m")
    await ok(live, "DELETE", f"{V1}/schemas/cat.s1")
    listed = await ok(live, "GET", f"{V1}/schemas", params={"catalog_name": "cat"})
    assert [s["name"] for s in listed["schemas"]] == ["s2"]


# --- registered models ------------------------------------------------------------------------


async def test_models_create_get_and_list_with_filters_and_paging(live):
    await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "unity", "name": "other"})
    await ok(live, "POST", f"{V1}/catalogs", 201, json={"name": "lab"})
    await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "lab", "name": "default"})
    model = await create_model(live, description="flowers", tags={"team": "ml", "tier": "1"})
    assert model["full_name"] == "unity.default.iris" and model["name"] == "iris"
    assert (model["catalog_name"], model["schema_name"]) == ("unity", "default")
    assert model["description"] == "flowers" and model["tags"] == {"team": "ml", "tier": "1"}
    assert model["aliases"] == [] and model["owner"] == "admin" and model["id"]
    for name in ("unity.default.iris_v2", "unity.default.irisx", "unity.default.mnist",
                 "unity.other.iris", "lab.default.iris"):
        await create_model(live, name)
    got = await ok(live, "GET", M)
    assert got == model

    async def names(**params: str) -> list[str]:
        body = await ok(live, "GET", f"{V1}/models", params=params)
        return [m["full_name"] for m in body["registered_models"]]

    assert await names() == ["lab.default.iris", "unity.default.iris", "unity.default.iris_v2",
                             "unity.default.irisx", "unity.default.mnist", "unity.other.iris"]
    assert await names(catalog_name="unity", schema_name="default") == [
        "unity.default.iris", "unity.default.iris_v2", "unity.default.irisx", "unity.default.mnist"]
    assert await names(catalog_name="lab") == ["lab.default.iris"]
    assert await names(schema_name="other") == ["unity.other.iris"]
    assert await names(name_pattern="iris") == ["lab.default.iris", "unity.default.iris",
                                                "unity.other.iris"]
    assert await names(name_pattern="iris*", catalog_name="unity", schema_name="default") == [
        "unity.default.iris", "unity.default.iris_v2", "unity.default.irisx"]
    assert await names(name_pattern="*n*") == ["unity.default.mnist"]
    # With a glob, '_' is a literal underscore, not SQL's any-character.
    assert await names(name_pattern="iris_*") == ["unity.default.iris_v2"]
    assert await names(name_pattern="iris?") == ["unity.default.irisx"]
    assert await names(name_pattern="nothing*") == []

    paged = await pages(live, f"{V1}/models", "registered_models", 4)
    assert [len(p) for p in paged] == [4, 2]
    flat = [m["full_name"] for p in paged for m in p]
    assert flat == sorted(flat) and len(set(flat)) == 6
    paged = await pages(live, f"{V1}/models", "registered_models", 1, name_pattern="iris*",
                        schema_name="default")
    assert [[m["full_name"] for m in p] for p in paged] == [
        ["lab.default.iris"], ["unity.default.iris"], ["unity.default.iris_v2"],
        ["unity.default.irisx"]]


async def test_model_patch_description_tags_and_delete(live):
    await create_model(live, tags={"a": "1"})
    model = await ok(live, "PATCH", M, json={"description": "v2"})
    assert model["description"] == "v2" and model["full_name"] == "unity.default.iris"
    model = await ok(live, "PATCH", M, json={"description": None})
    assert model["description"] is None

    model = await ok(live, "PUT", f"{M}/tags/b", json={"value": "2"})
    assert model["tags"] == {"a": "1", "b": "2"}
    model = await ok(live, "PUT", f"{M}/tags/a", json={"value": "one"})
    assert model["tags"] == {"a": "one", "b": "2"}
    model = await ok(live, "DELETE", f"{M}/tags/a")
    assert model["tags"] == {"b": "2"}
    assert (await ok(live, "GET", M))["tags"] == {"b": "2"}
    await refused(live, "DELETE", f"{M}/tags/a", 404, "NOT_FOUND")

    # A model with versions needs force; without versions it does not.
    await register(live)
    await refused(live, "DELETE", M, 409, "FAILED_PRECONDITION")
    await refused(live, "DELETE", M, 409, "FAILED_PRECONDITION", params={"force": "false"})
    assert await ok(live, "DELETE", M, params={"force": "true"}) == {}
    await refused(live, "GET", M, 404, "NOT_FOUND")
    await refused(live, "GET", f"{M}/versions/1", 404, "NOT_FOUND")
    assert (await ok(live, "GET", f"{V1}/models"))["registered_models"] == []
    await create_model(live, "unity.default.bare")
    assert await ok(live, "DELETE", f"{V1}/models/unity.default.bare") == {}
    await refused(live, "GET", f"{V1}/models/unity.default.bare", 404, "NOT_FOUND")
    # The name is free again: a new model with a new id and a fresh history.
    again = await create_model(live)
    assert again["tags"] == {} and [e["type"] for e in await history(live)] == ["ModelCreated"]


async def test_model_rename_keeps_identity_and_history(live):
    created = await create_model(live, description="d")
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    renamed = await ok(live, "PATCH", M, json={"new_name": "unity.default.setosa"})
    new = f"{V1}/models/unity.default.setosa"
    assert renamed["full_name"] == "unity.default.setosa" and renamed["name"] == "setosa"
    assert renamed["id"] == created["id"] and renamed["description"] == "d"
    assert renamed["aliases"] == [{"alias": "champion", "version": 1}]

    await refused(live, "GET", M, 404, "NOT_FOUND")
    await refused(live, "GET", f"{M}/versions", 404, "NOT_FOUND")
    await refused(live, "POST", f"{M}/versions", 404, "NOT_FOUND", json={"source": "s"})
    assert (await ok(live, "GET", new))["id"] == created["id"]
    mv = await ok(live, "GET", f"{new}/versions/1")
    assert mv["model_name"] == "unity.default.setosa" and mv["aliases"] == ["champion"]
    assert [m["full_name"] for m in (await ok(live, "GET", f"{V1}/models"))["registered_models"]] == [
        "unity.default.setosa"]

    # Across schemas too, and back; one stream throughout.
    await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "unity", "name": "prod"})
    moved = await ok(live, "PATCH", new, json={"new_name": "unity.prod.setosa"})
    assert (moved["schema_name"], moved["id"]) == ("prod", created["id"])
    await register(live, f"{V1}/models/unity.prod.setosa")
    events = await history(live, f"{V1}/models/unity.prod.setosa")
    assert [e["type"] for e in events] == ["ModelCreated", "VersionRegistered", "AliasSet",
                                           "ModelRenamed", "ModelRenamed", "VersionRegistered"]
    assert [e["stream_version"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert {e["stream_id"] for e in events} == {f"model:{created['id']}"}
    assert events[3]["data"]["from_full_name"] == "unity.default.iris"
    # The old name may be taken by a new model, with a history of its own.
    await create_model(live)
    assert [e["type"] for e in await history(live)] == ["ModelCreated"]


# --- versions ---------------------------------------------------------------------------------


async def test_versions_register_list_get_patch(live):
    await create_model(live)
    for n in (1, 2, 3, 4, 5):
        mv = await register(live, source=f"s3://b/{n}", run_id=f"run{n}", description=f"d{n}",
                            tags={"n": str(n)}, run_link="http://x", logged_model_id="lm")
        assert mv["version"] == n and mv["model_name"] == "unity.default.iris"
        assert mv["status"] == "PENDING_REGISTRATION" and mv["status_message"] is None
        assert (mv["source"], mv["run_id"], mv["description"]) == (f"s3://b/{n}", f"run{n}", f"d{n}")
        assert mv["tags"] == {"n": str(n)} and mv["aliases"] == []
        assert (mv["run_link"], mv["logged_model_id"]) == ("http://x", "lm")
        root = live.app[SETTINGS].artifacts
        model_id = (await ok(live, "GET", M))["id"]
        assert mv["storage_location"] == f"{root}/models/{model_id}/versions/{n}"
    listed = await ok(live, "GET", f"{M}/versions")
    assert [v["version"] for v in listed["model_versions"]] == [1, 2, 3, 4, 5]
    paged = await pages(live, f"{M}/versions", "model_versions", 2)
    assert [[v["version"] for v in p] for p in paged] == [[1, 2], [3, 4], [5]]
    paged = await pages(live, f"{M}/versions", "model_versions", 5)
    assert [[v["version"] for v in p] for p in paged] == [[1, 2, 3, 4, 5]]

    mv = await ok(live, "GET", f"{M}/versions/3")
    assert mv["version"] == 3 and mv["source"] == "s3://b/3" and mv["tags"] == {"n": "3"}
    mv = await ok(live, "PATCH", f"{M}/versions/3", json={"description": "better"})
    assert mv["description"] == "better" and mv["version"] == 3
    assert (await ok(live, "GET", f"{M}/versions/3"))["description"] == "better"
    assert (await ok(live, "GET", f"{M}/versions/2"))["description"] == "d2"


async def test_versions_finalize_tags_and_delete_never_reuses_numbers(live):
    await create_model(live)
    for _ in range(3):
        await register(live)
    mv = await ok(live, "POST", f"{M}/versions/1/finalize", json={})
    assert mv["status"] == "READY" and mv["version"] == 1
    mv = await ok(live, "POST", f"{M}/versions/2/finalize",
                  json={"status": "FAILED_REGISTRATION", "status_message": "upload failed"})
    assert (mv["status"], mv["status_message"]) == ("FAILED_REGISTRATION", "upload failed")
    assert (await ok(live, "GET", f"{M}/versions/2"))["status"] == "FAILED_REGISTRATION"
    # Finalizing again the same way is a harmless no-op; the other way is refused.
    before = await head(live)
    assert (await ok(live, "POST", f"{M}/versions/1/finalize", json={"status": "READY"}))["status"] == "READY"
    assert await head(live) == before
    await refused(live, "POST", f"{M}/versions/1/finalize", 409, "FAILED_PRECONDITION",
                  json={"status": "FAILED_REGISTRATION"})
    await refused(live, "POST", f"{M}/versions/2/finalize", 409, "FAILED_PRECONDITION", json={})
    await refused(live, "POST", f"{M}/versions/3/finalize", 400, "INVALID_ARGUMENT",
                  json={"status": "DONE"})

    mv = await ok(live, "PUT", f"{M}/versions/3/tags/stage", json={"value": "dev"})
    assert mv["tags"] == {"stage": "dev"}
    mv = await ok(live, "PUT", f"{M}/versions/3/tags/owner", json={"value": "me"})
    assert mv["tags"] == {"owner": "me", "stage": "dev"}
    mv = await ok(live, "DELETE", f"{M}/versions/3/tags/stage")
    assert mv["tags"] == {"owner": "me"}
    assert (await ok(live, "GET", f"{M}/versions/3"))["tags"] == {"owner": "me"}
    assert (await ok(live, "GET", f"{M}/versions/2"))["tags"] == {}
    await refused(live, "DELETE", f"{M}/versions/3/tags/stage", 404, "NOT_FOUND")

    assert await ok(live, "DELETE", f"{M}/versions/3") == {}
    await refused(live, "GET", f"{M}/versions/3", 404, "NOT_FOUND")
    await refused(live, "DELETE", f"{M}/versions/3", 404, "NOT_FOUND")
    assert (await register(live))["version"] == 4  # 3 is never reused
    assert [v["version"] for v in (await ok(live, "GET", f"{M}/versions"))["model_versions"]] == [1, 2, 4]
    await ok(live, "DELETE", f"{M}/versions/4")
    assert (await register(live))["version"] == 5


async def test_deleting_an_aliased_version_removes_its_aliases(live):
    await create_model(live)
    await register(live)
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    await ok(live, "PUT", f"{M}/aliases/backup", json={"version": 1})
    await ok(live, "PUT", f"{M}/aliases/challenger", json={"version": 2})
    await ok(live, "DELETE", f"{M}/versions/1")
    await refused(live, "GET", f"{M}/aliases/champion", 404, "NOT_FOUND")
    await refused(live, "GET", f"{M}/aliases/backup", 404, "NOT_FOUND")
    assert (await ok(live, "GET", f"{M}/aliases/challenger"))["version"] == 2
    assert (await ok(live, "GET", M))["aliases"] == [{"alias": "challenger", "version": 2}]
    events = await history(live)
    assert [e["type"] for e in events[-3:]] == ["AliasDeleted", "AliasDeleted", "VersionDeleted"]
    assert len({e["recorded_at"] for e in events[-3:]}) == 1  # one command, one batch


# --- aliases ----------------------------------------------------------------------------------


async def test_aliases_put_get_move_delete(live):
    await create_model(live)
    for _ in range(2):
        await register(live)
    mv = await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    assert mv["version"] == 1 and mv["aliases"] == ["champion"]
    got = await ok(live, "GET", f"{M}/aliases/champion")
    assert got["version"] == 1 and got["aliases"] == ["champion"]

    before = await head(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})  # already there: no event
    assert await head(live) == before
    moved = await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 2})
    assert moved["version"] == 2 and moved["aliases"] == ["champion"]
    assert (await ok(live, "GET", f"{M}/aliases/champion"))["version"] == 2
    assert (await ok(live, "GET", f"{M}/versions/1"))["aliases"] == []
    assert (await ok(live, "GET", f"{M}/versions/2"))["aliases"] == ["champion"]
    last = (await history(live))[-1]
    assert last["type"] == "AliasSet"
    assert last["data"] == {"alias": "champion", "version": 2, "previous_version": 1}

    assert await ok(live, "DELETE", f"{M}/aliases/champion") == {}
    await refused(live, "GET", f"{M}/aliases/champion", 404, "NOT_FOUND")
    await refused(live, "DELETE", f"{M}/aliases/champion", 404, "NOT_FOUND")
    assert (await ok(live, "GET", M))["aliases"] == []


# --- history ----------------------------------------------------------------------------------


async def test_history_pages_through_every_event(live):
    await create_model(live)
    for n in range(1, 4):
        await register(live)
        await ok(live, "PATCH", f"{M}/versions/{n}", json={"description": f"v{n}"})
    await ok(live, "PUT", f"{M}/tags/k", json={"value": "v"})
    everything = await history(live)
    assert len(everything) == 8
    e = everything[0]
    assert e["type"] == "ModelCreated" and e["stream_version"] == 1
    assert e["metadata"]["actor"] == "admin" and e["metadata"]["command"] == "CreateModel"
    assert len(e["hash"]) == 64 and e["schema_version"] == 1 and e["data"]["name"] == "iris"
    positions = [e["position"] for e in everything]
    assert positions == sorted(positions) and len(set(positions)) == 8

    paged = await pages(live, f"{M}/history", "events", 3)
    assert [len(p) for p in paged] == [3, 3, 2]
    assert [e for p in paged for e in p] == everything
    paged = await pages(live, f"{M}/history", "events", 8)
    assert len(paged) == 1 and paged[0] == everything
    upto = await history(live, as_of=str(everything[2]["position"]))
    assert upto == everything[:3]


# --- bad input: exact error, nothing appended, never a 500 -------------------------------------


async def test_malformed_bodies_are_refused(live):
    await create_model(live)
    await register(live)
    bad_json = ["{", "{'name': 'x'}", "nul", '{"name": "x",}', b"\xff\xfe\x00"]
    for data in bad_json:
        await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT", data=data)
    not_objects = ["[]", '[{"name": "x"}]', '"x"', "42", "null", "true"]
    for data in not_objects:
        await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT", data=data)
        await refused(live, "PUT", f"{M}/aliases/champion", 400, "INVALID_ARGUMENT", data=data)
    # Pathological but small: nesting deeper than the parser's recursion, an enormous integer.
    await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT", data="[" * 100_000)
    await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT",
                  data='{"name": "x", "comment": ' + "1" * 5000 + "}")
    await refused(live, "PUT", f"{M}/aliases/champion", 400, "INVALID_ARGUMENT",
                  data='{"version": ' + "9" * 5000 + "}")
    big = b'{"name": "' + b"a" * (1 << 20) + b'"}'
    await refused(live, "POST", f"{V1}/catalogs", 413, "PAYLOAD_TOO_LARGE", data=big)
    await refused(live, "POST", f"{M}/versions", 413, "PAYLOAD_TOO_LARGE",
                  json={"source": "s", "description": "d" * (1 << 20)})


async def test_wrong_types_and_unknown_fields_are_refused(live):
    await create_model(live)
    await register(live)
    cases = [
        ("PUT", f"{M}/aliases/champion", {"version": "1"}),  # strict: no "1" for an int
        ("PUT", f"{M}/aliases/champion", {"version": 1.0}),
        ("PUT", f"{M}/aliases/champion", {"version": True}),
        ("PUT", f"{M}/aliases/champion", {"version": None}),
        ("PUT", f"{M}/aliases/champion", {}),
        ("PUT", f"{M}/aliases/champion", {"version": 0}),
        ("PUT", f"{M}/aliases/champion", {"version": -1}),
        ("POST", f"{V1}/models", {"name": 5}),
        ("POST", f"{V1}/models", {"name": ["unity", "default", "x"]}),
        ("POST", f"{V1}/models", {"name": "unity.default.x", "tags": ["a"]}),
        ("POST", f"{V1}/models", {"name": "unity.default.x", "tags": "a=b"}),
        ("POST", f"{V1}/models", {"name": "unity.default.x", "tags": {"a": 1}}),
        ("POST", f"{V1}/models", {"name": "unity.default.x", "description": 3}),
        ("POST", f"{V1}/catalogs", {"name": 1}),
        ("POST", f"{V1}/catalogs", {"comment": "no name"}),
        ("POST", f"{V1}/schemas", {"catalog_name": "unity", "name": 1}),
        ("POST", f"{V1}/schemas", {"name": "s"}),
        ("POST", f"{M}/versions", {"source": 1}),
        ("POST", f"{M}/versions", {}),
        ("POST", f"{M}/versions", {"source": ""}),
        ("POST", f"{M}/versions", {"source": "s", "tags": {"k": None}}),
        ("POST", f"{M}/versions/1/finalize", {"status": 1}),
        ("PATCH", f"{M}/versions/1", {"description": 1}),
        ("PATCH", M, {"new_name": 1}),
        ("PATCH", f"{V1}/catalogs/unity", {"comment": ["x"]}),
        ("PUT", f"{M}/tags/k", {"value": 1}),
        ("PUT", f"{M}/tags/k", {}),
        ("PUT", f"{M}/versions/1/tags/k", {"value": None}),
        # unknown fields
        ("POST", f"{V1}/catalogs", {"name": "c", "bogus": 1}),
        ("POST", f"{V1}/models", {"name": "unity.default.x", "owner": "me"}),
        ("POST", f"{M}/versions", {"source": "s", "version": 7}),
        ("PATCH", M, {"name": "unity.default.y"}),
        ("PUT", f"{M}/aliases/champion", {"version": 1, "force": True}),
        ("PUT", f"{M}/tags/k", {"value": "v", "key": "k"}),
        ("POST", f"{M}/versions/1/finalize", {"stage": "Production"}),
    ]
    for method, path, body in cases:
        await refused(live, method, path, 400, "INVALID_ARGUMENT", json=body)
    err = await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT",
                        json={"name": "c", "bogus": 1})
    assert err["details"]["errors"] == [{"field": "bogus", "problem": "Extra inputs are not permitted"}]
    err = await refused(live, "PUT", f"{M}/aliases/champion", 400, "INVALID_ARGUMENT",
                        json={"version": "2"})
    assert [e["field"] for e in err["details"]["errors"]] == ["version"]


async def test_bad_names_are_refused(live):
    await create_model(live)
    await register(live)
    long = "x" * 256
    for name in ("a.b", "a/b", "a b", "", long, "tab\t", "nl\n", "é.x", "a\x85b", "a:b"):
        await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT", json={"name": name})
        await refused(live, "POST", f"{V1}/schemas", 400, "INVALID_ARGUMENT",
                      json={"catalog_name": "unity", "name": name})
    # A model's own name is what MLflow's server takes (dots, spaces, a leading hyphen), but no
    # path separators, control characters or more than 256 characters.
    for name in ("a/b", "", " ", "x" * 257, "tab\t", "nl\n", "a\x85b", "a:b", ".."):
        await refused(live, "POST", f"{V1}/models", 400, "INVALID_ARGUMENT",
                      json={"name": f"unity.default.{name}"})
    for name in ("a.b", "a b", "-dash", "é.x", "x" * 256):
        created = await ok(live, "POST", f"{V1}/models", 201, json={"name": f"unity.default.{name}"})
        assert created["name"] == name and created["schema_name"] == "default"
    for name in ("system", "System", "SYSTEM", "information_schema", "hive_metastore", "samples"):
        await refused(live, "POST", f"{V1}/catalogs", 400, "INVALID_ARGUMENT", json={"name": name})
    for name in ("information_schema", "INFORMATION_SCHEMA"):
        await refused(live, "POST", f"{V1}/schemas", 400, "INVALID_ARGUMENT",
                      json={"catalog_name": "unity", "name": name})
    # Reserved only as a catalog: fine as a schema or a model.
    await ok(live, "POST", f"{V1}/schemas", 201, json={"catalog_name": "unity", "name": "system"})
    await create_model(live, "unity.system.system")
    models = ["iris", "unity.default", "unity..a", "unity.default.a/b", "unity.default.a:b",
              "unity.default..", "system.default.a", f"unity.{long}.a"]
    for name in models:
        await refused(live, "POST", f"{V1}/models", 400, "INVALID_ARGUMENT", json={"name": name})
        await refused(live, "PATCH", M, 400, "INVALID_ARGUMENT", json={"new_name": name})
    # The longest allowed name is fine.
    await ok(live, "POST", f"{V1}/catalogs", 201, json={"name": "x" * 255})

    for alias in ("latest", "LATEST", "Latest", "v1", "V12", "v007", "a%2Fb", "a%20b", "a.b", "x" * 256):
        await refused(live, "PUT", f"{M}/aliases/{alias}", 400, "INVALID_ARGUMENT", json={"version": 1})
    await ok(live, "PUT", f"{M}/aliases/v1x", json={"version": 1})  # only v<number> is reserved
    await ok(live, "PUT", f"{M}/aliases/version", json={"version": 1})

    await refused(live, "PUT", f"{M}/tags/{'k' * 251}", 400, "INVALID_ARGUMENT", json={"value": "v"})
    await refused(live, "PUT", f"{M}/tags/k", 400, "INVALID_ARGUMENT", json={"value": "v" * 5001})
    await refused(live, "PUT", f"{M}/tags/%20", 400, "INVALID_ARGUMENT", json={"value": "v"})
    await refused(live, "PUT", f"{M}/tags/a%01b", 400, "INVALID_ARGUMENT", json={"value": "v"})
    await refused(live, "POST", f"{V1}/models", 400, "INVALID_ARGUMENT",
                  json={"name": "unity.default.x", "tags": {"k": "v" * 5001}})
    await refused(live, "PUT", f"{M}/versions/1/tags/k", 400, "INVALID_ARGUMENT",
                  json={"value": "v" * 5001})
    await refused(live, "PATCH", M, 400, "INVALID_ARGUMENT", json={"description": "d" * 65537})


async def test_text_postgres_cannot_store_is_refused(live):
    """NUL characters and unpaired surrogates are valid JSON but PostgreSQL text cannot hold them."""
    await create_model(live)
    await register(live)
    for text in ('"a\\u0000b"', '"\\ud800"', '"x\\udfffy"'):
        for method, path, data in [
            ("PATCH", f"{V1}/catalogs/unity", '{"comment": %s}'),
            ("PATCH", M, '{"description": %s}'),
            ("PUT", f"{M}/tags/k", '{"value": %s}'),
            ("POST", f"{M}/versions", '{"source": %s}'),
            ("POST", f"{M}/versions", '{"source": "s", "tags": {%s: "v"}}'),
            ("POST", f"{M}/versions/1/finalize", '{"status": "FAILED_REGISTRATION", "status_message": %s}'),
            ("PUT", f"{M}/versions/1/tags/k", '{"value": %s}'),
        ]:
            await refused(live, method, path, 400, "INVALID_ARGUMENT", data=data % text)
    # A surrogate pair is one character, and fine.
    mv = await ok(live, "PATCH", f"{M}/versions/1", data='{"description": "\\ud83d\\ude00"}')
    assert mv["description"] == "\U0001f600"
    # Names with a NUL name nothing.
    for path in (f"{V1}/catalogs/a%00b", f"{V1}/schemas/unity.a%00", f"{V1}/models/unity.default.a%00",
                 f"{V1}/models/unity.default.a%00/versions", f"{V1}/models/unity.default.a%00/history"):
        await refused(live, "GET", path, 404, "NOT_FOUND")
    await refused(live, "GET", f"{V1}/models/unity.default.a%00", 404, "NOT_FOUND", params={"as_of": "1"})
    for params in ({"catalog_name": "a\x00"}, {"name_pattern": "\x00*"}, {"schema_name": "\x00"}):
        await refused(live, "GET", f"{V1}/models", 400, "INVALID_ARGUMENT", params=params)
    await refused(live, "GET", f"{V1}/schemas", 400, "INVALID_ARGUMENT", params={"catalog_name": "\x00"})
    await refused(live, "DELETE", f"{M}/aliases/a%00", 404, "NOT_FOUND")
    await refused(live, "DELETE", f"{M}/tags/a%00", 404, "NOT_FOUND")
    # The server is still healthy and writing.
    assert (await register(live))["version"] == 2


async def test_unknown_things_are_not_found(live):
    await create_model(live)
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    nope = f"{V1}/models/unity.default.nope"
    cases = [
        ("GET", f"{V1}/catalogs/nope", None),
        ("PATCH", f"{V1}/catalogs/nope", {"comment": "x"}),
        ("DELETE", f"{V1}/catalogs/nope", None),
        ("GET", f"{V1}/schemas/unity.nope", None),
        ("GET", f"{V1}/schemas/nope.default", None),
        ("GET", f"{V1}/schemas/unity", None),
        ("GET", f"{V1}/schemas/unity.default.x", None),
        ("PATCH", f"{V1}/schemas/unity.nope", {"comment": "x"}),
        ("DELETE", f"{V1}/schemas/unity.nope", None),
        ("POST", f"{V1}/schemas", {"catalog_name": "nope", "name": "s"}),
        ("POST", f"{V1}/models", {"name": "unity.nope.m"}),
        ("POST", f"{V1}/models", {"name": "nope.default.m"}),
        ("GET", nope, None),
        ("GET", f"{V1}/models/nope", None),
        ("PATCH", nope, {"description": "x"}),
        ("PATCH", M, {"new_name": "unity.nope.iris"}),
        ("DELETE", nope, None),
        ("GET", f"{nope}/history", None),
        ("PUT", f"{nope}/tags/k", {"value": "v"}),
        ("DELETE", f"{nope}/tags/k", None),
        ("DELETE", f"{M}/tags/k", None),
        ("POST", f"{nope}/versions", {"source": "s"}),
        ("GET", f"{nope}/versions", None),
        ("GET", f"{nope}/versions/1", None),
        ("GET", f"{M}/versions/2", None),
        ("PATCH", f"{M}/versions/2", {"description": "x"}),
        ("DELETE", f"{M}/versions/2", None),
        ("POST", f"{M}/versions/2/finalize", {}),
        ("PUT", f"{M}/versions/2/tags/k", {"value": "v"}),
        ("DELETE", f"{M}/versions/2/tags/k", None),
        ("DELETE", f"{M}/versions/1/tags/k", None),
        ("PUT", f"{nope}/aliases/a", {"version": 1}),
        ("PUT", f"{M}/aliases/a", {"version": 2}),
        ("GET", f"{M}/aliases/a", None),
        ("GET", f"{nope}/aliases/champion", None),
        ("DELETE", f"{M}/aliases/a", None),
        ("DELETE", f"{nope}/aliases/champion", None),
    ]
    for method, path, body in cases:
        kwargs = {} if body is None else {"json": body}
        await refused(live, method, path, 404, "NOT_FOUND", **kwargs)
    # A version number that is not a number, in any route that takes one.
    for version in ("abc", "-1", "0", "1.0", "1e0", "+1", "%201", "99999999999", "9" * 5000,
                    "%C2%B2", "%D9%A1", "%EF%BC%91"):
        for method, suffix, body in [("GET", "", None), ("PATCH", "", {"description": "x"}),
                                     ("DELETE", "", None), ("POST", "/finalize", {}),
                                     ("PUT", "/tags/k", {"value": "v"}), ("DELETE", "/tags/k", None)]:
            kwargs = {} if body is None else {"json": body}
            await refused(live, method, f"{M}/versions/{version}{suffix}", 404, "NOT_FOUND", **kwargs)
        await refused(live, "GET", f"{M}/versions/{version}", 404, "NOT_FOUND", params={"as_of": "99"})
    assert (await ok(live, "GET", f"{M}/versions/01"))["version"] == 1  # leading zeros are fine


async def test_duplicates_already_exist(live):
    await create_model(live)
    await create_model(live, "unity.default.other")
    await refused(live, "POST", f"{V1}/catalogs", 409, "ALREADY_EXISTS", json={"name": "unity"})
    await refused(live, "POST", f"{V1}/schemas", 409, "ALREADY_EXISTS",
                  json={"catalog_name": "unity", "name": "default"})
    await refused(live, "POST", f"{V1}/models", 409, "ALREADY_EXISTS", json={"name": "unity.default.iris"})
    err = await refused(live, "PATCH", M, 409, "ALREADY_EXISTS", json={"new_name": "unity.default.other"})
    assert err["details"] == {"model": "unity.default.other"}


async def test_bad_query_parameters_are_refused(live):
    await create_model(live)
    await register(live)
    lists = [(f"{V1}/catalogs", {}), (f"{V1}/schemas", {"catalog_name": "unity"}), (f"{V1}/models", {}),
             (f"{M}/versions", {}), (f"{M}/history", {})]
    bad_tokens = ["!!!", "Zm9v", "%%%", token(None), token(None) + "x", token([1]), token({"a": 1}),
                  token(1.5), token(True)]
    for path, base in lists:
        for max_results in ("0", "5000", "1001", "-1", "abc", "1.5", ""):
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT",
                          params={**base, "max_results": max_results})
        for bad in bad_tokens:
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT", params={**base, "page_token": bad})
        await refused(live, "GET", path, 400, "INVALID_ARGUMENT", params={**base, "bogus": "1"})
        await refused(live, "GET", path, 400, "INVALID_ARGUMENT",
                      params=[*base.items(), ("max_results", "1"), ("max_results", "2")])
        assert await ok(live, "GET", path, params={**base, "max_results": "1000"})
    # A token of the wrong kind: a number where a name goes and the other way round.
    for path, base in lists[:3]:
        for bad in (token(5), token("x\x00")):
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT", params={**base, "page_token": bad})
    for path in (f"{M}/versions", f"{M}/history"):
        for bad in (token("x"), token(-1), token(2**31), token(10**30)):
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT", params={"page_token": bad})
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT",
                          params={"page_token": bad, "as_of": "99"})

    # Routes without parameters refuse unknown ones too, reads and writes alike.
    for method, path, body in [
        ("GET", f"{V1}/catalogs/unity", None), ("GET", f"{V1}/schemas/unity.default", None),
        ("GET", M, None), ("GET", f"{M}/versions/1", None), ("GET", f"{M}/aliases/a", None),
        ("POST", f"{V1}/catalogs", {"name": "c"}), ("PATCH", f"{V1}/catalogs/unity", {"comment": "c"}),
        ("POST", f"{V1}/schemas", {"catalog_name": "unity", "name": "s"}),
        ("PATCH", f"{V1}/schemas/unity.default", {"comment": "c"}),
        ("DELETE", f"{V1}/catalogs/unity", None), ("DELETE", f"{V1}/schemas/unity.default", None),
        ("POST", f"{V1}/models", {"name": "unity.default.x"}), ("PATCH", M, {"description": "x"}),
        ("DELETE", M, None), ("PUT", f"{M}/tags/k", {"value": "v"}), ("DELETE", f"{M}/tags/k", None),
        ("POST", f"{M}/versions", {"source": "s"}), ("PATCH", f"{M}/versions/1", {"description": "x"}),
        ("POST", f"{M}/versions/1/finalize", {}), ("PUT", f"{M}/versions/1/tags/k", {"value": "v"}),
        ("DELETE", f"{M}/versions/1/tags/k", None), ("DELETE", f"{M}/versions/1", None),
        ("PUT", f"{M}/aliases/a", {"version": 1}), ("DELETE", f"{M}/aliases/a", None),
    ]:
        kwargs = {} if body is None else {"json": body}
        await refused(live, method, path, 400, "INVALID_ARGUMENT", params={"bogus": "1"}, **kwargs)
    # `as_of` only means something on a read: a write given one is refused, not half done.
    for method, path, body in [
        ("POST", f"{V1}/models", {"name": "unity.default.x"}), ("PATCH", M, {"description": "x"}),
        ("POST", f"{M}/versions", {"source": "s"}), ("POST", f"{M}/versions/1/finalize", {}),
        ("PUT", f"{M}/aliases/a", {"version": 1}), ("PUT", f"{M}/tags/k", {"value": "v"}),
        ("DELETE", M, None),
    ]:
        kwargs = {} if body is None else {"json": body}
        await refused(live, method, path, 400, "INVALID_ARGUMENT", params={"as_of": "1"}, **kwargs)
    await refused(live, "DELETE", M, 400, "INVALID_ARGUMENT", params={"force": "maybe"})
    assert [v["version"] for v in (await ok(live, "GET", f"{M}/versions"))["model_versions"]] == [1]


async def test_bad_as_of_is_refused(live):
    await create_model(live)
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    garbage = ["yesterday", "now", "-1", "1.5", "1e3", "0x10", "", "2026-13-01T00:00:00Z",
               "2026-03-01T25:00:00+00:00", "2026-03-01T12:00:00+99:00", "\u00b2", "\u0661",
               "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
    naive = ["2026-03-01T12:00:00", "2026-03-01", "2026-03-01 12:00:00.5"]
    for path in (M, f"{M}/versions", f"{M}/versions/1", f"{M}/aliases/champion", f"{M}/history"):
        for when in garbage + naive:
            await refused(live, "GET", path, 400, "INVALID_ARGUMENT", params={"as_of": when})
    err = await refused(live, "GET", M, 400, "INVALID_ARGUMENT", params={"as_of": "2026-03-01T12:00:00"})
    assert err["details"] == {"field": "as_of"}
    # Extremes that are well formed are fine: long before anything, or far in the future.
    await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": "0001-01-01T00:00:00Z"})
    assert (await ok(live, "GET", M, params={"as_of": "9999-12-31T23:59:59Z"}))["name"] == "iris"
    assert (await ok(live, "GET", M, params={"as_of": "9" * 5000}))["name"] == "iris"
    assert (await ok(live, "GET", M, params={"as_of": " 0003 "}))["name"] == "iris"


async def test_unknown_routes_and_methods_are_json_errors(live):
    await create_model(live)
    for path in ("/nope", f"{V1}", f"{V1}/nope", f"{V1}/catalogs/unity/schemas", f"{M}/bogus",
                 f"{M}/versions/1/bogus", f"{M}/aliases", f"{M}/tags", "/api/modelog/v2/models"):
        await refused(live, "GET", path, 404, "NOT_FOUND")
    for method, path in [("PUT", f"{V1}/catalogs"), ("POST", f"{V1}/catalogs/unity"),
                         ("DELETE", f"{V1}/models"), ("PUT", M), ("POST", M), ("PATCH", f"{M}/history"),
                         ("GET", f"{M}/tags/k"), ("PATCH", f"{M}/aliases/a"),
                         ("GET", f"{M}/versions/1/finalize"), ("DELETE", f"{M}/versions"),
                         ("POST", "/healthz")]:
        err = await refused(live, method, path, 405, "METHOD_NOT_ALLOWED", json={})
        assert err["message"] == "Method Not Allowed"


async def test_no_request_is_answered_with_a_500(live):
    """A sweep of odd requests on every route: whatever they are, none is answered with a 500."""
    await create_model(live)
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    routes = [
        ("POST", f"{V1}/catalogs"), ("GET", f"{V1}/catalogs"), ("GET", f"{V1}/catalogs/unity"),
        ("PATCH", f"{V1}/catalogs/unity"), ("DELETE", f"{V1}/catalogs/x"), ("POST", f"{V1}/schemas"),
        ("GET", f"{V1}/schemas"), ("GET", f"{V1}/schemas/unity.default"),
        ("PATCH", f"{V1}/schemas/unity.default"), ("DELETE", f"{V1}/schemas/unity.x"),
        ("POST", f"{V1}/models"), ("GET", f"{V1}/models"), ("GET", M), ("PATCH", M),
        ("DELETE", f"{V1}/models/unity.default.x"), ("GET", f"{M}/history"), ("PUT", f"{M}/tags/k"),
        ("DELETE", f"{M}/tags/k"), ("POST", f"{M}/versions"), ("GET", f"{M}/versions"),
        ("GET", f"{M}/versions/1"), ("PATCH", f"{M}/versions/1"), ("DELETE", f"{M}/versions/9"),
        ("POST", f"{M}/versions/1/finalize"), ("PUT", f"{M}/versions/1/tags/k"),
        ("DELETE", f"{M}/versions/1/tags/k"), ("PUT", f"{M}/aliases/a"), ("GET", f"{M}/aliases/champion"),
        ("DELETE", f"{M}/aliases/a"),
    ]
    bodies = ["[", '{"a": "\\u0000"}', '{"a": {"b": [1, 2, {"c": null}]}}', '{"name": {}}',
              '{"version": 1e400}', '{"version": NaN}', '{"source": "s", "tags": {"": ""}}',
              '{"description": "\\ud800"}']
    queries = [{"as_of": "\x00"}, {"page_token": token(10**40)}, {"max_results": "9" * 5000},
               {"force": "2"}, {"as_of": "1", "page_token": token("\x00")}]
    for method, path in routes:
        for kwargs in [{"data": data} for data in bodies] + [{"params": q, "json": {}} for q in queries]:
            status, _, body = await send(live, method, path, **kwargs)
            assert status < 500, (method, path, kwargs, status, body)
            assert status < 400 or body["error_code"], (method, path, kwargs, status, body)
    assert (await register(live))["version"] == 2  # and nothing got stuck


async def test_patch_model_is_all_or_nothing(live):
    """A PATCH with a description and a new name appends both or neither."""
    await create_model(live, description="old")
    await create_model(live, "unity.default.taken")
    for new_name in ("bad name", "unity.default.taken", "unity.nope.iris", 5):
        status = 400 if new_name in ("bad name", 5) else 409 if new_name == "unity.default.taken" else 404
        code = {400: "INVALID_ARGUMENT", 409: "ALREADY_EXISTS", 404: "NOT_FOUND"}[status]
        await refused(live, "PATCH", M, status, code, json={"description": "new", "new_name": new_name})
        assert (await ok(live, "GET", M))["description"] == "old"
    await refused(live, "PATCH", M, 400, "INVALID_ARGUMENT",
                  json={"description": "d" * 65537, "new_name": "unity.default.fine"})
    await refused(live, "GET", f"{V1}/models/unity.default.fine", 404, "NOT_FOUND")
    both = await ok(live, "PATCH", M, json={"description": "new", "new_name": "unity.default.setosa"})
    assert (both["full_name"], both["description"]) == ("unity.default.setosa", "new")
    events = await history(live, f"{V1}/models/unity.default.setosa")
    assert sorted(e["type"] for e in events[1:]) == ["ModelDescriptionUpdated", "ModelRenamed"]
    assert events[-1]["metadata"]["command"] in ("UpdateModelDescription", "RenameModel")


# --- as_of --------------------------------------------------------------------------------------


async def test_as_of_model_description_by_time_and_position(live):
    await create_model(live, description="first")
    await ok(live, "PATCH", M, json={"description": "second"})
    created, updated = await history(live)
    later(created, updated)
    for when in (created["recorded_at"], str(created["position"])):
        then = await ok(live, "GET", M, params={"as_of": when})
        assert then["description"] == "first" and then["updated_at"] == created["recorded_at"]
    for when in (updated["recorded_at"], str(updated["position"]), str(updated["position"] + 100)):
        assert (await ok(live, "GET", M, params={"as_of": when}))["description"] == "second"
    assert (await ok(live, "GET", M))["description"] == "second"
    # The same instant in another offset is the same instant.
    shifted = datetime.fromisoformat(created["recorded_at"]).astimezone(timezone(timedelta(hours=-5)))
    then = await ok(live, "GET", M, params={"as_of": shifted.isoformat()})
    assert then["description"] == "first"
    zulu = created["recorded_at"].replace("+00:00", "Z")
    assert (await ok(live, "GET", M, params={"as_of": zulu}))["description"] == "first"
    # Before the model existed it was not there.
    await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": str(created["position"] - 1)})
    await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": "2000-01-01T00:00:00Z"})
    await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": "0"})


async def test_as_of_version_list_version_and_history(live):
    await create_model(live)
    one = await register(live, description="one")
    await register(live)
    await ok(live, "PATCH", f"{M}/versions/1", json={"description": "uno"})
    events = await history(live)
    assert [e["type"] for e in events] == ["ModelCreated", "VersionRegistered", "VersionRegistered",
                                           "VersionDescriptionUpdated"]
    first = events[1]
    later(*events)
    assert first["recorded_at"] == one["created_at"]
    for when in (first["recorded_at"], str(first["position"])):
        listed = await ok(live, "GET", f"{M}/versions", params={"as_of": when})
        assert [v["version"] for v in listed["model_versions"]] == [1]
        assert (await ok(live, "GET", f"{M}/versions/1", params={"as_of": when}))["description"] == "one"
        await refused(live, "GET", f"{M}/versions/2", 404, "NOT_FOUND", params={"as_of": when})
        assert [e["type"] for e in await history(live, as_of=when)] == ["ModelCreated", "VersionRegistered"]
    for when in (events[0]["recorded_at"], str(events[0]["position"])):
        assert (await ok(live, "GET", f"{M}/versions", params={"as_of": when}))["model_versions"] == []
    paged = await pages(live, f"{M}/versions", "model_versions", 1, as_of=str(events[2]["position"]))
    assert [[v["version"] for v in p] for p in paged] == [[1], [2]]
    now = await ok(live, "GET", f"{M}/versions")
    assert [v["version"] for v in now["model_versions"]] == [1, 2]
    assert now["model_versions"][0]["description"] == "uno"
    # A deleted version is in the past, not in the present.
    await ok(live, "DELETE", f"{M}/versions/2")
    await refused(live, "GET", f"{M}/versions/2", 404, "NOT_FOUND")
    then = await ok(live, "GET", f"{M}/versions/2", params={"as_of": events[2]["recorded_at"]})
    assert then["version"] == 2


async def test_as_of_alias_before_a_move(live):
    await create_model(live)
    await register(live)
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 2})
    *_, set_, moved = await history(live)
    assert (set_["type"], moved["type"]) == ("AliasSet", "AliasSet")
    later(set_, moved)
    for when in (set_["recorded_at"], str(set_["position"])):
        then = await ok(live, "GET", f"{M}/aliases/champion", params={"as_of": when})
        assert then["version"] == 1 and then["aliases"] == ["champion"]
        assert (await ok(live, "GET", M, params={"as_of": when}))["aliases"] == [
            {"alias": "champion", "version": 1}]
    for when in (moved["recorded_at"], str(moved["position"])):
        assert (await ok(live, "GET", f"{M}/aliases/champion", params={"as_of": when}))["version"] == 2
    await refused(live, "GET", f"{M}/aliases/champion", 404, "NOT_FOUND",
                  params={"as_of": str(set_["position"] - 1)})
    assert (await ok(live, "GET", f"{M}/aliases/champion"))["version"] == 2


async def test_as_of_finds_a_renamed_model_by_its_old_name(live):
    await create_model(live, description="d")
    await register(live)
    await ok(live, "PATCH", M, json={"new_name": "unity.default.setosa"})
    new = f"{V1}/models/unity.default.setosa"
    created, registered, renamed = await history(live, new)
    assert renamed["type"] == "ModelRenamed"
    later(created, registered, renamed)
    for when in (registered["recorded_at"], str(registered["position"])):
        then = await ok(live, "GET", M, params={"as_of": when})
        assert then["full_name"] == "unity.default.iris" and then["description"] == "d"
        listed = await ok(live, "GET", f"{M}/versions", params={"as_of": when})
        assert [v["model_name"] for v in listed["model_versions"]] == ["unity.default.iris"]
        await refused(live, "GET", new, 404, "NOT_FOUND", params={"as_of": when})
    for when in (renamed["recorded_at"], str(renamed["position"])):
        await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": when})
        assert (await ok(live, "GET", new, params={"as_of": when}))["full_name"] == "unity.default.setosa"
    await refused(live, "GET", M, 404, "NOT_FOUND")
    # Another model takes the old name: as of then, the old name means the first model still.
    other = await create_model(live)
    first_id = created["stream_id"].removeprefix("model:")
    for when in (registered["recorded_at"], str(registered["position"])):
        assert (await ok(live, "GET", M, params={"as_of": when}))["id"] == first_id
    assert (await ok(live, "GET", M))["id"] == other["id"] != first_id


async def test_as_of_finds_a_deleted_model(live):
    await create_model(live, description="gone soon")
    await register(live)
    await ok(live, "PUT", f"{M}/aliases/champion", json={"version": 1})
    before = await history(live)
    await ok(live, "DELETE", M, params={"force": "true"})
    await refused(live, "GET", M, 404, "NOT_FOUND")
    await refused(live, "GET", f"{M}/history", 404, "NOT_FOUND")
    last = before[-1]
    for when in (last["recorded_at"], str(last["position"])):
        then = await ok(live, "GET", M, params={"as_of": when})
        assert then["description"] == "gone soon"
        assert (await ok(live, "GET", f"{M}/aliases/champion", params={"as_of": when}))["version"] == 1
        assert [e["position"] for e in await history(live, as_of=when)] == [e["position"] for e in before]
    deleted = await live.pool.fetchrow("SELECT type, recorded_at FROM events WHERE position = $1",
                                       last["position"] + 1)
    assert deleted["type"] == "ModelDeleted"
    deleted_at = deleted["recorded_at"].isoformat()
    later(last, {"recorded_at": deleted_at})
    for when in (deleted_at, str(last["position"] + 1)):
        await refused(live, "GET", M, 404, "NOT_FOUND", params={"as_of": when})


# --- read-your-writes ---------------------------------------------------------------------------


async def test_read_your_writes(live):
    """Each write's response already shows the change, and so does the very next read."""
    async def check(method: str, path: str, body: Any, read: str, pick, want, status: int = 200):
        written = await ok(live, method, path, status, json=body)
        assert pick(written) == want, (method, path, written)
        assert pick(await ok(live, "GET", read)) == want, (method, path, read)

    cat = f"{V1}/catalogs/unity"
    await check("POST", f"{V1}/catalogs", {"name": "c", "comment": "x"}, f"{V1}/catalogs/c",
                lambda b: b["comment"], "x", 201)
    await check("PATCH", cat, {"comment": "one"}, cat, lambda b: b["comment"], "one")
    await check("POST", f"{V1}/schemas", {"catalog_name": "c", "name": "s"}, f"{V1}/schemas/c.s",
                lambda b: b["full_name"], "c.s", 201)
    await check("PATCH", f"{V1}/schemas/c.s", {"comment": "two"}, f"{V1}/schemas/c.s",
                lambda b: b["comment"], "two")
    await check("POST", f"{V1}/models", {"name": "unity.default.iris", "description": "a"}, M,
                lambda b: b["description"], "a", 201)
    for n in range(1, 4):
        await check("PATCH", M, {"description": f"d{n}"}, M, lambda b: b["description"], f"d{n}")
        await check("PUT", f"{M}/tags/k", {"value": f"v{n}"}, M, lambda b: b["tags"]["k"], f"v{n}")
        await check("POST", f"{M}/versions", {"source": "s"}, f"{M}/versions/{n}", lambda b: b["version"],
                    n, 201)
        await check("PATCH", f"{M}/versions/{n}", {"description": "x"}, f"{M}/versions/{n}",
                    lambda b: b["description"], "x")
        await check("PUT", f"{M}/versions/{n}/tags/t", {"value": "y"}, f"{M}/versions/{n}",
                    lambda b: b["tags"], {"t": "y"})
        await check("POST", f"{M}/versions/{n}/finalize", {}, f"{M}/versions/{n}", lambda b: b["status"],
                    "READY")
        await check("PUT", f"{M}/aliases/champion", {"version": n}, f"{M}/aliases/champion",
                    lambda b: b["version"], n)
        versions = (await ok(live, "GET", f"{M}/versions"))["model_versions"]
        assert [v["version"] for v in versions] == list(range(1, n + 1))
    await check("DELETE", f"{M}/tags/k", None, M, lambda b: b["tags"], {})
    await check("DELETE", f"{M}/versions/3/tags/t", None, f"{M}/versions/3", lambda b: b["tags"], {})
    new = f"{V1}/models/unity.default.setosa"
    await check("PATCH", M, {"new_name": "unity.default.setosa"}, new, lambda b: b["full_name"],
                "unity.default.setosa")
    await ok(live, "DELETE", f"{new}/aliases/champion")
    await refused(live, "GET", f"{new}/aliases/champion", 404, "NOT_FOUND")
    await ok(live, "DELETE", f"{new}/versions/3")
    await refused(live, "GET", f"{new}/versions/3", 404, "NOT_FOUND")


# --- concurrency --------------------------------------------------------------------------------


async def test_concurrent_registrations_number_versions_gap_free(live):
    await create_model(live)
    before = await head(live)

    async def one(i: int) -> tuple[int, Any]:
        return await live.call("POST", f"{M}/versions", json={"source": f"s3://b/{i}", "run_id": str(i)})

    results = await asyncio.gather(*(one(i) for i in range(32)))
    assert [status for status, _ in results] == [201] * 32, results
    assert sorted(body["version"] for _, body in results) == list(range(1, 33))
    # Each response is its own version: the run it was registered with.
    by_version = {body["version"]: body["run_id"] for _, body in results}
    listed = (await ok(live, "GET", f"{M}/versions", params={"max_results": "100"}))["model_versions"]
    assert [v["version"] for v in listed] == list(range(1, 33))
    assert {v["version"]: v["run_id"] for v in listed} == by_version
    assert await head(live) == before + 32
    events = await history(live)
    assert [e["stream_version"] for e in events] == list(range(1, 34))
    assert (await register(live))["version"] == 33


async def test_concurrent_mixed_writes_keep_their_own_outcomes(live):
    """Good and bad writes in one batch: the bad ones fail alone and append nothing."""
    await create_model(live)
    calls = []
    for i in range(12):
        calls.append(live.call("POST", f"{M}/versions", json={"source": f"s{i}"}))
        calls.append(live.call("PATCH", f"{V1}/catalogs/unity", data='{"comment": "\\u0000"}'))
        calls.append(live.call("POST", f"{V1}/models", json={"name": "unity.default.iris"}))
    results = await asyncio.gather(*calls)
    statuses = [status for status, _ in results]
    assert statuses == [201, 400, 409] * 12, statuses
    listed = (await ok(live, "GET", f"{M}/versions"))["model_versions"]
    assert [v["version"] for v in listed] == list(range(1, 13))


# --- request ids --------------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(live):
    seen = set()
    for method, path, kwargs in [
        ("GET", "/healthz", {}), ("GET", "/readyz", {}), ("GET", f"{V1}/catalogs", {}),
        ("POST", f"{V1}/models", {"json": {"name": "unity.default.iris"}}),
        ("GET", f"{V1}/catalogs/nope", {}), ("POST", f"{V1}/catalogs", {"data": "{"}),
        ("GET", f"{V1}/nope", {}), ("PUT", f"{V1}/catalogs", {}),
        ("POST", f"{V1}/catalogs", {"data": b"x" * ((1 << 20) + 1)}),
        ("GET", M, {"params": {"as_of": "garbage"}}),
    ]:
        async with live.http.request(method, path, **kwargs) as r:
            rid = r.headers.get("X-Request-Id")
            assert rid, (method, path, r.status)
            seen.add(rid)
            if r.status >= 400:
                assert (await r.json())["request_id"] == rid
    assert len(seen) == 10  # a fresh one each time

    for method, path, kwargs in [("GET", f"{V1}/catalogs/unity", {}), ("GET", f"{V1}/nope", {}),
                                 ("PUT", f"{V1}/catalogs", {}), ("POST", f"{V1}/catalogs", {"data": "["})]:
        async with live.http.request(method, path, headers={"X-Request-Id": "abc"}, **kwargs) as r:
            assert r.headers["X-Request-Id"] == "abc", (method, path)
            if r.status >= 400:
                assert (await r.json())["request_id"] == "abc"

    # The id is recorded with the events the request appended.
    async with live.http.post(f"{M}/versions", json={"source": "s"},
                              headers={"X-Request-Id": "abc", "User-Agent": "tests/1"}) as r:
        assert r.status == 201 and r.headers["X-Request-Id"] == "abc"
    meta = (await history(live))[-1]["metadata"]
    assert meta["request_id"] == "abc" and meta["client"] == "tests/1"
    assert meta["command"] == "RegisterVersion" and meta["actor"] == "admin"
