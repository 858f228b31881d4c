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
             "version": 1, "operation": "READ_MODEL_VERSION"}
    status, read = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                   json=creds)
    # A file: location needs nothing signed: the answer names it and never expires.
    assert status == 200 and read == {"url": mv["storage_location"], "expiration_time": 0}
    # Writing is for a version still pending, as Unity Catalog's server has it.
    status, err = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                  json={**creds, "operation": "READ_WRITE_MODEL_VERSION"})
    assert status == 400 and err["message"] == ("Cannot request read/write credentials on a "
                                                "model version that has been finalized: "
                                                "unity.default.iris/1")
    for bad in ({**creds, "operation": "UNKNOWN_MODEL_VERSION_OPERATION"},
                {k: v for k, v in creds.items() if k != "operation"}):
        status, err = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                      json=bad)
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT"), err
    # A version whose files stay at its source (registered through MLflow's classic API).
    await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                    json={"name": "iris", "source": "s3://elsewhere/2"})
    status, err = await live.call("POST", f"{UC}/temporary-model-version-credentials",
                                  json={**creds, "version": 2})
    assert status == 400 and err["message"] == (
        "Model version unity.default.iris/2 has no storage location of its own: its files stay "
        "at its source, s3://elsewhere/2")

    status, err = await live.call("DELETE", f"{UC}/models/unity.default.iris")
    assert (status, err["error_code"]) == (409, "ABORTED")  # as Unity Catalog's server
    assert err["message"] == ("Unable to delete a registered model with existing model "
                              "versions: unity.default.iris")
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


async def test_errors_carry_unity_catalogs_codes_words_and_error_info(live) -> None:
    assert (await live.call("POST", f"{UC}/models", json=MODEL))[0] == 200
    assert (await live.call("POST", f"{UC}/models/versions", json=VERSION))[0] == 200
    cases = [
        ("GET", f"{UC}/catalogs/nope", None, 404, "CATALOG_NOT_FOUND", "Catalog not found: nope"),
        ("GET", f"{UC}/schemas/unity.nope", None, 404, "SCHEMA_NOT_FOUND",
         "Schema not found: unity.nope"),
        ("POST", f"{UC}/schemas", {"catalog_name": "nope", "name": "s"}, 404,
         "CATALOG_NOT_FOUND", "Catalog not found: nope"),
        ("POST", f"{UC}/models", {**MODEL, "schema_name": "nope"}, 404, "SCHEMA_NOT_FOUND",
         "Schema not found: unity.nope"),
        ("POST", f"{UC}/catalogs", {"name": "unity"}, 400, "CATALOG_ALREADY_EXISTS",
         "Catalog already exists: unity"),
        ("POST", f"{UC}/schemas", {"catalog_name": "unity", "name": "default"}, 400,
         "SCHEMA_ALREADY_EXISTS", "Schema already exists: unity.default"),
        ("POST", f"{UC}/models", MODEL, 409, "ALREADY_EXISTS",
         "Registered model already exists: unity.default.iris"),
        ("GET", f"{UC}/models/unity.default.nope", None, 404, "NOT_FOUND",
         "Registered model not found: unity.default.nope"),
        ("GET", f"{UC}/models/unity.default.iris/versions/7", None, 404, "NOT_FOUND",
         "Model version not found: unity.default.iris/7"),
        ("DELETE", f"{UC}/schemas/unity.default", None, 400, "FAILED_PRECONDITION",
         "Cannot delete schema with models"),
        ("DELETE", f"{UC}/catalogs/unity", None, 400, "FAILED_PRECONDITION",
         "Cannot delete catalog with schemas. Use force=true to force deletion."),
    ]
    for method, path, body, status, code, message in cases:
        got, err = await live.call(method, path, json=body)
        assert (got, err["error_code"], err["message"]) == (status, code, message), (path, err)
        [info] = err["details"]
        assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
        assert info["reason"] == code


