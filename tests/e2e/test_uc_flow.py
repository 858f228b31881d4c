"""Log a real scikit-learn model into Modelog and load it back in a separate process, through
MLflow's Unity Catalog store (`uc:http://...`) and its classic registry store (`http://...`)."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from tests.support.mlflow_models import LOAD, log_classic, use_experiment

V1 = "/api/modelog/v1"


def log_iris(tracking: str, registry: str, artifacts: Path, seed: int) -> list[int]:
    use_experiment(tracking, registry, artifacts, "iris")
    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=10, random_state=seed).fit(X, y)
    with mlflow.start_run():
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="unity.default.iris",
                                 input_example=X[:3], serialization_format="cloudpickle")
    return clf.predict(X).tolist()


async def test_log_model_then_load_it_in_another_process(live, tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path}/tracking.db"
    registry = f"uc:{live.url}"
    expected = await asyncio.to_thread(log_iris, tracking, registry, tmp_path / "runs", 1)

    status, mv = await live.call("GET", f"{V1}/models/unity.default.iris/versions/1")
    assert status == 200 and mv["status"] == "READY"
    location = mv["storage_location"]
    status, model = await live.call("GET", f"{V1}/models/unity.default.iris")
    assert location.startswith("file://")
    assert location.endswith(f"/models/{model['id']}/versions/1")
    assert (Path(location.removeprefix("file://")) / "MLmodel").is_file()

    assert await predict_elsewhere(tracking, registry, "models:/unity.default.iris/1") \
        == expected

    # A second log_model: the model exists (409 ALREADY_EXISTS), so it becomes version 2.
    second = await asyncio.to_thread(log_iris, tracking, registry, tmp_path / "runs", 2)
    status, versions = await live.call("GET", f"{V1}/models/unity.default.iris/versions")
    assert [v["version"] for v in versions["model_versions"]] == [1, 2]
    assert all(v["status"] == "READY" for v in versions["model_versions"])
    assert np.asarray(second).shape == np.asarray(expected).shape


async def test_classic_registry_log_model_and_load_the_champion(live, tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path}/tracking.db"
    expected = await asyncio.to_thread(log_classic, tracking, live.url, tmp_path / "runs")
    status, mv = await live.call("GET", f"{V1}/models/unity.default.iris-classic/versions/1")
    assert status == 200 and mv["source"].startswith("models:/m-") and mv["logged_model_id"]
    assert await predict_elsewhere(tracking, live.url, "models:/iris-classic@champion") \
        == expected


# --- storage follows the model's identity, not its name ---------------------------------------


def log_uc(tracking: str, registry: str, artifacts: Path, name: str, shift: int,
           with_example: bool) -> list[int]:
    """Log a forest trained on labels shifted by `shift`, so two models' predictions differ on
    every row; return its predictions."""
    use_experiment(tracking, registry, artifacts, "ids")
    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, (y + shift) % 3)
    with mlflow.start_run():
        mlflow.sklearn.log_model(clf, name="model", registered_model_name=name,
                                 input_example=X[:3] if with_example else None,
                                 serialization_format="cloudpickle")
    return clf.predict(X).tolist()


async def predict_elsewhere(tracking: str, registry: str, uri: str) -> list[int]:
    out = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", LOAD, tracking, registry, uri,
                         json.dumps(load_iris().data.tolist())],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def read_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def files_of(live, full_name: str, version: int) -> dict[str, bytes]:
    status, mv = await live.call("GET", f"{V1}/models/{full_name}/versions/{version}")
    assert status == 200, mv
    return await asyncio.to_thread(read_tree, Path(mv["storage_location"].removeprefix("file://")))


async def test_a_renamed_model_keeps_its_files_when_its_old_name_is_reused(live, tmp_path):
    tracking, registry = f"sqlite:///{tmp_path}/tracking.db", f"uc:{live.url}"
    first = await asyncio.to_thread(log_uc, tracking, registry, tmp_path / "runs",
                                    "unity.default.m", 0, True)
    before = await files_of(live, "unity.default.m", 1)
    # MLflow's uc: store cannot rename; a Unity Catalog user renames through UC's own API.
    status, renamed = await live.call("PATCH", "/api/2.1/unity-catalog/models/unity.default.m",
                                      json={"new_name": "m2"})
    assert status == 200 and renamed["full_name"] == "unity.default.m2", renamed
    second = await asyncio.to_thread(log_uc, tracking, registry, tmp_path / "runs",
                                     "unity.default.m", 1, True)
    assert first != second

    # Compared before loading: MLflow's loader writes a `registered_model_meta` file of its own
    # into a local version folder.
    assert await files_of(live, "unity.default.m2", 1) == before
    assert (await files_of(live, "unity.default.m", 1))["MLmodel"] != before["MLmodel"]
    assert await predict_elsewhere(tracking, registry, "models:/unity.default.m2/1") == first
    assert await predict_elsewhere(tracking, registry, "models:/unity.default.m/1") == second


async def test_a_model_recreated_under_a_deleted_ones_name_starts_with_no_files(live, tmp_path):
    tracking, registry = f"sqlite:///{tmp_path}/tracking.db", f"uc:{live.url}"
    await asyncio.to_thread(log_uc, tracking, registry, tmp_path / "runs",
                            "unity.default.m", 0, True)
    assert "input_example.json" in await files_of(live, "unity.default.m", 1)
    client = mlflow.MlflowClient(tracking_uri=tracking, registry_uri=registry)
    await asyncio.to_thread(client.delete_model_version, "unity.default.m", "1")
    await asyncio.to_thread(client.delete_registered_model, "unity.default.m")

    again = await asyncio.to_thread(log_uc, tracking, registry, tmp_path / "runs",
                                    "unity.default.m", 1, False)
    assert "input_example.json" not in await files_of(live, "unity.default.m", 1)
    assert await predict_elsewhere(tracking, registry, "models:/unity.default.m/1") == again


async def test_a_model_logged_before_its_catalog_was_renamed_loads_under_the_new_name(
        live, tmp_path: Path) -> None:
    uc = "/api/2.1/unity-catalog"
    assert (await live.call("POST", f"{uc}/catalogs", json={"name": "lab"}))[0] == 200
    assert (await live.call("POST", f"{uc}/schemas",
                            json={"catalog_name": "lab", "name": "cv"}))[0] == 200
    tracking, registry = f"sqlite:///{tmp_path}/tracking.db", f"uc:{live.url}"
    expected = await asyncio.to_thread(log_uc, tracking, registry, tmp_path / "runs",
                                       "lab.cv.iris", 0, True)
    status, _ = await live.call("PATCH", f"{uc}/catalogs/lab", json={"new_name": "prod"})
    assert status == 200
    assert await predict_elsewhere(tracking, registry, "models:/prod.cv.iris/1") == expected
