"""Renaming a catalog or a schema (Unity Catalog's PATCH with `new_name`, and the native API's):
everything inside follows, each object with a rename event of its own, in one transaction."""

from typing import Any
from uuid import uuid4

from projections.rebuild import rebuild
from tests.support.server import Live, append_raw, call, patch

UC = "/api/2.1/unity-catalog"
V1 = "/api/modelog/v1"


async def head(live: Live) -> int:
    return await live.pool.fetchval("SELECT max(position) FROM events")


async def lab(live: Live) -> dict[str, Any]:
    """Catalog `lab`, schema `lab.cv`, model `lab.cv.iris` with a finalized version 1 and the
    alias `champion` on it, and a grant to bob on the catalog; returns the objects as created."""
    made: dict[str, Any] = {}
    status, made["catalog"] = await live.call("POST", f"{UC}/catalogs",
                                              json={"name": "lab", "comment": "experiments"})
    assert status == 200
    status, made["schema"] = await live.call("POST", f"{UC}/schemas",
                                             json={"catalog_name": "lab", "name": "cv"})
    assert status == 200
    status, made["model"] = await live.call("POST", f"{UC}/models", json={
        "name": "iris", "catalog_name": "lab", "schema_name": "cv"})
    assert status == 200
    status, made["version"] = await live.call("POST", f"{UC}/models/versions", json={
        "model_name": "iris", "catalog_name": "lab", "schema_name": "cv", "source": "s3://r/1"})
    assert status == 200
    assert (await live.call("PATCH", f"{UC}/models/lab.cv.iris/versions/1/finalize",
                            json={"full_name": "lab.cv.iris", "version": 1}))[0] == 200
    assert (await live.call("PUT", f"{UC}/models/lab.cv.iris/aliases/champion",
                            json={"version_num": 1}))[0] == 200
    assert (await live.call("PATCH", f"{UC}/permissions/catalog/lab",
                            json=patch("bob", ["USE CATALOG"])))[0] == 200
    return made