async def test_finalize_reads_its_body_and_only_finalizes_a_pending_version(live) -> None:
    assert (await live.call("POST", f"{UC}/models", json=MODEL))[0] == 200
    assert (await live.call("POST", f"{UC}/models/versions", json=VERSION))[0] == 200
    path = f"{UC}/models/unity.default.iris/versions/1/finalize"
    head = await live.pool.fetchval("SELECT max(position) FROM events")
    for body, message in (({"version": 1}, "No three tier full name specified."),
                          ({"full_name": "unity.default.iris"}, "No version specified."),
                          ({"full_name": "unity.default.iris", "version": 2}, "the body names")):
        status, err = await live.call("PATCH", path, json=body)
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
        assert err["message"].startswith(message)
    assert await live.pool.fetchval("SELECT max(position) FROM events") == head
    body = {"full_name": "unity.default.iris", "version": 1}
    status, done = await live.call("PATCH", path, json=body)
    assert status == 200 and done["status"] == "READY"
    status, err = await live.call("PATCH", path, json=body)
    assert (status, err["error_code"], err["message"]) == (
        400, "INVALID_ARGUMENT",
        "Model version not in a pending registration state: unity.default.iris/1")


async def test_catalog_and_schema_properties_are_kept_as_events(live) -> None:
    status, cat = await live.call("POST", f"{UC}/catalogs", json={
        "name": "c", "comment": "doc", "properties": {"team": "risk", "tier": "1"}})
    assert status == 200 and cat["properties"] == {"team": "risk", "tier": "1"}
    status, schema = await live.call("POST", f"{UC}/schemas", json={
        "catalog_name": "c", "name": "s", "properties": {"pii": "no"}})
    assert status == 200 and schema["properties"] == {"pii": "no"}
    before = await live.pool.fetchval("SELECT max(position) FROM events")
    # Properties replace as a whole; the comment, left out, stays.
    status, cat = await live.call("PATCH", f"{UC}/catalogs/c", json={"properties": {"team": "ml"}})
    assert status == 200 and (cat["properties"], cat["comment"]) == ({"team": "ml"}, "doc")
    status, cat = await live.call("PATCH", f"{V1}/catalogs/c", json={"comment": "new doc"})
    assert status == 200 and (cat["properties"], cat["comment"]) == ({"team": "ml"}, "new doc")
    status, schema = await live.call("PATCH", f"{V1}/schemas/c.s", json={"properties": {}})
    assert status == 200 and schema["properties"] == {}
    assert (await live.call("GET", f"{UC}/schemas/c.s"))[1]["properties"] == {}
    # The past is still there to read.
    status, then = await live.call("GET", f"{V1}/catalogs/c", params={"as_of": str(before)})
    assert status == 200 and then["properties"] == {"team": "risk", "tier": "1"}
    for bad in ({"properties": {"k": 1}}, {"properties": {"": "v"}}, {"properties": "x"}):
        status, err = await live.call("PATCH", f"{UC}/catalogs/c", json=bad)
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT"), bad


