"""The real MLflow client, `http://` registry URI, against a real Modelog server."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from tests.support.mlflow_client import client_for, error_code, run

V1 = "/api/modelog/v1"


async def test_classic_registry_flow(live) -> None:
    client = client_for(live)
    rm = await run(client.create_registered_model, "fraud-scorer", tags={"team": "risk"},
                   description="scores transactions")
    assert rm.name == "fraud-scorer" and rm.tags == {"team": "risk"}
    assert await error_code(client.create_registered_model, "fraud-scorer") == \
        "RESOURCE_ALREADY_EXISTS"
    assert await error_code(client.get_registered_model, "nope") == "RESOURCE_DOES_NOT_EXIST"

    # search sends the prompt filter: tag.`mlflow.prompt.is_prompt` != 'true'
    # (the client refuses to make prompts into models; MLflow's prompt registry posts this)
    status, _ = await live.call("POST", "/api/2.0/mlflow/registered-models/create", json={
        "name": "a-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    assert status == 200
    found = await run(client.search_registered_models)
    assert [m.name for m in found] == ["fraud-scorer"]
    found = await run(client.search_registered_models, filter_string="name LIKE 'fraud%'")
    assert [m.name for m in found] == ["fraud-scorer"]

    versions = [await run(client.create_model_version, "fraud-scorer", f"s3://b/fraud/{n}",
                          run_id=f"run{n}", tags={"n": str(n)}) for n in (1, 2, 3)]
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert {v.status for v in versions} == {"READY"} and versions[0].current_stage == "None"
    assert versions[1].tags == {"n": "2"} and versions[1].run_id == "run2"

    await run(client.set_registered_model_tag, "fraud-scorer", "tier", "gold")
    await run(client.set_model_version_tag, "fraud-scorer", "2", "validated", "yes")
    await run(client.delete_registered_model_tag, "fraud-scorer", "team")
    await run(client.update_model_version, "fraud-scorer", "2", description="v2 is good")
    mv = await run(client.get_model_version, "fraud-scorer", "2")
    assert mv.tags == {"n": "2", "validated": "yes"} and mv.description == "v2 is good"

    await run(client.set_registered_model_alias, "fraud-scorer", "champion", "2")
    mv = await run(client.get_model_version_by_alias, "fraud-scorer", "champion")
    assert mv.version == "2" and mv.aliases == ["champion"]
    rm = await run(client.get_registered_model, "fraud-scorer")
    assert rm.aliases == {"champion": "2"} and rm.tags == {"tier": "gold"}

    await run(client.transition_model_version_stage, "fraud-scorer", "1", "Production")
    await run(client.transition_model_version_stage, "fraud-scorer", "2", "staging")
    moved = await run(client.transition_model_version_stage, "fraud-scorer", "2", "Production",
                      archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert (await run(client.get_model_version, "fraud-scorer", "1")).current_stage == "Archived"
    latest = await run(client.get_latest_versions, "fraud-scorer", stages=["Production"])
    assert [(v.version, v.current_stage) for v in latest] == [("2", "Production")]
    latest = await run(client.get_latest_versions, "fraud-scorer")
    assert sorted((v.current_stage, v.version) for v in latest) == [
        ("Archived", "1"), ("None", "3"), ("Production", "2")]

    found = await run(client.search_model_versions, "name='fraud-scorer' AND run_id IN "
                      "('run1', 'run3')")
    assert sorted(v.version for v in found) == ["1", "3"]
    found = await run(client.search_model_versions, "name = 'fraud-scorer' AND "
                      "version_number >= 2")
    assert sorted(v.version for v in found) == ["2", "3"]
    uri = await run(client.get_model_version_download_uri, "fraud-scorer", "3")
    assert uri == "s3://b/fraud/3"

    await run(client.rename_registered_model, "fraud-scorer", "fraud-scorer-v2")
    assert await error_code(client.get_registered_model, "fraud-scorer") == \
        "RESOURCE_DOES_NOT_EXIST"
    mv = await run(client.get_model_version_by_alias, "fraud-scorer-v2", "champion")
    assert mv.name == "fraud-scorer-v2" and mv.version == "2"

    await run(client.delete_registered_model_alias, "fraud-scorer-v2", "champion")
    # MLflow's server calls an alias that is not there an invalid parameter, not a missing one.
    assert await error_code(client.get_model_version_by_alias, "fraud-scorer-v2",
                            "champion") == "INVALID_PARAMETER_VALUE"
    await run(client.delete_model_version, "fraud-scorer-v2", "3")
    assert await error_code(client.get_model_version, "fraud-scorer-v2", "3") == \
        "RESOURCE_DOES_NOT_EXIST"
    await run(client.delete_registered_model, "fraud-scorer-v2")
    assert await error_code(client.get_registered_model, "fraud-scorer-v2") == \
        "RESOURCE_DOES_NOT_EXIST"
    # Every one of those changes is in the log.
    types = [r["type"] for r in await live.pool.fetch("SELECT type FROM events ORDER BY position")]
    assert types.count("VersionStageTransitioned") == 4 and types[-1] == "ModelDeleted"


async def test_16_threads_register_versions_of_one_model(live) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "busy")

    def register(i: int) -> str:
        return client_for(live).create_model_version(
            "busy", f"s3://b/busy/{i}").version

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=16) as threads:  # 16 clients at once, 3 versions each
        numbers = await asyncio.gather(*(loop.run_in_executor(threads, register, i)
                                         for i in range(48)))
    assert sorted(int(n) for n in numbers) == list(range(1, 49))


async def test_search_pages_are_complete_and_stable_while_writing(live) -> None:
    client = client_for(live)
    for i in range(7):
        await run(client.create_registered_model, f"m{i}")
    for v in range(5):
        await run(client.create_model_version, "m3", f"s3://b/{v}")
    seen, token = [], None
    while True:
        page = await run(client.search_registered_models, max_results=3, page_token=token,
                         order_by=["name DESC"])
        seen += [m.name for m in page]
        if len(seen) == 3:  # a write between pages moves nothing already paged
            await run(client.create_registered_model, "m0a")
        token = page.token
        if not token:
            break
    assert seen == ["m6", "m5", "m4", "m3", "m2", "m1", "m0a", "m0"]
    versions, token = [], None
    while True:
        page = await run(client.search_model_versions, "name='m3'", max_results=2,
                         order_by=["version_number ASC"], page_token=token)
        versions += [int(v.version) for v in page]
        token = page.token
        if not token:
            break
    assert versions == [1, 2, 3, 4, 5]


async def test_bad_searches_are_400s(live) -> None:
    client = client_for(live)
    for bad in ("name = ", "foo = 'x'", "name = 'a' OR name = 'b'", "version_number > 'x'"):
        assert await error_code(client.search_model_versions, bad) == "INVALID_PARAMETER_VALUE"
    assert await error_code(client.search_registered_models, "nmae = 'x'") == \
        "INVALID_PARAMETER_VALUE"
    status, body = await live.call("GET", "/api/2.0/mlflow/registered-models/search",
                                   params={"page_token": "garbage"})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
    status, body = await live.call("GET", "/api/2.0/mlflow/nope")
    assert status == 404 and body["error_code"] == "ENDPOINT_NOT_FOUND"


async def test_one_change_is_visible_through_every_surface(live) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "shared")
    await run(client.create_model_version, "shared", "s3://b/shared/1")
    status, model = await live.call("GET", f"{V1}/models/unity.default.shared")
    assert status == 200 and model["full_name"] == "unity.default.shared"
    status, _ = await live.call("PUT", f"{V1}/models/unity.default.shared/aliases/champion",
                                json={"version": 1})
    assert status == 200
    mv = await run(client.get_model_version_by_alias, "shared", "champion")
    assert mv.version == "1"
    # MLflow's registry is flat: a dotted name is a workspace model's own name, byte for byte,
    # however many dots it has, and a model of another schema is not on MLflow's surface.
    await live.call("POST", f"{V1}/schemas", json={"catalog_name": "unity", "name": "prod"})
    await live.call("POST", f"{V1}/models", json={"name": "unity.prod.scorer"})
    await run(client.create_registered_model, "unity.prod.scorer")
    status, model = await live.call("GET", f"{V1}/models/unity.default.unity.prod.scorer")
    assert status == 200 and model["name"] == "unity.prod.scorer"
    assert model["schema_name"] == "default"
    names = {m.name for m in await run(client.search_registered_models)}
    assert names == {"shared", "unity.prod.scorer"}
    assert {m.name for m in await run(client.search_registered_models,
                                      "name = 'unity.prod.scorer'")} == {"unity.prod.scorer"}