async def test_renaming_a_catalog_carries_its_schemas_models_versions_aliases_and_grants(
        live: Live) -> None:
    made = await lab(live)
    before = await head(live)
    status, cat = await live.call("PATCH", f"{UC}/catalogs/lab",
                                  json={"new_name": "prod", "comment": "promoted"})
    assert status == 200, cat
    assert (cat["name"], cat["id"], cat["comment"]) == ("prod", made["catalog"]["id"], "promoted")

    status, schema = await live.call("GET", f"{UC}/schemas/prod.cv")
    assert status == 200 and schema["schema_id"] == made["schema"]["schema_id"]
    assert (schema["catalog_name"], schema["full_name"]) == ("prod", "prod.cv")
    status, model = await live.call("GET", f"{UC}/models/prod.cv.iris")
    assert status == 200 and model["id"] == made["model"]["id"]
    assert model["storage_location"] == made["model"]["storage_location"]  # files stay put
    assert [(a["alias_name"], a["version_num"], a["catalog_name"]) for a in model["aliases"]] == [
        ("champion", 1, "prod")]
    status, mv = await live.call("GET", f"{UC}/models/prod.cv.iris/versions/1")
    assert status == 200 and mv["status"] == "READY"
    assert mv["storage_location"] == made["version"]["storage_location"]
    status, by_alias = await live.call("GET", f"{UC}/models/prod.cv.iris/aliases/champion")
    assert status == 200 and by_alias["version"] == 1
    status, listed = await live.call("GET", f"{UC}/models",
                                     params={"catalog_name": "prod", "schema_name": "cv"})
    assert [m["full_name"] for m in listed["registered_models"]] == ["prod.cv.iris"]
    status, grants = await live.call("GET", f"{UC}/permissions/catalog/prod")
    assert status == 200
    assert {(a["principal"], tuple(a["privileges"]))
            for a in grants["privilege_assignments"]} >= {("bob", ("USE CATALOG",))}

    # The old names are gone, in Unity Catalog's words.
    for path, code in ((f"{UC}/catalogs/lab", "CATALOG_NOT_FOUND"),
                       (f"{UC}/schemas/lab.cv", "SCHEMA_NOT_FOUND"),
                       (f"{UC}/models/lab.cv.iris", "NOT_FOUND")):
        status, err = await live.call("GET", path)
        assert (status, err["error_code"]) == (404, code), path

    # The UI follows: the catalog's page under its new name, the model's page with its alias,
    # and the model as it was, under its old name.
    async with live.http.get("/ui/catalogs/prod") as r:
        assert r.status == 200 and "cv" in await r.text()
    async with live.http.get("/ui/models/prod.cv.iris") as r:
        assert r.status == 200 and "champion" in await r.text()
    async with live.http.get("/ui/catalogs/lab") as r:
        assert r.status == 404
    async with live.http.get("/ui/models/lab.cv.iris", params={"as_of": str(before)}) as r:
        assert r.status == 200 and "lab.cv.iris" in await r.text()

    # One transaction: the catalog's rename, then each thing inside on its own stream, then the
    # comment; every model's own history shows its new name.
    rows = await live.pool.fetch(
        "SELECT type, stream_id, metadata->>'command' AS command FROM events "
        "WHERE position > $1 ORDER BY position", before)
    assert [(r["type"], r["command"]) for r in rows] == [
        ("CatalogRenamed", "RenameCatalog"), ("SchemaRenamed", "RenameCatalog"),
        ("ModelRenamed", "RenameCatalog"), ("CatalogUpdated", "UpdateCatalog")]
    assert rows[2]["stream_id"] == f"model:{made['model']['id']}"
    status, history = await live.call("GET", f"{V1}/models/prod.cv.iris/history")
    assert status == 200
    renamed = [e for e in history["events"] if e["type"] == "ModelRenamed"]
    assert [(e["data"]["from_full_name"], e["data"]["catalog_name"]) for e in renamed] == [
        ("lab.cv.iris", "prod")]

    # The past reads by the names of then.
    then = {"as_of": str(before)}
    for path in (f"{V1}/catalogs/lab", f"{V1}/schemas/lab.cv", f"{V1}/models/lab.cv.iris",
                 f"{V1}/models/lab.cv.iris/versions/1"):
        status, found = await live.call("GET", path, params=then)
        assert status == 200, (path, found)
    status, old = await live.call("GET", f"{V1}/catalogs/lab", params=then)
    assert (old["comment"], old["id"]) == ("experiments", made["catalog"]["id"])
    for path in (f"{V1}/catalogs/prod", f"{V1}/models/prod.cv.iris"):
        assert (await live.call("GET", path, params=then))[0] == 404, path
    status, page = await live.call("GET", f"{V1}/models",
                                   params={"catalog_name": "lab", "schema_name": "cv", **then})
    assert [m["full_name"] for m in page["registered_models"]] == ["lab.cv.iris"]

    # The old name is free: a new, empty catalog on a stream of its own.
    status, again = await live.call("POST", f"{UC}/catalogs", json={"name": "lab"})
    assert status == 200 and again["id"] != made["catalog"]["id"]
    status, page = await live.call("GET", f"{UC}/schemas", params={"catalog_name": "lab"})
    assert status == 200 and page["schemas"] == []
    streams = await live.pool.fetch(
        "SELECT DISTINCT stream_id FROM events WHERE type = 'CatalogCreated' "
        "AND data->>'name' = 'lab'")
    assert len(streams) == 2
    status, grants = await live.call("GET", f"{UC}/permissions/catalog/lab")
    assert status == 200 and not any(a["principal"] == "bob"
                                     for a in grants.get("privilege_assignments", []))


async def test_a_refused_rename_appends_nothing(live: Live) -> None:
    await lab(live)
    await live.call("POST", f"{UC}/catalogs", json={"name": "prod"})
    await live.call("POST", f"{UC}/schemas", json={"catalog_name": "lab", "name": "nlp"})
    before = await head(live)
    cases = [
        (f"{UC}/catalogs/lab", {"new_name": "prod"}, 400, "CATALOG_ALREADY_EXISTS",
         "Catalog already exists: prod"),
        (f"{UC}/catalogs/lab", {"new_name": "lab", "comment": "x"}, 400,
         "CATALOG_ALREADY_EXISTS", "Catalog already exists: lab"),
        (f"{UC}/schemas/lab.cv", {"new_name": "nlp", "comment": "x"}, 400,
         "SCHEMA_ALREADY_EXISTS", "Schema already exists: lab.nlp"),
        (f"{UC}/catalogs/lab", {"new_name": "a b"}, 400, "INVALID_ARGUMENT", None),
        (f"{UC}/schemas/lab.cv", {"new_name": "a.b"}, 400, "INVALID_ARGUMENT", None),
        (f"{UC}/catalogs/nope", {"new_name": "x"}, 404, "CATALOG_NOT_FOUND",
         "Catalog not found: nope"),
        (f"{UC}/schemas/lab.nope", {"new_name": "x"}, 404, "SCHEMA_NOT_FOUND",
         "Schema not found: lab.nope"),
        # MLflow's names live in the workspace schema: it and its catalog stay where they are.
        (f"{UC}/catalogs/unity", {"new_name": "x"}, 400, "FAILED_PRECONDITION", None),
        (f"{UC}/schemas/unity.default", {"new_name": "x"}, 400, "FAILED_PRECONDITION", None),
    ]
    for path, body, status, code, message in cases:
        got, err = await live.call("PATCH", path, json=body)
        assert (got, err["error_code"]) == (status, code), (path, body, err)
        assert message is None or err["message"] == message, err
    status, err = await live.call("PATCH", f"{V1}/catalogs/unity", json={"new_name": "x"})
    assert (status, err["error_code"]) == (409, "FAILED_PRECONDITION")  # the native API's status
    assert "workspace schema" in err["message"]
    assert await head(live) == before
    status, cat = await live.call("GET", f"{UC}/catalogs/lab")
    assert cat["comment"] == "experiments"