async def test_a_forced_delete_takes_everything_inside_as_events(live) -> None:
    await live.call("POST", f"{UC}/catalogs", json={"name": "c"})
    for schema in ("s", "t"):
        await live.call("POST", f"{UC}/schemas", json={"catalog_name": "c", "name": schema})
    for model in ("c.s.m", "c.s.my.model", "c.t.n"):
        assert (await live.call("POST", f"{V1}/models", json={"name": model}))[0] == 201
        assert (await live.call("POST", f"{V1}/models/{model}/versions",
                                json={"source": "s3://b/1"}))[0] == 201
    before = await live.pool.fetchval("SELECT max(position) FROM events")
    status, err = await live.call("DELETE", f"{UC}/schemas/c.s")
    assert (status, err["error_code"]) == (400, "FAILED_PRECONDITION")
    assert (await live.call("DELETE", f"{UC}/schemas/c.s", params={"force": "true"}))[0] == 200
    assert (await live.call("GET", f"{V1}/models/c.s.m"))[0] == 404
    assert (await live.call("GET", f"{V1}/models/c.t.n"))[0] == 200  # the other schema's stays
    status, err = await live.call("DELETE", f"{UC}/catalogs/c")
    assert (status, err["error_code"]) == (400, "FAILED_PRECONDITION")
    assert (await live.call("DELETE", f"{UC}/catalogs/c", params={"force": "true"}))[0] == 200
    for path in (f"{UC}/catalogs/c", f"{UC}/schemas/c.t", f"{V1}/models/c.t.n"):
        assert (await live.call("GET", path))[0] == 404, path
    # Each removal is an event of its own object, so the past reads as it was.
    rows = await live.pool.fetch(
        "SELECT type, metadata->>'command' AS command FROM events WHERE position > $1 "
        "ORDER BY position", before)
    assert [r["type"] for r in rows] == [
        "ModelDeleted", "ModelDeleted", "SchemaDeleted", "ModelDeleted", "SchemaDeleted",
        "CatalogDeleted"]
    assert {r["command"] for r in rows} == {"DeleteSchema", "DeleteCatalog"}
    for path in (f"{V1}/models/c.s.my.model", f"{V1}/models/c.t.n/versions/1",
                 f"{V1}/catalogs/c", f"{V1}/schemas/c.s"):
        status, then = await live.call("GET", path, params={"as_of": str(before)})
        assert status == 200, (path, then)
    # The name is free again, and the new catalog starts empty.
    assert (await live.call("POST", f"{UC}/catalogs", json={"name": "c"}))[0] == 200
    status, page = await live.call("GET", f"{UC}/schemas", params={"catalog_name": "c"})
    assert status == 200 and page["schemas"] == []


async def test_writing_a_versions_files_needs_what_registering_it_needs(world) -> None:
    # reader may load alice's model (EXECUTE) but not change it; alice owns it.
    status, mv = await world.call("alice", "POST", f"{UC}/models/versions", json={
        "catalog_name": "unity", "schema_name": "default", "model_name": "secret",
        "source": "s3://alice/2"})
    assert status == 200 and mv["status"] == "PENDING_REGISTRATION"
    ask = {"catalog_name": "unity", "schema_name": "default", "model_name": "secret",
           "version": mv["version"]}
    path = f"{UC}/temporary-model-version-credentials"
    status, err = await world.call("reader", "POST", path,
                                   json={**ask, "operation": "READ_WRITE_MODEL_VERSION"})
    assert (status, err["error_code"]) == (403, "PERMISSION_DENIED"), err
    for who, operation in (("reader", "READ_MODEL_VERSION"), ("alice", "READ_WRITE_MODEL_VERSION")):
        status, creds = await world.call(who, "POST", path, json={**ask, "operation": operation})
        assert status == 200 and creds["url"] == mv["storage_location"], creds
    # Someone who may not read the model learns nothing from asking.
    status, err = await world.call("mallory", "POST", path,
                                   json={**ask, "operation": "READ_MODEL_VERSION"})
    assert status in (403, 404) and "url" not in err


async def test_names_follow_unity_catalogs_rule(live) -> None:
    # A per-user schema named after an e-mail address, and a leading hyphen, as UC allows.
    for catalog, schema in (("team-a", "alice@example-com"), ("-scratch", "-tmp")):
        assert (await live.call("POST", f"{UC}/catalogs", json={"name": catalog}))[0] == 200
        status, got = await live.call("POST", f"{UC}/schemas",
                                      json={"catalog_name": catalog, "name": schema})
        assert status == 200 and got["full_name"] == f"{catalog}.{schema}"
        status, model = await live.call("POST", f"{UC}/models", json={
            "catalog_name": catalog, "schema_name": schema, "name": "m@1"})
        assert status == 200 and model["full_name"] == f"{catalog}.{schema}.m@1"
        status, again = await live.call("GET", f"{UC}/models/{catalog}.{schema}.m@1")
        assert status == 200 and again["id"] == model["id"]
    for bad in ("a b", "a.b", "a/b", "a\u0000b"):
        status, err = await live.call("POST", f"{UC}/catalogs", json={"name": bad})
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT"), (bad, err)
