"""Unity Catalog's own server scenarios for models, retold against Modelog: the model and version
life cycle and its paging (UC's BaseModelCRUDTest, SdkModelCRUDTest), temporary credentials on a
`file:` root (SdkTemporaryModelVersionCredentialTest) and who may do what to a model
(SdkModelAccessControlCRUDTest). Through UC's `unitycatalog-client` SDK where UC's tests use it, over
plain HTTP where the error's code matters. Where Modelog deliberately answers otherwise, the test
asserts Modelog's answer and says why.

Credentials for cloud storage (S3) are in test_uc_s3.py.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import unitycatalog.client as uc

from tests.support.server import BOOTSTRAP, UC, V1, Live, call, grant, serving

CREDENTIALS = f"{UC}/temporary-model-version-credentials"


def _sdk(url: str, token: str | None = None) -> uc.ApiClient:
    config = uc.Configuration(host=f"{url}{UC}")
    if token is None:
        return uc.ApiClient(config)
    return uc.ApiClient(config, header_name="Authorization", header_value=f"Bearer {token}")


def _error(info: pytest.ExceptionInfo) -> tuple[int, str]:
    return info.value.status, json.loads(info.value.body)["error_code"]


async def _head(live: Live) -> int:
    return await live.pool.fetchval("SELECT max(position) FROM events")


# --- the life cycle of models and versions (UC's BaseModelCRUDTest) ------------------------------


async def test_model_life_cycle(live) -> None:
    async with _sdk(live.url) as api:
        catalogs, schemas = uc.CatalogsApi(api), uc.SchemasApi(api)
        models = uc.RegisteredModelsApi(api)
        create = uc.CreateRegisteredModel(name="uc_testmodel", catalog_name="uc_testcatalog",
                                          schema_name="uc_testschema", comment="a comment")
        full = "uc_testcatalog.uc_testschema.uc_testmodel"

        with pytest.raises(uc.ApiException) as info:
            await models.get_registered_model(full)
        assert _error(info) == (404, "NOT_FOUND")
        # Not before its catalog and schema exist; and the miss says which is missing.
        with pytest.raises(uc.ApiException) as info:
            await models.create_registered_model(create)
        assert _error(info) == (404, "CATALOG_NOT_FOUND")

        for catalog, schema in (("uc_testcatalog", "uc_testschema"),
                                ("uc_testcatalog2", "uc_testschema2")):
            await catalogs.create_catalog(uc.CreateCatalog(name=catalog, comment="a comment"))
            await schemas.create_schema(uc.CreateSchema(name=schema, catalog_name=catalog))

        model = await models.create_registered_model(create)
        assert (model.name, model.catalog_name, model.schema_name, model.full_name,
                model.comment) == ("uc_testmodel", "uc_testcatalog", "uc_testschema", full,
                                   "a comment")
        assert model.created_at and model.updated_at and model.id and model.storage_location
        other = await models.create_registered_model(uc.CreateRegisteredModel(
            name="uc_common", catalog_name="uc_testcatalog", schema_name="uc_testschema"))
        elsewhere = await models.create_registered_model(uc.CreateRegisteredModel(
            name="uc_testmodel_new", catalog_name="uc_testcatalog2",
            schema_name="uc_testschema2"))

        page = await models.list_registered_models(catalog_name="uc_testcatalog",
                                                   schema_name="uc_testschema")
        assert model in page.registered_models and elsewhere not in page.registered_models
        page = await models.list_registered_models(catalog_name="uc_testcatalog2",
                                                   schema_name="uc_testschema2")
        assert page.registered_models == [elsewhere]
        everything = (await models.list_registered_models()).registered_models
        assert model in everything and elsewhere in everything

        # UC's test pages by handing a model's name as the token; Modelog's tokens are opaque, as
        # UC's spec says they are: the one a page hands out continues after its last model.
        first = await models.list_registered_models(
            catalog_name="uc_testcatalog", schema_name="uc_testschema", max_results=1)
        assert first.registered_models == [other] and first.next_page_token
        rest = await models.list_registered_models(
            catalog_name="uc_testcatalog", schema_name="uc_testschema",
            page_token=first.next_page_token)
        assert rest.registered_models == [model] and not rest.next_page_token
        with pytest.raises(uc.ApiException) as info:
            await models.list_registered_models(
                catalog_name="uc_testcatalog", schema_name="uc_testschema",
                page_token="uc_common")
        assert _error(info) == (400, "INVALID_ARGUMENT")

        assert await models.get_registered_model(full) == model

        # An update that changes nothing is refused and changes nothing.
        head = await _head(live)
        with pytest.raises(uc.ApiException) as info:
            await models.update_registered_model(full, uc.UpdateRegisteredModel())
        assert _error(info) == (400, "INVALID_ARGUMENT")
        assert await _head(live) == head
        assert await models.get_registered_model(full) == model

        renamed = await models.update_registered_model(
            full, uc.UpdateRegisteredModel(new_name="uc_newmodel"))
        new_full = "uc_testcatalog.uc_testschema.uc_newmodel"
        assert (renamed.id, renamed.name, renamed.comment, renamed.full_name) == (
            model.id, "uc_newmodel", "a comment", new_full)
        assert renamed.updated_at != renamed.created_at
        commented = await models.update_registered_model(
            new_full, uc.UpdateRegisteredModel(comment="a new comment"))
        assert (commented.id, commented.name, commented.comment) == (
            model.id, "uc_newmodel", "a new comment")
        assert commented.updated_at > renamed.updated_at
        with pytest.raises(uc.ApiException) as info:  # the old name is gone
            await models.get_registered_model(full)
        assert _error(info) == (404, "NOT_FOUND")

        # Its catalog renamed, the model follows: same id, same comment, under the new name.
        await catalogs.update_catalog("uc_testcatalog", uc.UpdateCatalog(new_name="uc_newcatalog"))
        new_full = "uc_newcatalog.uc_testschema.uc_newmodel"
        moved = await models.get_registered_model(new_full)
        assert (moved.id, moved.catalog_name, moved.comment) == (
            model.id, "uc_newcatalog", "a new comment")

        # Deleted, with force false and with force left out.
        await models.delete_registered_model(new_full, force=False)
        await models.create_registered_model(uc.CreateRegisteredModel(
            name="uc_newmodel", catalog_name="uc_newcatalog", schema_name="uc_testschema"))
        await models.delete_registered_model(new_full)
        page = await models.list_registered_models(catalog_name="uc_newcatalog",
                                                   schema_name="uc_testschema")
        assert [m.name for m in page.registered_models] == ["uc_common"]

        # A catalog deleted with force takes its schemas and models with it.
        await catalogs.delete_catalog("uc_newcatalog", force=True)
        await catalogs.delete_catalog("uc_testcatalog2", force=True)
        for gone in (schemas.get_schema("uc_newcatalog.uc_testschema"),
                     models.get_registered_model("uc_newcatalog.uc_testschema.uc_common")):
            with pytest.raises(uc.ApiException) as info:
                await gone
            assert info.value.status == 404
        assert (await models.list_registered_models()).registered_models == []
        # Listing a schema that is not there says which parent is missing, as UC's server does.
        for catalog, schema, code in (("uc_testcatalog", "uc_testschema", "CATALOG_NOT_FOUND"),
                                      ("unity", "uc_testschema", "SCHEMA_NOT_FOUND")):
            with pytest.raises(uc.ApiException) as info:
                await models.list_registered_models(catalog_name=catalog, schema_name=schema)
            assert _error(info) == (404, code)


async def test_version_life_cycle(live) -> None:
    full = "unity.default.uc_testmodel"
    async with _sdk(live.url) as api:
        models, versions = uc.RegisteredModelsApi(api), uc.ModelVersionsApi(api)
        await models.create_registered_model(uc.CreateRegisteredModel(
            name="uc_testmodel", catalog_name="unity", schema_name="default"))
        create = uc.CreateModelVersion(catalog_name="unity", schema_name="default",
                                       model_name="uc_testmodel", comment="a version",
                                       source="file:///tmp/source", run_id="run-1")
        first = await versions.create_model_version(create)
        assert (first.catalog_name, first.schema_name, first.model_name, first.comment,
                first.run_id, first.source, first.status, first.version) == (
            "unity", "default", "uc_testmodel", "a version", "run-1", "file:///tmp/source",
            uc.ModelVersionStatus.PENDING_REGISTRATION, 1)
        assert first.created_at and first.updated_at and first.id
        second = await versions.create_model_version(create)
        assert second.version == 2

        # A version without a source is refused (the SDK itself will not send one: over HTTP).
        head = await _head(live)
        status, err = await live.call("POST", f"{UC}/models/versions", json={
            "catalog_name": "unity", "schema_name": "default", "model_name": "uc_testmodel"})
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
        assert await _head(live) == head

        assert await versions.get_model_version(full, 2) == second
        await versions.delete_model_version(full, 2)
        with pytest.raises(uc.ApiException) as info:
            await versions.get_model_version(full, 2)
        assert _error(info) == (404, "NOT_FOUND")
        # A deleted version's number is never given again.
        third = await versions.create_model_version(create)
        assert third.version == 3

        listed = (await versions.list_model_versions(full)).model_versions
        assert listed == [first, third]
        # UC's test pages with the token "1"; Modelog's tokens are opaque (see above).
        page = await versions.list_model_versions(full, max_results=1)
        assert page.model_versions == [first] and page.next_page_token
        page = await versions.list_model_versions(full, page_token=page.next_page_token)
        assert page.model_versions == [third] and not page.next_page_token

        updated = await versions.update_model_version(
            full, 3, uc.UpdateModelVersion(comment="a new comment"))
        assert updated.comment == "a new comment"
        for same in ("catalog_name", "schema_name", "model_name", "run_id", "source", "status",
                     "version", "storage_location", "created_at", "id"):
            assert getattr(updated, same) == getattr(third, same), same
        assert updated.updated_at != third.updated_at
        assert await versions.get_model_version(full, 3) == updated
        # An update with nothing to change is refused (UC's "No updated fields defined.") and
        # leaves the comment alone.
        head = await _head(live)
        status, err = await live.call("PATCH", f"{UC}/models/{full}/versions/3", json={})
        assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
        assert await _head(live) == head
        assert (await versions.get_model_version(full, 3)).comment == "a new comment"

        done = await versions.finalize_model_version(
            full, 3, uc.FinalizeModelVersion(full_name=full, version=3))
        assert (done.status, done.id) == (uc.ModelVersionStatus.READY, updated.id)
        with pytest.raises(uc.ApiException) as info:  # only a pending version is finalized
            await versions.finalize_model_version(
                full, 3, uc.FinalizeModelVersion(full_name=full, version=3))
        assert _error(info) == (400, "INVALID_ARGUMENT")

        # A model with versions is deleted only with force, which takes its versions too.
        with pytest.raises(uc.ApiException) as info:
            await models.delete_registered_model(full, force=False)
        assert _error(info) == (409, "ABORTED")
        assert (await models.get_registered_model(full)).full_name == full
        await models.delete_registered_model(full, force=True)
        for gone in (models.delete_registered_model(full, force=True),
                     versions.get_model_version(full, 3), models.get_registered_model(full)):
            with pytest.raises(uc.ApiException) as info:
                await gone
            assert _error(info) == (404, "NOT_FOUND")


async def test_paging_covers_models_that_share_a_name(live) -> None:
    """Model names are unique only within a schema: paging the whole metastore sees all three."""
    async with _sdk(live.url) as api:
        models = uc.RegisteredModelsApi(api)
        await uc.CatalogsApi(api).create_catalog(uc.CreateCatalog(name="other"))
        await uc.SchemasApi(api).create_schema(uc.CreateSchema(name="s", catalog_name="other"))
        for catalog, schema, name in (("unity", "default", "m"), ("other", "s", "m"),
                                      ("unity", "default", "m_two")):
            await models.create_registered_model(uc.CreateRegisteredModel(
                name=name, catalog_name=catalog, schema_name=schema))
        seen, token = [], None
        for _ in range(3):
            page = await models.list_registered_models(max_results=1, page_token=token)
            assert len(page.registered_models) == 1
            seen += [m.full_name for m in page.registered_models]
            token = page.next_page_token
            assert bool(token) == (len(seen) < 3)  # the last page says it is the last
        assert sorted(seen) == ["other.s.m", "unity.default.m", "unity.default.m_two"]
        # An empty name is no name (UC's server): the whole metastore.
        status, page = await live.call("GET", f"{UC}/models", params={"catalog_name": "",
                                                                       "schema_name": ""})
        assert status == 200 and len(page["registered_models"]) == 3

        for kwargs, message in (
                ({"max_results": -1}, "maxResults must be greater than or equal to 0"),
                ({"max_results": 1, "page_token": "not_a_page_token"},
                 "Invalid page token received: not_a_page_token")):
            with pytest.raises(uc.ApiException) as info:
                await models.list_registered_models(**kwargs)
            assert _error(info) == (400, "INVALID_ARGUMENT"), kwargs
            assert json.loads(info.value.body)["message"] == message


async def test_what_is_not_there_is_named_as_unity_catalog_names_it(live) -> None:
    """UC's server says which parent is missing (its RepositoryUtils and PermissionService)."""
    head = await _head(live)
    version = {"model_name": "m", "source": "s3://r/1"}
    for method, path, body, code, message in (
            ("POST", f"{UC}/models/versions", {**version, "catalog_name": "nocat",
                                               "schema_name": "s"},
             "CATALOG_NOT_FOUND", "Catalog not found: nocat"),
            ("POST", f"{UC}/models/versions", {**version, "catalog_name": "unity",
                                               "schema_name": "nos"},
             "SCHEMA_NOT_FOUND", "Schema not found: unity.nos"),
            ("POST", f"{UC}/models/versions", {**version, "catalog_name": "unity",
                                               "schema_name": "default"},
             "NOT_FOUND", "Registered model not found: unity.default.m"),
            ("GET", f"{UC}/permissions/catalog/nocat", None,
             "CATALOG_NOT_FOUND", "Catalog not found: nocat"),
            ("GET", f"{UC}/permissions/schema/unity.nos", None,
             "SCHEMA_NOT_FOUND", "Schema not found: unity.nos"),
            ("PATCH", f"{UC}/permissions/registered_model/unity.default.m", {"changes": []},
             "NOT_FOUND", "Registered model not found: unity.default.m"),
            ("GET", f"{UC}/permissions/registered_model/unity.default.m", None,
             "NOT_FOUND", "Registered model not found: unity.default.m")):
        status, err = await live.call(method, path, json=body)
        assert (status, err["error_code"], err["message"]) == (404, code, message), path
    # A name that cannot be one is a bad request, before anything is looked up.
    status, err = await live.call("POST", f"{UC}/models/versions", json={
        **version, "catalog_name": "", "schema_name": "s"})
    assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
    status, err = await live.call("GET", f"{UC}/models", params={"catalog_name": "unity",
                                                                  "schema_name": "a b"})
    assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
    assert await _head(live) == head