async def test_renaming_a_schema_on_the_native_api(live: Live) -> None:
    made = await lab(live)
    status, v2 = await live.call("POST", f"{V1}/models/lab.cv.iris/versions",
                                 json={"source": "s3://r/2"})
    assert status == 201
    before = await head(live)
    status, schema = await live.call("PATCH", f"{V1}/schemas/lab.cv",
                                     json={"new_name": "vision", "properties": {"team": "cv"}})
    assert status == 200, schema
    assert (schema["full_name"], schema["properties"]) == ("lab.vision", {"team": "cv"})
    status, model = await live.call("GET", f"{V1}/models/lab.vision.iris")
    assert status == 200 and model["id"] == made["model"]["id"]
    status, versions = await live.call("GET", f"{V1}/models/lab.vision.iris/versions")
    assert [(v["version"], v["storage_location"]) for v in versions["model_versions"]] == [
        (1, made["version"]["storage_location"]), (2, v2["storage_location"])]
    assert (await live.call("GET", f"{V1}/models/lab.cv.iris"))[0] == 404
    assert (await live.call("GET", f"{V1}/schemas/lab.cv"))[0] == 404
    status, old = await live.call("GET", f"{V1}/models/lab.cv.iris", params={"as_of": str(before)})
    assert status == 200 and old["id"] == made["model"]["id"]

    # And a catalog, on the native API too; sent again under its Idempotency-Key, it is the
    # same rename, appending nothing.
    key = {"Idempotency-Key": "rename-lab"}
    status, cat = await live.call("PATCH", f"{V1}/catalogs/lab", json={"new_name": "prod"},
                                  headers=key)
    assert status == 200 and cat["name"] == "prod"
    after = await head(live)
    status, again = await live.call("PATCH", f"{V1}/catalogs/lab", json={"new_name": "prod"},
                                    headers=key)
    assert (status, again) == (200, cat) and await head(live) == after
    assert (await live.call("GET", f"{V1}/models/prod.vision.iris"))[0] == 200
    status, err = await live.call("PATCH", f"{V1}/schemas/prod.vision", json={"new_name": "vision"})
    assert (status, err["error_code"]) == (409, "ALREADY_EXISTS"), err

    # The audit trail names each event's object as it was then.
    status, audit = await live.call("GET", f"{V1}/audit/events", params={"object": "lab.cv"})
    assert status == 200, audit
    assert {"SchemaCreated", "ModelCreated", "VersionRegistered"} <= {
        e["type"] for e in audit["events"]}
    assert all(e["object"].startswith("lab.cv") for e in audit["events"])
    status, audit = await live.call("GET", f"{V1}/audit/events", params={"object": "prod"})
    assert {(e["type"], e["object"]) for e in audit["events"]} >= {
        ("CatalogRenamed", "prod"), ("SchemaRenamed", "prod.vision"),
        ("ModelRenamed", "prod.vision.iris")}


