"""MLflow's own client (`http://` registry URI), unchanged, gets what MLflow's server would give:
its names byte for byte, its error messages, its fields, its search order, the reserved `latest`
alias, copies that use the original's files, and its refusals of unsafe sources."""

import pytest

from tests.support.mlflow_client import client_for, refused, run

V1 = "/api/modelog/v1"


NAMES = ["my.model", "prod.fraud.scorer", "Model With Spaces 2", "-leading-hyphen",
         "someone@corp.example", "trailing.", "x" * 256, "модель v2"]


async def test_every_name_mlflow_takes_comes_back_byte_for_byte(live) -> None:
    client = client_for(live)
    for name in NAMES:
        created = await run(client.create_registered_model, name)
        assert created.name == name
        assert (await run(client.get_registered_model, name)).name == name
        mv = await run(client.create_model_version, name, f"s3://b/{len(name)}/1")
        assert mv.name == name and mv.version == "1"
        found = await run(client.search_model_versions, f"name = '{name.replace(chr(39), '')}'")
        assert [(v.name, v.version) for v in found] == [(name, "1")]
        # The registry holds it in the workspace schema under exactly that name.
        status, model = await live.call("GET", f"{V1}/models/unity.default.{name}")
        assert status == 200 and model["name"] == name and model["schema_name"] == "default"
    assert {m.name for m in await run(client.search_registered_models)} == set(NAMES)
    # Dotted names are one level: the parts are not models, nor the names' prefixes.
    assert (await refused(client.get_registered_model, "prod")).error_code == \
        "RESOURCE_DOES_NOT_EXIST"
    await run(client.rename_registered_model, "my.model", "my.model v2")
    assert (await run(client.get_registered_model, "my.model v2")).name == "my.model v2"
    for bad in ("a/b", "a:b", "..", "x" * 257):
        assert (await refused(client.create_registered_model, bad)).error_code == \
            "INVALID_PARAMETER_VALUE"


async def test_errors_are_worded_as_mlflows_server_words_them(live) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "m")
    await run(client.create_model_version, "m", "s3://b/m/1")
    cases = [
        (lambda: client.create_registered_model("m"), "RESOURCE_ALREADY_EXISTS",
         "Registered Model (name=m) already exists."),
        (lambda: client.get_registered_model("nope"), "RESOURCE_DOES_NOT_EXIST",
         "Registered Model with name=nope not found"),
        (lambda: client.get_model_version("m", "7"), "RESOURCE_DOES_NOT_EXIST",
         "Model Version (name=m, version=7) not found"),
        (lambda: client.get_model_version("nope", "1"), "RESOURCE_DOES_NOT_EXIST",
         "Model Version (name=nope, version=1) not found"),
        (lambda: client.get_model_version("m", "one"), "INVALID_PARAMETER_VALUE",
         "Parameter 'version' must be an integer, got 'one'."),
        (lambda: client.set_registered_model_alias("m", "champion", "7"),
         "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=7) not found"),
        (lambda: client.get_model_version_by_alias("m", "nope"), "INVALID_PARAMETER_VALUE",
         "Registered model alias nope not found."),
        (lambda: client.set_registered_model_alias("m", "v3", "1"), "INVALID_PARAMETER_VALUE",
         "Version alias name 'v3' is reserved."),
        (lambda: client.transition_model_version_stage("m", "1", "Live"),
         "INVALID_PARAMETER_VALUE", "Invalid Model Version stage: Live. Value must be one of "
                                    "None, Staging, Production, Archived."),
        (lambda: client.rename_registered_model("nope", "other"), "RESOURCE_DOES_NOT_EXIST",
         "Registered Model with name=nope not found"),
    ]
    for call, code, message in cases:
        err = await refused(call)
        assert (err.error_code, err.message) == (code, f"{code}: {message}"), message
        assert "unity.default" not in err.message
    # Deleting what is not there is not an error in MLflow: nothing to do, nothing appended.
    _, before = await live.call("GET", f"{V1}/audit/verify")
    await run(client.delete_registered_model_tag, "m", "missing")
    await run(client.delete_model_version_tag, "m", "1", "missing")
    await run(client.delete_registered_model_alias, "m", "missing")
    _, after = await live.call("GET", f"{V1}/audit/verify")
    assert after["head_position"] == before["head_position"]