# --- temporary credentials on a file: root (UC's SdkTemporaryModelVersionCredentialTest) ---------


async def test_temporary_credentials_refusals(live) -> None:
    ask = {"catalog_name": "unity", "schema_name": "default", "model_name": "m"}
    await live.call("POST", f"{UC}/models", json={"name": "m", "catalog_name": "unity",
                                                  "schema_name": "default"})
    locations = {}
    for n in range(1, 4):
        status, mv = await live.call("POST", f"{UC}/models/versions", json={
            "model_name": "m", "catalog_name": "unity", "schema_name": "default",
            "source": f"s3://runs/{n}"})
        assert status == 200
        locations[n] = mv["storage_location"]
    # Version 2 failed its registration (Modelog's own API records that), 3 is ready.
    status, _ = await live.call("POST", f"{V1}/models/unity.default.m/versions/2/finalize",
                                json={"status": "FAILED_REGISTRATION"})
    assert status == 200
    status, _ = await live.call("PATCH", f"{UC}/models/unity.default.m/versions/3/finalize",
                                json={"full_name": "unity.default.m", "version": 3})
    assert status == 200

    # UC refuses any credential for a file: location; Modelog deliberately answers one that
    # names the folder and never expires, for MLflow's `uc:` client writes there itself.
    status, got = await live.call("POST", CREDENTIALS, json={
        **ask, "version": 1, "operation": "READ_WRITE_MODEL_VERSION"})
    assert (status, got) == (200, {"url": locations[1], "expiration_time": 0})

    # UC's status MODEL_VERSION_STATUS_UNKNOWN does not exist in Modelog: no case for it.
    head = await _head(live)
    for version, operation, code, message in (
            (2, "READ_WRITE_MODEL_VERSION", "INVALID_ARGUMENT", "FAILED_REGISTRATION"),
            (2, "READ_MODEL_VERSION", "INVALID_ARGUMENT", "FAILED_REGISTRATION"),
            (3, "READ_WRITE_MODEL_VERSION", "INVALID_ARGUMENT",
             "Cannot request read/write credentials on a model version that has been finalized: "
             "unity.default.m/3"),
            (1, "UNKNOWN_MODEL_VERSION_OPERATION", "INVALID_ARGUMENT", "operation"),
            (2**63, "READ_MODEL_VERSION", "INVALID_ARGUMENT", "version"),  # beyond int64
            (-1, "READ_MODEL_VERSION", "NOT_FOUND", "unity.default.m/-1"),
            (2**40, "READ_MODEL_VERSION", "NOT_FOUND", "Model version not found"),
    ):
        status, err = await live.call("POST", CREDENTIALS, json={
            **ask, "version": version, "operation": operation})
        assert (status, err["error_code"]) == ((400 if code == "INVALID_ARGUMENT" else 404),
                                               code), (version, operation, err)
        assert message in err["message"], err
    status, err = await live.call("POST", CREDENTIALS, json={
        **ask, "model_name": "nope", "version": 1, "operation": "READ_MODEL_VERSION"})
    assert (status, err["error_code"]) == (404, "NOT_FOUND")
    status, err = await live.call("POST", CREDENTIALS, json={**ask, "version": 1})
    assert (status, err["error_code"]) == (400, "INVALID_ARGUMENT")
    assert await _head(live) == head
    # Reading a ready version is fine.
    status, got = await live.call("POST", CREDENTIALS, json={
        **ask, "version": 3, "operation": "READ_MODEL_VERSION"})
    assert (status, got) == (200, {"url": locations[3], "expiration_time": 0})


