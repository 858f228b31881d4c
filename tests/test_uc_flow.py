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

V1 = "/api/modelog/v1"

LOAD = """
import json, sys
import mlflow
import numpy as np
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_registry_uri(sys.argv[2])
model = mlflow.pyfunc.load_model(sys.argv[3])
print(json.dumps(model.predict(np.array(json.loads(sys.argv[4]))).tolist()))
"""


def log_iris(tracking: str, registry: str, artifacts: Path, seed: int) -> list[int]:
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    experiment = mlflow.get_experiment_by_name("iris") or mlflow.get_experiment(
        mlflow.create_experiment("iris", artifact_location=artifacts.as_uri()))
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
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
    assert location.startswith("file://") and location.endswith("/unity/default/iris/versions/1")
    assert (Path(location.removeprefix("file://")) / "MLmodel").is_file()

    X = load_iris().data.tolist()
    out = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", LOAD, tracking, registry,
                         "models:/unity.default.iris/1", json.dumps(X)],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected

    # A second log_model: the model exists (409 ALREADY_EXISTS), so it becomes version 2.
    second = await asyncio.to_thread(log_iris, tracking, registry, tmp_path / "runs", 2)
    status, versions = await live.call("GET", f"{V1}/models/unity.default.iris/versions")
    assert [v["version"] for v in versions["model_versions"]] == [1, 2]
    assert all(v["status"] == "READY" for v in versions["model_versions"])
    assert np.asarray(second).shape == np.asarray(expected).shape


def log_classic(tracking: str, registry: str, artifacts: Path) -> list[int]:
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    experiment = mlflow.get_experiment_by_name("classic") or mlflow.get_experiment(
        mlflow.create_experiment("classic", artifact_location=artifacts.as_uri()))
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=10, random_state=3).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model", registered_model_name="iris-classic",
                                        input_example=X[:3], serialization_format="cloudpickle")
    client = mlflow.MlflowClient(tracking_uri=tracking, registry_uri=registry)
    client.set_registered_model_alias("iris-classic", "champion", info.registered_model_version)
    return clf.predict(X).tolist()


async def test_classic_registry_log_model_and_load_the_champion(live, tmp_path: Path) -> None:
    tracking = f"sqlite:///{tmp_path}/tracking.db"
    expected = await asyncio.to_thread(log_classic, tracking, live.url, tmp_path / "runs")
    status, mv = await live.call("GET", f"{V1}/models/unity.default.iris-classic/versions/1")
    assert status == 200 and mv["source"].startswith("models:/m-") and mv["logged_model_id"]
    out = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", LOAD, tracking, live.url,
                         "models:/iris-classic@champion", json.dumps(load_iris().data.tolist())],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected
