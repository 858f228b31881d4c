"""The permissions API over real HTTP with tokens: Unity Catalog's GET/PATCH /permissions and
effective-permissions, the native twins and ownership transfer; grants are events, survive a
restart and count from the next request."""

import asyncio
from datetime import UTC, datetime

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from registry.audit import report as compliance_report
from registry.http.keys import AUTH, SERVICE
from tests.support.server import TEAM_MODEL as MODEL  # alice's, in the `team` fixture
from tests.support.server import UC, V1, actors, call, patch, serving, use_parents


async def test_owner_grants_and_the_grantee_reads(team) -> None:
    server, t = team
    path = f"{UC}/permissions/registered_model/{MODEL}"
    status, body, _ = await call(server, "PATCH", path, t["alice"], json=patch("bob", ["EXECUTE"]))
    assert status == 200
    assert body == {"privilege_assignments": [{"principal": "bob", "privileges": ["EXECUTE"]}]}
    # bob may not grant, nor (without USE on the parents) see the grants.
    status, err, _ = await call(server, "PATCH", path, t["bob"], json=patch("bob", ["MANAGE"]))
    assert status == 403 and err["error_code"] == "PERMISSION_DENIED" and err["details"]
    assert (await call(server, "GET", path, t["bob"]))[0] == 403
    await use_parents(server, t["admin"], "bob")
    status, body, _ = await call(server, "GET", path + "?principal=bob", t["bob"])
    assert status == 200 and body["privilege_assignments"] == [
        {"principal": "bob", "privileges": ["EXECUTE"]}]
    status, body, _ = await call(server, "GET", f"{UC}/effective-permissions/schema/unity.default"
                                 "?principal=bob", t["bob"])
    assert body == {"privilege_assignments": [{"principal": "bob", "privileges": [
        {"privilege": "USE SCHEMA"}]}]}
    _, body, _ = await call(server, "GET", f"{V1}/effective-permissions/registered_model/{MODEL}",
                            t["admin"])
    assert {a["principal"] for a in body["privilege_assignments"]} == {"admin", "alice", "bob"}
    # Revoked: the next request sees it.
    status, body, _ = await call(server, "PATCH", path, t["alice"], json=patch("bob", remove=["EXECUTE"]))
    assert status == 200 and body == {"privilege_assignments": []}
    assert (await call(server, "GET", path, t["bob"]))[0] == 403
    assert await actors(server, "model:") == [
        ("ModelCreated", "alice"), ("PrivilegesChanged", "alice"), ("PrivilegesChanged", "alice")]


async def test_grants_and_owners_survive_a_restart(team, db_url: str, tmp_path) -> None:
    server, t = team
    await use_parents(server, t["admin"], "bob")
    await call(server, "PATCH", f"{V1}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", ["MANAGE"]))
    status, body, _ = await call(server, "PUT", f"{V1}/owner/registered_model/{MODEL}", t["bob"],
                                 json={"owner": "carol"})
    assert status == 200 and body["owner"] == "carol"
    await server.runner.cleanup()
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as again:
        path = f"{V1}/permissions/registered_model/{MODEL}"
        status, body, _ = await call(again, "GET", path, t["admin"])
        assert body == {"privilege_assignments": [{"principal": "bob", "privileges": ["MANAGE"]}]}
        # alice is no longer the owner, and holds nothing.
        assert (await call(again, "PATCH", path, t["alice"], json=patch("alice", ["EXECUTE"])))[0] == 403
        _, model, _ = await call(again, "GET", f"{V1}/models/{MODEL}", t["admin"])
        assert model["owner"] == "carol"


