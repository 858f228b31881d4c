"""Issue 6's attacks on who may reach what, over real HTTP on every surface (the scene is
tests/support/attackers.py): a stranger against another principal's model, directly and through a
renamed path or a point in the past; forged trusted headers; revoked and expired tokens;
non-admins on admin routes; token storage. Hostile input is test_attacks_input.py; the token
comparison, read from the code, is tests/unit/test_attacks.py.
"""

import hashlib
from datetime import timedelta

import pytest
import structlog

from registry.http.keys import AUTH, POOL
from tests.support.attackers import (
    ML,
    SECRET,
    UC,
    V1,
    World,
    assert_error,
    mlflow_name,
    model_reads,
    model_writes,
    one_read_each,
)
from tests.support.server import may_create_models, serving

RENAMED = "unity.default.renamed"
LOG_WIDE = [f"{V1}/audit/events", f"{V1}/audit/denied", f"{V1}/webhooks", f"{V1}/tokens"]


async def test_a_stranger_reaches_nothing_of_another_principals_model(world: World) -> None:
    w = world
    before = await w.log_size()
    for path in model_reads(SECRET):
        assert (await w.call("reader", "GET", path))[0] == 200, path
        status, body = await w.call("mallory", "GET", path)
        assert_error(path, status, body, 403)
        assert w.model_id not in str(body) and "s3://alice" not in str(body)
    for method, path, body in model_writes(SECRET):
        for who in ("mallory", "reader"):
            if who == "reader" and ("transition-requests" in path or "credentials" in path):
                continue  # what a reader may do: ask for a transition, read the files
            status, err = await w.call(who, method, path, json=body)
            assert_error(path, status, err, 403)
    assert await w.log_size() == before
    # Nor through a listing, a search, or the log-wide routes.
    listings = [f"{V1}/models?catalog_name=unity", f"{UC}/models?catalog_name=unity&schema_name=default",
                f"{ML}/registered-models/search", f"{ML}/model-versions/search",
                f"{ML}/registered-models/search?filter=name%20LIKE%20%27%25%27",
                f"{ML}/registered-models/search?filter=tag.team%20%3D%20%27a%27"]
    for path in listings:
        status, body = await w.call("mallory", "GET", path)
        assert status == 200 and "secret" not in str(body), (path, body)
        assert "secret" in str((await w.call("reader", "GET", path))[1]), path
    for path in LOG_WIDE:
        status, body = await w.call("mallory", "GET", path)
        assert_error(path, status, body, 403)
        assert (await w.call("admin", "GET", path))[0] == 200, path
    async with w.http.get(w.server.url + f"{V1}/events",
                          headers={"Authorization": f"Bearer {w.tokens['mallory']}"}) as r:
        assert r.status == 403 and (await r.json())["error_code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("how", ["native", "uc", "mlflow"])
async def test_grants_follow_a_renamed_model_and_never_pass_to_its_old_name(
        world: World, how: str) -> None:
    """Unity Catalog's rule: grants belong to the object. The reader keeps reading it under its
    new name, the stranger gets nowhere under either name, and a model created at the old name
    starts with no grants: nobody reaches alice's model, its alias or its past through it."""
    w = world
    for path in model_reads(SECRET):  # into the read cache, under the old name
        assert (await w.call("reader", "GET", path))[0] == 200
    position = (await w.call("admin", "GET", f"{V1}/audit/verify"))[1]["head_position"]
    rename = {"native": ("PATCH", f"{V1}/models/{SECRET}", {"new_name": RENAMED}),
              "uc": ("PATCH", f"{UC}/models/{SECRET}", {"new_name": "renamed"}),
              "mlflow": ("POST", f"{ML}/registered-models/rename",
                         {"name": mlflow_name(SECRET), "new_name": mlflow_name(RENAMED)})}[how]
    status, body = await w.call("alice", rename[0], rename[1], json=rename[2])
    assert status == 200, body

    for path in model_reads(RENAMED):
        assert (await w.call("reader", "GET", path))[0] == 200, path
        status, body = await w.call("mallory", "GET", path)
        assert_error(path, status, body, 403)
    for who in ("alice", "reader", "mallory"):
        for path in model_reads(SECRET):
            status, body = await w.call(who, "GET", path)
            assert_error(path, status, body, 404)

    # mallory takes the old name: hers, with no grants, no alias, none of alice's versions.
    status, taken = await w.call("mallory", "POST", f"{V1}/models", json={"name": SECRET})
    assert status == 201 and taken["id"] != w.model_id and taken["owner"] == "mallory"
    status, grants = await w.call("mallory", "GET", f"{UC}/permissions/registered_model/{SECRET}")
    assert status == 200 and grants == {"privilege_assignments": []}
    for path in model_reads(SECRET):
        status, body = await w.call("reader", "GET", path)
        assert_error(path, status, body, 403)
        status, body = await w.call("mallory", "GET", path)
        assert w.model_id not in str(body) and "s3://alice" not in str(body), (path, body)
        if "/mlflow/" in path and "alias=" in path:  # MLflow's server: a 400 for no such alias
            assert_error(path, status, body, 400)
        elif ("champion" in path and "history" not in path) or "versions/1" in path \
                or "version=1" in path:
            assert_error(path, status, body, 404)

    # The past under the old name is alice's object: checked as that object, wherever it is now.
    for path in (f"{V1}/models/{SECRET}?as_of={position}",
                 f"{V1}/models/{SECRET}/versions/1?as_of={position}",
                 f"{V1}/models/{SECRET}/aliases/champion?as_of={position}",
                 f"{V1}/models/{SECRET}/timeline?as_of={position}",
                 f"{V1}/models/{SECRET}/aliases/champion/history?at={position}"):
        status, body = await w.call("mallory", "GET", path)
        assert_error(path, status, body, 403)
        status, body = await w.call("reader", "GET", path)
        assert status == 200, (path, body)
    status, body = await w.call("reader", "GET", f"{V1}/models/{SECRET}?as_of={position}")
    assert body["id"] == w.model_id and body["aliases"] == [{"alias": "champion", "version": 1}]
    listing = f"{V1}/models?catalog_name=unity&as_of={position}"
    assert w.model_id not in str((await w.call("mallory", "GET", listing))[1])
    assert w.model_id in str((await w.call("reader", "GET", listing))[1])


async def test_a_deleted_models_past_is_for_admins(world: World) -> None:
    w = world
    position = (await w.call("admin", "GET", f"{V1}/audit/verify"))[1]["head_position"]
    assert (await w.call("alice", "DELETE", f"{V1}/models/{SECRET}?force=true"))[0] == 200
    await w.call("mallory", "POST", f"{V1}/models", json={"name": SECRET})
    for path in (f"{V1}/models/{SECRET}?as_of={position}",
                 f"{V1}/models/{SECRET}/aliases/champion/history?at={position}",
                 f"{V1}/models/{SECRET}/versions?as_of={position}"):
        for who in ("mallory", "reader"):
            status, body = await w.call(who, "GET", path)
            assert_error(path, status, body, 403)
        status, body = await w.call("admin", "GET", path)
        assert status == 200 and "alice" in str(body), (path, body)


async def test_a_forged_trusted_header_changes_no_one(world: World, db_url: str, tmp_path) -> None:
    w = world
    forged = {"X-Forwarded-User": "admin", "X-Remote-User": "admin", "X-Forwarded-Email": "admin"}
    for path in one_read_each(SECRET):
        status, body = await w.call(None, "GET", path, headers=forged)
        assert_error(path, status, body, 401)
        status, body = await w.call("mallory", "GET", path, headers=forged)
        assert_error(path, status, body, 403)
    status, body = await w.call("mallory", "GET", f"{V1}/tokens", headers=forged)
    assert_error(f"{V1}/tokens", status, body, 403)
    await w.server.runner.cleanup()

    # Trusted-header mode naming another header: only that one counts, and only once.
    async with serving(db_url, tmp_path, auth="trusted-header", trusted_header="X-Remote-User",
                       auth_cache_seconds=0) as server:
        w.server = server
        as_mallory = {"X-Remote-User": "mallory", "X-Forwarded-User": "admin"}
        status, body = await w.call(None, "GET", f"{V1}/tokens", headers=as_mallory)
        assert_error(f"{V1}/tokens", status, body, 403)
        for path in one_read_each(SECRET):
            status, body = await w.call(None, "GET", path, headers={"X-Forwarded-User": "admin"})
            assert_error(path, status, body, 401)
            status, body = await w.call(None, "GET", path, headers=as_mallory)
            assert_error(path, status, body, 403)
            status, body = await w.call(None, "GET", path, headers={"X-Remote-User": "reader"})
            assert status == 200, (path, body)
        # A proxy that appends its header after the client's: the request is refused, never
        # taken as the first (the client's) name.
        twice = [("X-Remote-User", "admin"), ("X-Remote-User", "mallory")]
        async with w.http.get(server.url + f"{V1}/tokens", headers=twice) as r:
            assert r.status == 401 and (await r.json())["error_code"] == "UNAUTHENTICATED"
        for bad in ("", "ad\tmin", "x" * 300):
            status, body = await w.call(None, "GET", f"{V1}/tokens", headers={"X-Remote-User": bad})
            assert_error(f"{V1}/tokens", status, body, 401)
        await server.runner.cleanup()

    # No authentication: everyone is the local admin, whatever a header claims.
    async with serving(db_url, tmp_path) as server:
        w.server = server
        await may_create_models(server, "mallory")
        status, _ = await w.call(None, "POST", f"{V1}/models", json={"name": "unity.default.m"},
                                 headers={"X-Forwarded-User": "mallory"})
        assert status == 201
        actor = await server.app[POOL].fetchval(
            "SELECT metadata->>'actor' FROM events WHERE type = 'ModelCreated' "
            "ORDER BY position DESC LIMIT 1")
        assert actor == "admin"


async def test_revoked_and_expired_tokens_are_refused_on_every_surface(world: World) -> None:
    w = world
    expired, _ = await w.server.app[AUTH].issue("alice", actor="admin",
                                                expires_in=timedelta(seconds=-1))
    w.tokens["expired"] = str(expired)
    status, listed = await w.call("admin", "GET", f"{V1}/tokens")
    alice_id = next(t["id"] for t in listed["tokens"] if t["principal"] == "alice" and not t["expires_at"])
    assert (await w.call("alice", "GET", one_read_each(SECRET)[0]))[0] == 200
    assert (await w.call("admin", "DELETE", f"{V1}/tokens/{alice_id}"))[0] == 200
    before = await w.log_size()
    for who in ("alice", "expired"):
        for path in model_reads(SECRET):
            status, body = await w.call(who, "GET", path)
            assert_error(path, status, body, 401)
            assert body["error_code"] == "UNAUTHENTICATED"
        for method, path, body in model_writes(SECRET)[::3]:
            status, err, headers = await w.exchange(who, method, path, json=body)
            assert_error(path, status, err, 401)
            assert headers["WWW-Authenticate"].startswith("Bearer")
    assert await w.log_size() == before


async def test_non_admins_are_refused_admin_routes(world: World) -> None:
    w = world
    status, listed = await w.call("admin", "GET", f"{V1}/tokens")
    admin_id = next(t["id"] for t in listed["tokens"] if t["principal"] == "admin")
    before = await w.log_size()
    refused = [
        ("GET", f"{V1}/tokens", None), ("POST", f"{V1}/tokens", {"principal": "mallory", "admin": True}),
        ("POST", f"{V1}/tokens", {"principal": "evil"}), ("DELETE", f"{V1}/tokens/{admin_id}", None),
        ("POST", f"{V1}/catalogs", {"name": "evil"}), ("POST", f"{UC}/catalogs", {"name": "evil"}),
        ("PATCH", f"{UC}/permissions/catalog/unity",
         {"changes": [{"principal": "mallory", "add": ["ALL PRIVILEGES"]}]}),
        ("PATCH", f"{V1}/permissions/schema/unity.default",
         {"changes": [{"principal": "mallory", "add": ["MANAGE"]}]}),
        ("PUT", f"{V1}/owner/catalog/unity", {"owner": "mallory"}),
        ("POST", f"{V1}/webhooks", {"url": "http://127.0.0.1:9/", "events": ["MODEL_VERSION_CREATED"],
                                    "secret": "s"}),
    ]
    for who in ("mallory", "alice", "reader"):
        for method, path, body in refused:
            status, err = await w.call(who, method, path, json=body)
            assert_error(path, status, err, 403)
    assert await w.log_size() == before
    _, mine = await w.call("admin", "GET", f"{V1}/tokens")
    assert [t["admin"] for t in mine["tokens"] if t["principal"] == "mallory"] == [False]


# --------------------------------------------------------------------------- tokens


async def test_a_near_miss_token_is_refused_and_no_token_is_kept_or_logged(world: World) -> None:
    w = world
    alice = w.tokens["alice"]
    last = "A" if alice[-1] != "A" else "B"
    near = {"last": alice[:-1] + last, "id": alice[:4] + ("0" if alice[4] != "0" else "1") + alice[5:],
            "case": alice[:21] + alice[21:].swapcase(), "extra": alice + "A", "short": alice[:-1]}
    with structlog.testing.capture_logs() as logs:
        for name, token in near.items():
            for path in one_read_each(SECRET):
                status, body = await w.call(token, "GET", path)
                assert_error(path, status, body, 401)
                assert token not in str(body) and token[21:] not in str(body), name
        assert (await w.call("alice", "GET", one_read_each(SECRET)[0]))[0] == 200
    logged = repr(logs)
    assert "request" in logged
    for token in (alice, *near.values()):
        assert token[21:] not in logged and token[21:-1] not in logged
    # Stored: the secret's digest, never the token nor the secret.
    rows = await w.server.app[POOL].fetch("SELECT * FROM auth_tokens")
    assert len(rows) == 4
    dumped = " ".join(str(dict(r)) for r in rows)
    for token in w.tokens.values():
        assert token[21:] not in dumped
    row = next(r for r in rows if r["id"] == alice[4:20])
    assert bytes(row["secret_hash"]) == hashlib.sha256(alice[21:].encode()).digest()
    assert alice[21:] not in str(await w.server.app[POOL].fetchval(
        "SELECT string_agg(data::text || metadata::text, ' ') FROM events"))