async def test_fields_are_mlflows_and_latest_is_the_highest_version(live) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "f")
    plain = await run(client.create_model_version, "f", "s3://b/f/1")
    assert (plain.description, plain.run_link, plain.run_id) == ("", "", "")
    status, raw = await live.call("GET", "/api/2.0/mlflow/model-versions/get",
                                  params={"name": "f", "version": "1"})
    assert status == 200
    assert raw["model_version"]["description"] == "" and raw["model_version"]["run_link"] == ""
    assert "tags" not in raw["model_version"]  # protobuf JSON leaves empty lists out
    await run(client.create_model_version, "f", "runs:/r2/model", run_id="r2")
    await run(client.transition_model_version_stage, "f", "1", "Production")
    assert (await run(client.get_model_version_by_alias, "f", "latest")).version == "2"
    await run(client.create_model_version, "f", "s3://b/f/3")
    assert (await run(client.get_model_version_by_alias, "f", "LATEST")).version == "3"
    await run(client.create_registered_model, "empty")
    err = await refused(client.get_model_version_by_alias, "empty", "latest")
    assert err.error_code == "RESOURCE_DOES_NOT_EXIST"


async def test_search_orders_as_mlflow_does(live) -> None:
    client = client_for(live)
    for name in ("b", "a"):
        await run(client.create_registered_model, name)
        for n in (1, 2):
            await run(client.create_model_version, name, f"s3://b/{name}/{n}")
    await run(client.update_model_version, "b", "1", description="touched last")
    # By default: last updated first, then name ascending, then version descending.
    found = await run(client.search_model_versions)
    assert [(v.name, v.version) for v in found][:1] == [("b", "1")]
    assert [(v.name, v.version) for v in found][1:] == [("a", "2"), ("a", "1"), ("b", "2")]
    by_name = await run(client.search_model_versions, order_by=["name DESC"])
    assert [(v.name, v.version) for v in by_name] == [("b", "2"), ("b", "1"), ("a", "2"),
                                                      ("a", "1")]
    page = await run(client.search_model_versions, max_results=3)
    rest = await run(client.search_model_versions, max_results=3, page_token=page.token)
    assert [(v.name, v.version) for v in [*page, *rest]] == [(v.name, v.version) for v in found]
    assert all(v.aliases == [] for v in found)  # as MLflow's search: no aliases listed


async def test_a_copy_uses_the_originals_files_and_lineage(live) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "src")
    await run(client.create_model_version, "src", "runs:/r1/model", run_id="r1")
    await run(client.set_registered_model_alias, "src", "champion", "1")
    copy = await run(client.copy_model_version, "models:/src@champion", "dst")
    assert (copy.name, copy.version, copy.source, copy.run_id) == \
        ("dst", "1", "models:/src/1", "r1")
    assert await run(client.get_model_version_download_uri, "dst", "1") == "runs:/r1/model"
    err = await refused(client.create_model_version, "dst", "models:/src/1", run_id="other")
    assert "must match the referenced model version" in err.message
    err = await refused(client.copy_model_version, "models:/nope/1", "dst")
    assert "Model Version (name=nope, version=1) not found" in err.message  # the client looks first
    err = await refused(client.create_model_version, "dst", "models:/nope/1")
    assert err.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(("source", "run_id"), [
    ("s3a://b/artifacts/../../..", None), ("http://host/models/../../", None),
    ("s3://b/a%2F..%2F..%2Fsecret", None), ("/etc/passwd", None), ("file:///etc/passwd", "r1"),
    ("runs:/abc/model", None), ("runs:/abc/model", "def"), ("mlflow-artifacts:/0/r/x", "r"),
])
async def test_unsafe_sources_are_refused_and_never_handed_back(live, source: str,
                                                                run_id: str | None) -> None:
    client = client_for(live)
    await run(client.create_registered_model, "s")
    err = await refused(client.create_model_version, "s", source, run_id=run_id)
    assert err.error_code == "INVALID_PARAMETER_VALUE"
    assert err.message.startswith("INVALID_PARAMETER_VALUE: Invalid model version source:")
    assert await run(client.search_model_versions, "name = 's'") == []
