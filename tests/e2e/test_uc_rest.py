"""Unity Catalog REST details: error codes, aliases, credentials, what MLflow's uc: store sends."""

UC = "/api/2.1/unity-catalog"
V1 = "/api/modelog/v1"
MODEL = {"name": "iris", "catalog_name": "unity", "schema_name": "default"}
VERSION = {"model_name": "iris", "catalog_name": "unity", "schema_name": "default",
           "source": "s3://runs/1"}


async def test_errors_are_unity_catalog_codes_and_nothing_is_appended(live) -> None:
    assert (await live.call("POST", f"{UC}/models", json=MODEL))[0] == 200
    head = await live.pool.fetchval("SELECT max(position) FROM events")
    for method, path, body, status, code in [
        ("POST", f"{UC}/models", MODEL, 409, "ALREADY_EXISTS"),
        ("GET", f"{UC}/models/unity.default.nope", None, 404, "NOT_FOUND"),
        ("POST", f"{UC}/models", {"name": "x"}, 400, "INVALID_ARGUMENT"),
        ("POST", f"{UC}/models", {**MODEL, "name": "a/b"}, 400, "INVALID_ARGUMENT"),
        ("GET", f"{UC}/models/unity.default.iris/versions/9", None, 404, "NOT_FOUND"),
        ("GET", f"{UC}/nope", None, 404, "NOT_FOUND"),
        ("PUT", f"{UC}/models/unity.default.iris/aliases/champion", {"version_num": 1}, 404,
         "NOT_FOUND"),
    ]:
        got, err = await live.call(method, path, json=body)
        assert (got, err["error_code"]) == (status, code), (method, path, err)
        assert err["message"]
    assert await live.pool.fetchval("SELECT max(position) FROM events") == head


async def test_versions_aliases_credentials_and_force(live) -> None:
    await live.call("POST", f"{UC}/models", json=MODEL)
    status, mv = await live.call("POST", f"{UC}/models/versions", json=VERSION)
    assert status == 200 and mv["version"] == 1 and mv["status"] == "PENDING_REGISTRATION"
    # MLflow's client repeats the path values as query parameters.
    status, got = await live.call("GET", f"{UC}/models/unity.default.iris/versions/1",
                                  params={"full_name": "unity.default.iris", "version": "1"})
    assert status == 200 and got["storage_location"] == mv["storage_location"]
    status, done = await live.call("PATCH", f"{UC}/models/unity.default.iris/versions/1/finalize",
                                   json={"full_name": "unity.default.iris", "version": 1})
    assert status == 200 and done["status"] == "READY"

    status, alias = await live.call("PUT", f"{UC}/models/unity.default.iris/aliases/champion",
                                    json={"version_num": 1})
    assert status == 200 and (alias["alias_name"], alias["version_num"]) == ("champion", 1)
    status, model = await live.call("GET", f"{UC}/models/unity.default.iris",
                                    params={"include_aliases": "true"})
    assert [(a["alias_name"], a["version_num"]) for a in model["aliases"]] == [("champion", 1)]
    status, by_alias = await live.call("GET", f"{UC}/models/unity.default.iris/aliases/champion")
    assert status == 200 and by_alias["version"] == 1
    assert [a["alias_name"] for a in by_alias["aliases"]] == ["champion"]

    creds = {"catalog_name": "unity", "schema_name": "default", "model_name": "iris",
             "version": 1, "operation": "READ_WRITE_MODEL_VERSION"}
    assert (await live.call("POST", f"{UC}/temporary-model-version-credentials",
                            json=creds))[0] == 200
    # A version whose files stay at its source (registered through MLflow's classic API).
    await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                    json={"name": "iris", "source": "s3://elsewhere/2"})
    status, err = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                  json={**creds, "version": 2})
    assert status == 400 and "cannot issue credentials" in err["message"]

    status, err = await live.call("DELETE", f"{UC}/models/unity.default.iris")
    assert status == 400 and err["error_code"] == "FAILED_PRECONDITION"
    status, _ = await live.call("DELETE", f"{UC}/models/unity.default.iris",
                                params={"force": "true"})
    assert status == 200
    assert (await live.call("GET", f"{UC}/models/unity.default.iris"))[0] == 404