@pytest.mark.parametrize(("path", "body", "status"), [
    ("registered_model/unity.default.scorer", patch("bob", ["USE CATALOG"]), 400),
    ("registered_model/unity.default.scorer", patch("bob", ["EXECUTE'; DROP TABLE grants; --"]), 400),
    ("registered_model/unity.default.scorer", patch("", ["EXECUTE"]), 400),
    ("registered_model/unity.default.scorer", {"changes": "EXECUTE"}, 400),
    ("table/unity.default.scorer", patch("bob", ["EXECUTE"]), 400),
    ("registered_model/unity.default.other", patch("bob", ["EXECUTE"]), 404),
    ("registered_model/unity.default", patch("bob", ["EXECUTE"]), 404),
    ("schema/unity.default.scorer", patch("bob", ["EXECUTE"]), 404),
    ("registered_model/unity..scorer", patch("bob", ["EXECUTE"]), 404),
    ("registered_model/unity.default.scorer%27%20OR%201=1", patch("bob", ["EXECUTE"]), 404),
    ("registered_model/..%2F..%2Funity.default.scorer", patch("bob", ["EXECUTE"]), 404),
])
async def test_bad_changes_and_names(team, path: str, body: dict, status: int) -> None:
    server, t = team
    for prefix in (UC, V1):
        got, err, _ = await call(server, "PATCH", f"{prefix}/permissions/{path}", t["admin"], json=body)
        assert got == status, err
    _, grants, _ = await call(server, "GET", f"{V1}/permissions/registered_model/{MODEL}", t["admin"])
    assert grants == {"privilege_assignments": []}


async def test_without_auth_the_local_admin_may_grant(db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path) as server:
        status, body, _ = await call(server, "PATCH", f"{UC}/permissions/catalog/unity",
                                     json=patch("bob", ["use_catalog"]))
        assert status == 200
        assert body == {"privilege_assignments": [{"principal": "bob", "privileges": ["USE CATALOG"]}]}


async def test_a_reader_may_not_write_on_any_surface(team, monkeypatch: pytest.MonkeyPatch) -> None:
    """bob holds EXECUTE and USE: every write on alice's model is a 403 in the surface's format,
    until alice grants MANAGE, which counts from the next request."""
    server, t = team
    await use_parents(server, t["admin"], "bob")
    await call(server, "PATCH", f"{V1}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", ["EXECUTE"]))
    status, _, _ = await call(server, "POST", f"{V1}/models/{MODEL}/versions", t["alice"],
                              json={"source": "s3://b/1"})
    assert status == 201
    writes = [
        ("POST", f"{V1}/models/{MODEL}/versions", {"source": "s3://b/2"}),
        ("PUT", f"{V1}/models/{MODEL}/aliases/champion", {"version": 1}),
        ("DELETE", f"{V1}/models/{MODEL}", None),
        ("PUT", f"{V1}/models/{MODEL}/tags/k", {"value": "v"}),
        ("POST", f"{UC}/models/versions", {"catalog_name": "unity", "schema_name": "default",
                                           "model_name": "scorer", "source": "s3://b/2"}),
        ("PUT", f"{UC}/models/{MODEL}/aliases/champion", {"version_num": 1}),
        ("POST", f"{V1}/models", {"name": "unity.default.mine"}),  # no CREATE MODEL
        ("POST", f"{V1}/catalogs", {"name": "mine"}),  # admins only
    ]
    for method, path, body in writes:
        status, err, _ = await call(server, method, path, t["bob"], json=body)
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED", (path, status, err)

    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", t["bob"])
    for attempt in (lambda: client.create_model_version("scorer", "s3://b/3"),
                    lambda: client.set_registered_model_alias("scorer", "champion", "1")):
        with pytest.raises(MlflowException) as info:
            await asyncio.to_thread(attempt)
        assert info.value.error_code == "PERMISSION_DENIED" and info.value.get_http_status_code() == 403

    await call(server, "PATCH", f"{UC}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", ["MANAGE"]))
    await asyncio.to_thread(client.set_registered_model_alias, "scorer", "champion", "1")
    await call(server, "PATCH", f"{UC}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", remove=["MANAGE"]))
    with pytest.raises(MlflowException):
        await asyncio.to_thread(client.delete_registered_model_alias, "scorer", "champion")
    assert [a for _, a in await actors(server, "model:")].count("bob") == 1  # the one alias