async def test_grants_still_apply_under_the_new_names(team) -> None:
    server, tokens = team
    admin, bob = tokens["admin"], tokens["bob"]
    for method, path, body in (
            ("POST", f"{V1}/catalogs", {"name": "lab"}),
            ("POST", f"{V1}/schemas", {"catalog_name": "lab", "name": "cv"}),
            ("POST", f"{V1}/models", {"name": "lab.cv.iris"}),
            ("PATCH", f"{V1}/permissions/catalog/lab", patch("bob", ["USE CATALOG"])),
            ("PATCH", f"{V1}/permissions/schema/lab.cv", patch("bob", ["USE SCHEMA"])),
            ("PATCH", f"{V1}/permissions/registered_model/lab.cv.iris", patch("bob", ["EXECUTE"]))):
        status, answer, _ = await call(server, method, path, admin, json=body)
        assert status in (200, 201), (path, answer)
    assert (await call(server, "GET", f"{V1}/models/lab.cv.iris", bob))[0] == 200
    # Renaming a catalog claims a top-level name, as creating one does: admins only.
    status, _, _ = await call(server, "PATCH", f"{V1}/catalogs/lab", bob, json={"new_name": "x"})
    assert status == 403
    status, _, _ = await call(server, "PATCH", f"{V1}/catalogs/lab", admin,
                              json={"new_name": "prod"})
    assert status == 200
    status, _, _ = await call(server, "PATCH", f"{V1}/schemas/prod.cv", admin,
                              json={"new_name": "vision"})
    assert status == 200
    status, model, _ = await call(server, "GET", f"{V1}/models/prod.vision.iris", bob)
    assert status == 200, model
    status, found, _ = await call(server, "GET", f"{UC}/models", bob,
                                  params={"catalog_name": "prod", "schema_name": "vision"})
    assert [m["full_name"] for m in found["registered_models"]] == ["prod.vision.iris"]
    # A new catalog under the old name has none of the old one's grants.
    assert (await call(server, "POST", f"{V1}/catalogs", admin, json={"name": "lab"}))[0] == 201
    assert (await call(server, "POST", f"{V1}/schemas", admin,
                       json={"catalog_name": "lab", "name": "cv"}))[0] == 201
    assert (await call(server, "POST", f"{V1}/models", admin,
                       json={"name": "lab.cv.iris"}))[0] == 201
    assert (await call(server, "GET", f"{V1}/models/lab.cv.iris", bob))[0] in (403, 404)


async def test_a_catalog_from_before_id_keyed_streams_renames_on_its_own_stream(
        live: Live) -> None:
    """Catalogs and schemas created before renames existed have streams keyed by their names
    ('catalog:<name>', 'schema:<c>.<s>'); the log is immutable, so they keep them."""
    created = {"owner": "admin", "comment": None, "properties": {}}
    for stream, type_, data in (
            ("catalog:old", "CatalogCreated", {"catalog_id": str(uuid4()), "name": "old", **created}),
            ("schema:old.s", "SchemaCreated", {"schema_id": str(uuid4()), "catalog_name": "old",
                                               "name": "s", **created}),
            ("catalog:old", "PrivilegesChanged", {
                "securable_type": "catalog", "full_name": "old",
                "changes": [{"principal": "bob", "add": ["USE CATALOG"], "remove": []}]})):
        await append_raw(live, stream, type_, 1, data, "admin")
    assert (await rebuild(live.pool, swap=True)).differences == []  # the read models catch up
    assert (await live.call("POST", f"{V1}/models", json={"name": "old.s.m"}))[0] == 201

    status, cat = await live.call("PATCH", f"{UC}/catalogs/old", json={"new_name": "new"})
    assert status == 200, cat
    assert (await live.call("GET", f"{UC}/models/new.s.m"))[0] == 200
    assert (await live.call("GET", f"{UC}/catalogs/old"))[0] == 404
    renamed = await live.pool.fetch("SELECT stream_id, type FROM events WHERE type IN "
                                    "('CatalogRenamed', 'SchemaRenamed') ORDER BY position")
    assert [tuple(r) for r in renamed] == [("catalog:old", "CatalogRenamed"),
                                           ("schema:old.s", "SchemaRenamed")]
    status, grants = await live.call("GET", f"{UC}/permissions/catalog/new")
    assert [a["principal"] for a in grants["privilege_assignments"]] == ["bob"]
    # The old name again: a new catalog, on a stream keyed by its id, without bob's grant.
    status, again = await live.call("POST", f"{UC}/catalogs", json={"name": "old"})
    assert status == 200
    assert await live.pool.fetchval(
        "SELECT stream_id FROM events WHERE type = 'CatalogCreated' ORDER BY position DESC "
        "LIMIT 1") == f"catalog:{again['id']}"
    status, grants = await live.call("GET", f"{UC}/permissions/catalog/old")
    assert grants.get("privilege_assignments", []) == []
    assert (await rebuild(live.pool, swap=False)).differences == []