# --- who may do what to a model (UC's SdkModelAccessControlCRUDTest) ---------------------------


@pytest.fixture
async def principals(db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]
                     ) -> AsyncIterator[tuple[Any, dict[str, str]]]:
    """A tokens-mode server with cat_pr1.sch_pr1 and tokens for admin, principal-1, principal-2.

    In UC principal-1 creates the catalog and schema with CREATE CATALOG on the metastore;
    Modelog has no metastore grants, so the admin creates them."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0,
                       storage_root=f"file://{tmp_path}/artifacts") as server:
        tokens = {"admin": BOOTSTRAP.findall(capsys.readouterr().err)[0]}
        for name in ("principal-1", "principal-2"):
            _, issued, _ = await call(server, "POST", f"{V1}/tokens", tokens["admin"],
                                      json={"principal": name})
            tokens[name] = issued["token"]
        for path, body in ((f"{UC}/catalogs", {"name": "cat_pr1"}),
                           (f"{UC}/schemas", {"name": "sch_pr1", "catalog_name": "cat_pr1"})):
            status, answer, _ = await call(server, "POST", path, tokens["admin"], json=body)
            assert status == 200, answer
        yield server, tokens


async def test_model_access(principals) -> None:
    server, tokens = principals
    model = "cat_pr1.sch_pr1.mod_pr1"
    await grant(server, "catalog", "cat_pr1", "principal-1", "USE CATALOG")
    await grant(server, "schema", "cat_pr1.sch_pr1", "principal-1", "USE SCHEMA", "CREATE MODEL")
    # UC grants principal-2 only USE SCHEMA; with USE CATALOG too, what is denied below is
    # denied for want of a privilege on the model itself, not on its catalog.
    await grant(server, "catalog", "cat_pr1", "principal-2", "USE CATALOG")
    await grant(server, "schema", "cat_pr1.sch_pr1", "principal-2", "USE SCHEMA")

    async with _sdk(server.url, tokens["principal-1"]) as one, \
            _sdk(server.url, tokens["principal-2"]) as two:
        models1, versions1 = uc.RegisteredModelsApi(one), uc.ModelVersionsApi(one)
        models2, versions2 = uc.RegisteredModelsApi(two), uc.ModelVersionsApi(two)

        async def denied(attempt: Any) -> None:
            with pytest.raises(uc.ApiException) as info:
                await attempt
            assert _error(info) == (403, "PERMISSION_DENIED")

        async def listed(api: uc.RegisteredModelsApi) -> list[str]:
            page = await api.list_registered_models(catalog_name="cat_pr1", schema_name="sch_pr1")
            return [m.full_name for m in page.registered_models]

        created = await models1.create_registered_model(uc.CreateRegisteredModel(
            name="mod_pr1", catalog_name="cat_pr1", schema_name="sch_pr1"))
        assert (created.name, created.owner) == ("mod_pr1", "principal-1")
        with pytest.raises(uc.ApiException) as info:  # no CREATE MODEL for principal-2
            await models2.create_registered_model(uc.CreateRegisteredModel(
                name="mod_pr2", catalog_name="cat_pr1", schema_name="sch_pr1"))
        assert _error(info) == (403, "PERMISSION_DENIED")

        assert (await models1.get_registered_model(model)).full_name == model
        await denied(models2.get_registered_model(model))
        assert await listed(models1) == [model]
        assert await listed(models2) == []

        updated = await models1.update_registered_model(model,
                                                        uc.UpdateRegisteredModel(comment="hello"))
        assert updated.comment == "hello"
        await denied(models2.update_registered_model(model,
                                                     uc.UpdateRegisteredModel(comment="hello2")))

        create = uc.CreateModelVersion(catalog_name="cat_pr1", schema_name="sch_pr1",
                                       model_name="mod_pr1", source="model_source")
        assert (await versions1.create_model_version(create)).version == 1
        await denied(versions2.create_model_version(create))
        assert (await versions1.get_model_version(model, 1)).version == 1
        await denied(versions2.get_model_version(model, 1))
        assert len((await versions1.list_model_versions(model)).model_versions) == 1
        await denied(versions2.list_model_versions(model))
        changed = await versions1.update_model_version(model, 1,
                                                       uc.UpdateModelVersion(comment="hello"))
        assert changed.comment == "hello"
        await denied(versions2.update_model_version(model, 1,
                                                    uc.UpdateModelVersion(comment="hello2")))

        # Temporary credentials, as UC's TemporaryModelVersionCredentialsService authorizes them:
        # reading needs EXECUTE (or ownership), read-write on a pending version more than that.
        read, write = (uc.ModelVersionOperation.READ_MODEL_VERSION,
                       uc.ModelVersionOperation.READ_WRITE_MODEL_VERSION)

        def ask(operation: uc.ModelVersionOperation) -> Any:
            return uc.GenerateTemporaryModelVersionCredential(
                catalog_name="cat_pr1", schema_name="sch_pr1", model_name="mod_pr1", version=1,
                operation=operation)

        creds1, creds2 = uc.TemporaryCredentialsApi(one), uc.TemporaryCredentialsApi(two)
        # (A file: root: nothing to sign, so the answer never expires. The SDK at hand predates
        # the spec's `url` and drops it.)
        got = await creds1.generate_temporary_model_version_credentials(ask(write))
        assert got.expiration_time == 0
        await denied(creds2.generate_temporary_model_version_credentials(ask(read)))
        # The owner grants EXECUTE: principal-2 may now read the version and its files, and
        # still neither write them nor change the version.
        await uc.GrantsApi(one).update(uc.SecurableType.REGISTERED_MODEL, model, uc.UpdatePermissions(
            changes=[uc.PermissionsChange(principal="principal-2", add=[uc.Privilege.EXECUTE],
                                          remove=[])]))
        got = await creds2.generate_temporary_model_version_credentials(ask(read))
        assert got.expiration_time == 0
        assert (await versions2.get_model_version(model, 1)).comment == "hello"
        await denied(creds2.generate_temporary_model_version_credentials(ask(write)))
        await denied(versions2.update_model_version(model, 1,
                                                    uc.UpdateModelVersion(comment="hello2")))

        await denied(versions2.delete_model_version(model, 1))
        await versions1.delete_model_version(model, 1)
        assert (await versions1.list_model_versions(model)).model_versions == []

        await denied(models2.delete_registered_model(model, force=False))
        await models1.delete_registered_model(model, force=False)
        assert await listed(models1) == []
