"""The `unitycatalog-client` async SDK against a real Modelog server."""

import pytest
import unitycatalog.client as uc

V1 = "/api/modelog/v1"


async def test_catalogs_schemas_models_versions_and_paging(live) -> None:
    config = uc.Configuration(host=f"{live.url}/api/2.1/unity-catalog")
    async with uc.ApiClient(config) as api:
        catalogs, schemas = uc.CatalogsApi(api), uc.SchemasApi(api)
        models, versions = uc.RegisteredModelsApi(api), uc.ModelVersionsApi(api)

        cat = await catalogs.create_catalog(uc.CreateCatalog(name="prod", comment="production"))
        assert (cat.name, cat.comment, cat.owner) == ("prod", "production", "admin")
        listed = await catalogs.list_catalogs()
        assert sorted(c.name for c in listed.catalogs) == ["prod", "unity"]
        with pytest.raises(uc.ApiException) as info:
            await catalogs.create_catalog(uc.CreateCatalog(name="prod"))
        assert info.value.status == 400  # Unity Catalog's CATALOG_ALREADY_EXISTS is a 400

        schema = await schemas.create_schema(uc.CreateSchema(name="fraud", catalog_name="prod"))
        assert schema.full_name == "prod.fraud"
        got = await schemas.get_schema("prod.fraud")
        assert got.catalog_name == "prod" and got.name == "fraud"

        for i in range(57):
            await models.create_registered_model(uc.CreateRegisteredModel(
                name=f"m{i:02d}", catalog_name="prod", schema_name="fraud", comment=f"#{i}"))
        names, token = [], None
        while True:
            page = await models.list_registered_models(catalog_name="prod", schema_name="fraud",
                                                       max_results=50, page_token=token)
            assert len(page.registered_models) <= 50
            names += [m.name for m in page.registered_models]
            token = page.next_page_token
            if not token:
                break
        assert names == [f"m{i:02d}" for i in range(57)]

        for n in range(1, 4):
            mv = await versions.create_model_version(uc.CreateModelVersion(
                model_name="m07", catalog_name="prod", schema_name="fraud",
                source=f"s3://runs/{n}", run_id=f"run{n}"))
            assert mv.version == n and mv.status == "PENDING_REGISTRATION"
            model_id = (await models.get_registered_model("prod.fraud.m07")).id
            assert mv.storage_location.endswith(f"/models/{model_id}/versions/{n}")
        mv = await versions.finalize_model_version(
            "prod.fraud.m07", 2, uc.FinalizeModelVersion(full_name="prod.fraud.m07", version=2))
        assert mv.status == "READY"
        page = await versions.list_model_versions("prod.fraud.m07", max_results=2)
        assert [v.version for v in page.model_versions] == [1, 2] and page.next_page_token
        page = await versions.list_model_versions("prod.fraud.m07", max_results=2,
                                                  page_token=page.next_page_token)
        assert [v.version for v in page.model_versions] == [3] and not page.next_page_token
        mv = await versions.update_model_version("prod.fraud.m07", 3,
                                                 uc.UpdateModelVersion(comment="third"))
        assert mv.comment == "third"
        await versions.delete_model_version("prod.fraud.m07", 3)
        with pytest.raises(uc.ApiException) as info:
            await versions.get_model_version("prod.fraud.m07", 3)
        assert info.value.status == 404

        model = await models.get_registered_model("prod.fraud.m07")
        assert model.full_name == "prod.fraud.m07" and model.comment == "#7"
    # The same change through the native API: one registry, three surfaces.
    status, native = await live.call("GET", f"{V1}/models/prod.fraud.m07/versions")
    assert status == 200 and [v["version"] for v in native["model_versions"]] == [1, 2]


async def test_grants_beyond_unity_catalogs_spec_do_not_break_its_sdk(live) -> None:
    """MANAGE, APPLY TAG and ALL PRIVILEGES are granted on the native API; the UC surface
    answers within UC's spec (ALL PRIVILEGES as the UC privileges it includes there), so the
    SDK parses every answer, and the native API still shows all of them."""
    await live.call("POST", f"{V1}/models", json={"name": "unity.default.g"})
    changes = [{"principal": "alice", "add": ["MANAGE", "EXECUTE"]},
               {"principal": "bob", "add": ["ALL PRIVILEGES"]},
               {"principal": "carol", "add": ["APPLY TAG"]}]
    status, native = await live.call("PATCH", f"{V1}/permissions/registered_model/unity.default.g",
                                     json={"changes": changes})
    assert status == 200
    assert {a["principal"]: a["privileges"] for a in native["privilege_assignments"]} == {
        "alice": ["EXECUTE", "MANAGE"], "bob": ["ALL PRIVILEGES"], "carol": ["APPLY TAG"]}
    config = uc.Configuration(host=f"{live.url}/api/2.1/unity-catalog")
    async with uc.ApiClient(config) as api:
        got = await uc.GrantsApi(api).get(uc.SecurableType.REGISTERED_MODEL, "unity.default.g")
        assert {a.principal: sorted(p.value for p in a.privileges)
                for a in got.privilege_assignments} == {"alice": ["EXECUTE"], "bob": ["EXECUTE"]}
        await live.call("PATCH", f"{V1}/permissions/schema/unity.default", json={
            "changes": [{"principal": "bob", "add": ["ALL PRIVILEGES"]}]})
        got = await uc.GrantsApi(api).get(uc.SecurableType.SCHEMA, "unity.default")
        assert {a.principal: sorted(p.value for p in a.privileges)
                for a in got.privilege_assignments} == {
            "bob": ["CREATE MODEL", "EXECUTE", "USE SCHEMA"]}