async def test_reading_a_model_needs_execute_and_use(team) -> None:
    server, t = team
    reads = [f"{V1}/models/{MODEL}", f"{V1}/models/{MODEL}/versions", f"{UC}/models/{MODEL}",
             "/api/2.0/mlflow/registered-models/get?name=scorer",
             "/api/2.0/mlflow/registered-models/alias?name=scorer&alias=champion"]
    for path in reads:
        status, err, _ = await call(server, "GET", path, t["bob"])
        assert status == 403 and err["error_code"] == "PERMISSION_DENIED", path
    await use_parents(server, t["admin"], "bob")
    await call(server, "PATCH", f"{V1}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", ["EXECUTE"]))
    for path in reads[:-1]:
        assert (await call(server, "GET", path, t["bob"]))[0] == 200, path
    # No such alias, now visible: a 400 on MLflow's surface, as MLflow's server answers.
    assert (await call(server, "GET", reads[-1], t["bob"]))[0] == 400
    # Revoking USE SCHEMA on the schema takes it away again.
    await call(server, "PATCH", f"{UC}/permissions/schema/unity.default", t["admin"],
               json=patch("bob", remove=["USE SCHEMA"]))
    assert (await call(server, "GET", reads[0], t["bob"]))[0] == 403


async def test_denied_attempts_are_kept_outside_the_log(team) -> None:
    server, t = team
    events = await server.app[AUTH].pool.fetchval("SELECT count(*) FROM events")
    status, _, headers = await call(server, "PUT", f"{V1}/models/{MODEL}/aliases/champion", t["bob"],
                                      json={"version": 1})
    assert status == 403
    assert (await call(server, "GET", "/api/2.0/mlflow/registered-models/get?name=scorer",
                       t["bob"]))[0] == 403
    assert await server.app[AUTH].pool.fetchval("SELECT count(*) FROM events") == events
    assert (await call(server, "GET", f"{V1}/audit/denied", t["bob"]))[0] == 403  # admins only
    status, body, _ = await call(server, "GET", f"{V1}/audit/denied?principal=bob", t["admin"])
    assert status == 200
    first, second = body["denied_attempts"]
    assert (first["principal"], first["action"], first["securable_type"], first["full_name"],
            first["request_id"], first["method"]) == (
        "bob", "modify", "registered_model", MODEL, headers["X-Request-Id"], "PUT")
    assert first["route"] == f"{V1}/models/{{full_name}}/aliases/{{alias}}" and first["at"]
    assert second["action"] == "read"
    _, none, _ = await call(server, "GET", f"{V1}/audit/denied?principal=alice", t["admin"])
    assert none == {"denied_attempts": []}
    # And in the compliance report of the model's window.
    pool = server.app[AUTH].pool
    w = await compliance_report.window(pool, None, None, "unity.default", datetime.now(UTC))
    report = await compliance_report.build(pool, w)
    assert [(d.principal, d.action, d.full_name, d.request_id) for d in report.denied_attempts] == [
        ("bob", "modify", MODEL, headers["X-Request-Id"]), ("bob", "read", MODEL, second["request_id"])]
    w = await compliance_report.window(pool, None, None, "prod", datetime.now(UTC))
    assert (await compliance_report.build(pool, w)).denied_attempts == ()


async def test_listings_show_only_what_the_caller_may_read(team) -> None:
    server, t = team
    for name in ("unity.default.aaa_secret", "unity.default.zzz_secret"):
        assert (await call(server, "POST", f"{V1}/models", t["admin"], json={"name": name}))[0] == 201
        await call(server, "POST", f"{V1}/models/{name}/versions", t["admin"], json={"source": "s3://x"})
    await call(server, "POST", f"{V1}/models/{MODEL}/versions", t["alice"], json={"source": "s3://y"})
    await use_parents(server, t["admin"], "bob")
    await call(server, "PATCH", f"{V1}/permissions/registered_model/{MODEL}", t["alice"],
               json=patch("bob", ["EXECUTE"]))
    lists = {
        f"{V1}/models?catalog_name=unity": "registered_models",
        f"{UC}/models?catalog_name=unity&schema_name=default": "registered_models",
        "/api/2.0/mlflow/registered-models/search": "registered_models",
        "/api/2.0/mlflow/model-versions/search?filter=name%20LIKE%20%27%25%27%20OR%201%3D1": None,
        "/api/2.0/mlflow/model-versions/search": "model_versions",
    }
    for path, field in lists.items():
        status, body, _ = await call(server, "GET", path, t["bob"])
        if field is None:  # SQL in a filter is a bad filter, not a way around the check
            assert status == 400, body
            continue
        assert status == 200, body
        names = {m.get("full_name") or m["name"] for m in body[field]}
        assert names == {MODEL} or names == {"scorer"}, (path, names)
        _, everything, _ = await call(server, "GET", path, t["admin"])
        assert len(everything[field]) == 3
    # Paging goes on past what is hidden: one model a page, bob still reaches his.
    seen, token = [], None
    for _ in range(4):
        query = "catalog_name=unity&max_results=1" + (f"&page_token={token}" if token else "")
        _, body, _ = await call(server, "GET", f"{V1}/models?{query}", t["bob"])
        seen += [m["full_name"] for m in body["registered_models"]]
        token = body.get("next_page_token")
        if token is None:
            break
    assert seen == [MODEL]


