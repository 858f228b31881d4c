"""Lineage from a tracking server (`--tracking-uri`): MLflow 3 registers a logged model as
`models:/m-<id>` with no run id; Modelog asks the tracking server, as MLflow's own server asks
its tracking store, so the version carries the run id and a run link, downloads from the logged
model's files, and a source inside a run's artifacts is checked against that run."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from mlflow import MlflowClient

from tests.support.mlflow_client import refused, run
from tests.support.mlflow_server import mlflow_server
from tests.support.server import V1, Live, serving


@pytest.fixture(scope="module")
def tracking_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work: Path = tmp_path_factory.mktemp("tracking")
    with mlflow_server(work) as url:
        yield url


@pytest.fixture
async def traced(db_url: str, tmp_path, tracking_url: str) -> AsyncIterator[Live]:
    async with (serving(db_url, tmp_path, tracking_uri=tracking_url) as server,
                aiohttp.ClientSession(server.url) as http):
        yield Live(server.url, server.app, http)


async def test_a_logged_model_registers_with_its_run_and_files(traced, tracking_url: str) -> None:
    tracking = MlflowClient(tracking_uri=tracking_url)
    experiment = await run(tracking.create_experiment, "lineage-a")
    source_run = await run(tracking.create_run, experiment)
    logged = await run(tracking.create_logged_model, experiment, name="scorer",
                       source_run_id=source_run.info.run_id)
    registry = MlflowClient(tracking_uri=tracking_url, registry_uri=traced.url)
    await run(registry.create_registered_model, "scorer")
    mv = await run(registry.create_model_version, "scorer", f"models:/{logged.model_id}",
                   model_id=logged.model_id)
    assert mv.run_id == source_run.info.run_id
    assert mv.run_link == (f"{tracking_url}/#/experiments/{experiment}/runs/"
                           f"{source_run.info.run_id}")
    assert await run(registry.get_model_version_download_uri, "scorer", "1") == \
        logged.artifact_location
    # The native API and the UI read the same version.
    status, version = await traced.call("GET", f"{V1}/models/unity.default.scorer/versions/1")
    assert status == 200 and version["run_id"] == source_run.info.run_id


async def test_sources_inside_a_runs_artifacts_are_checked_against_it(traced,
                                                                     tracking_url: str) -> None:
    tracking = MlflowClient(tracking_uri=tracking_url)
    experiment = await run(tracking.create_experiment, "lineage-b")
    mine = await run(tracking.create_run, experiment)
    other = await run(tracking.create_run, experiment)
    registry = MlflowClient(tracking_uri=tracking_url, registry_uri=traced.url)
    await run(registry.create_registered_model, "checked")
    inside = f"{mine.info.artifact_uri}/model"
    mv = await run(registry.create_model_version, "checked", inside, run_id=mine.info.run_id)
    assert (mv.source, mv.run_id) == (inside, mine.info.run_id)
    assert mv.run_link.endswith(f"/runs/{mine.info.run_id}")
    for source, run_id in ((f"{other.info.artifact_uri}/model", mine.info.run_id),
                           (inside, "0" * 32), (f"{mine.info.artifact_uri}/../x", None)):
        err = await refused(registry.create_model_version, "checked", source, run_id=run_id)
        assert err.error_code == "INVALID_PARAMETER_VALUE", source
    assert len(await run(registry.search_model_versions, "name = 'checked'")) == 1


async def test_an_unreachable_tracking_server_is_a_retryable_error(db_url: str, tmp_path) -> None:
    async with (serving(db_url, tmp_path, tracking_uri="http://127.0.0.1:9") as server,
                aiohttp.ClientSession(server.url) as http):
        live = Live(server.url, server.app, http)
        await live.call("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "u"})
        status, err = await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                                      json={"name": "u", "source": "models:/m-1",
                                            "model_id": "m-1"})
        assert status == 503 and err["error_code"] == "TEMPORARILY_UNAVAILABLE"
        status, page = await live.call("GET", "/api/2.0/mlflow/model-versions/search")
        assert status == 200 and page == {"model_versions": []}