async def test_rename_within_the_schema_and_comment(live) -> None:
    await live.call("POST", f"{UC}/models", json=MODEL)
    status, model = await live.call("PATCH", f"{UC}/models/unity.default.iris",
                                    json={"new_name": "iris2", "comment": "renamed"})
    assert status == 200 and model["full_name"] == "unity.default.iris2"
    assert model["comment"] == "renamed"
    assert (await live.call("GET", f"{UC}/models/unity.default.iris"))[0] == 404


async def test_nul_in_a_query_parameter_is_a_400_on_every_surface(live) -> None:
    for path, params, code in [
        (f"{UC}/models", {"catalog_name": "a\x00b"}, "INVALID_ARGUMENT"),
        ("/api/2.0/mlflow/registered-models/get", {"name": "a\x00b"}, "INVALID_PARAMETER_VALUE"),
        ("/api/modelog/v1/models", {"name_pattern": "a\x00"}, "INVALID_ARGUMENT"),
    ]:
        status, body = await live.call("GET", path, params=params)
        assert (status, body["error_code"]) == (400, code), (path, body)


async def test_an_update_changes_what_it_sends_and_nothing_else(live) -> None:
    """A PATCH that leaves a field out leaves it alone, on both surfaces; one that sends
    nothing to change is refused, as Unity Catalog refuses it, and appends nothing."""
    assert (await live.call("POST", f"{UC}/catalogs", json={"name": "c", "comment": "keep"}))[0] \
        == 200
    assert (await live.call("POST", f"{UC}/schemas",
                            json={"catalog_name": "c", "name": "s", "comment": "keep"}))[0] == 200
    assert (await live.call("POST", f"{UC}/models", json={
        "catalog_name": "c", "schema_name": "s", "name": "m", "comment": "keep"}))[0] == 200
    head = await live.pool.fetchval("SELECT max(position) FROM events")
    for path in (f"{UC}/catalogs/c", f"{UC}/schemas/c.s", f"{UC}/models/c.s.m",
                 f"{V1}/catalogs/c", f"{V1}/schemas/c.s", f"{V1}/models/c.s.m"):
        status, err = await live.call("PATCH", path, json={})
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT"), (path, err)
        assert "nothing to update" in err["message"]
    assert await live.pool.fetchval("SELECT max(position) FROM events") == head
    for path in (f"{UC}/catalogs/c", f"{UC}/schemas/c.s", f"{UC}/models/c.s.m"):
        assert (await live.call("GET", path))[1]["comment"] == "keep"
    status, model = await live.call("PATCH", f"{UC}/models/c.s.m", json={"new_name": "m2"})
    assert status == 200 and model["comment"] == "keep"  # renamed, comment left alone
    status, catalog = await live.call("PATCH", f"{UC}/catalogs/c", json={"comment": "new"})
    assert status == 200 and catalog["comment"] == "new"


async def test_requests_unity_catalog_refuses_are_400s_not_misses_or_500s(live) -> None:
    assert (await live.call("POST", f"{UC}/models", json=MODEL))[0] == 200
    for method, path, body in [
        ("GET", f"{UC}/models/unity.default", None),  # two levels: not a model's name
        ("GET", f"{UC}/models/unity", None),
        ("GET", f"{UC}/models?catalog_name=unity", None),  # a schema needs both names
        ("GET", f"{UC}/models?schema_name=default", None),
    ]:
        status, err = await live.call(method, path, json=body)
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT"), (path, err)
    # Version numbers are int64 on the wire: one beyond any version is simply not there.
    creds = {"catalog_name": "unity", "schema_name": "default", "model_name": "iris",
             "operation": "READ_MODEL_VERSION"}
    for version in (2**31, 2**63 - 1):
        status, err = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                      json={**creds, "version": version})
        assert (status, err["error_code"]) == (404, "NOT_FOUND"), (version, err)
        status, err = await live.call("GET", f"{UC}/models/unity.default.iris/versions/{version}")
        assert status == 404, err