async def test_a_write_model_being_reloaded_is_never_trusted(team) -> None:
    """Between a reset of the writer's model and its reload no object would be seen: checks answer
    503 meanwhile rather than let a request through, and the reload follows at once, with no
    write to bring it about."""
    server, t = team
    service = server.app[SERVICE]
    service.write_model.reset()  # caught mid-reset
    status, err, _ = await call(server, "GET", f"{V1}/models/{MODEL}", t["alice"])
    assert status == 503 and err["error_code"] == "UNAVAILABLE"
    service.store.writer._forget()  # as after a failed batch
    for _ in range(100):
        if service.write_model.loaded:
            break
        assert (await call(server, "GET", f"{V1}/models/{MODEL}", t["bob"]))[0] in (403, 503)
        await asyncio.sleep(0.05)
    assert service.write_model.loaded
    assert (await call(server, "GET", f"{V1}/models/{MODEL}", t["alice"]))[0] == 200
    assert (await call(server, "GET", f"{V1}/models/{MODEL}", t["bob"]))[0] == 403


async def test_create_catalog_is_granted_on_the_metastore(team) -> None:
    server, tokens = team
    path = f"{UC}/permissions/metastore/metastore"
    # Without CREATE CATALOG, bob cannot create a catalog, nor grant himself the right.
    status, body, _ = await call(server, "POST", f"{UC}/catalogs", tokens["bob"], json={"name": "bobs"})
    assert (status, body["error_code"]) == (403, "PERMISSION_DENIED")
    status, _, _ = await call(server, "PATCH", path, tokens["bob"],
                              json=patch("bob", ["CREATE CATALOG"]))
    assert status == 403
    status, body, _ = await call(server, "PATCH", path, tokens["admin"],
                                 json=patch("bob", ["CREATE CATALOG"]))
    assert status == 200 and body["privilege_assignments"] == [
        {"principal": "bob", "privileges": ["CREATE CATALOG"]}]
    # Now he may, and he owns what he creates (and so uses it), as in Unity Catalog.
    status, catalog, _ = await call(server, "POST", f"{UC}/catalogs", tokens["bob"],
                                    json={"name": "bobs"})
    assert status == 200 and catalog["owner"] == "bob"
    status, _, _ = await call(server, "POST", f"{UC}/schemas", tokens["bob"],
                                   json={"catalog_name": "bobs", "name": "s"})
    assert status == 200
    # CREATE CATALOG is the metastore's: it cannot be granted on a catalog, nor inherited there.
    status, body, _ = await call(server, "PATCH", f"{UC}/permissions/catalog/bobs", tokens["bob"],
                                 json=patch("alice", ["CREATE CATALOG"]))
    assert (status, body["error_code"]) == (400, "INVALID_ARGUMENT")
    # Bob sees his own grant on the metastore; alice, who holds none there, sees nothing.
    status, body, _ = await call(server, "GET", path, tokens["bob"])
    assert status == 200 and body["privilege_assignments"][0]["principal"] == "bob"
    status, _, _ = await call(server, "GET", path, tokens["alice"])
    assert status == 403
    status, body, _ = await call(server, "GET", f"{V1}/effective-permissions/metastore/metastore",
                                 tokens["admin"], params={"principal": "bob"})
    assert body["privilege_assignments"] == [
        {"principal": "bob", "privileges": [{"privilege": "CREATE CATALOG"}]}]
    # The metastore stays the admins': no transfer; and revoking ends the right.
    status, _, _ = await call(server, "PUT", f"{V1}/owner/metastore/metastore",
                              tokens["admin"], json={"owner": "bob"})
    assert status == 400
    await call(server, "PATCH", path, tokens["admin"], json=patch("bob", remove=["CREATE CATALOG"]))
    status, _, _ = await call(server, "POST", f"{UC}/catalogs", tokens["bob"], json={"name": "more"})
    assert status == 403
