"""A scikit-learn model logged through the real MLflow client into a Modelog server, and the
script that loads one back in another process (argv: tracking URI, registry URI, model URI, the
rows to predict, as JSON)."""

from pathlib import Path

import mlflow
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

LOAD = """
import json, sys
import mlflow
import numpy as np
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_registry_uri(sys.argv[2])
model = mlflow.pyfunc.load_model(sys.argv[3])
print(json.dumps(model.predict(np.array(json.loads(sys.argv[4]))).tolist()))
"""


def use_experiment(tracking: str, registry: str, artifacts: Path, name: str) -> None:
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    experiment = mlflow.get_experiment_by_name(name) or mlflow.get_experiment(
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri()))
    mlflow.set_experiment(experiment_id=experiment.experiment_id)


def log_classic(tracking: str, registry: str, artifacts: Path) -> list[int]:
    use_experiment(tracking, registry, artifacts, "classic")
    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=10, random_state=3).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model", registered_model_name="iris-classic",
                                        input_example=X[:3], serialization_format="cloudpickle")
    client = mlflow.MlflowClient(tracking_uri=tracking, registry_uri=registry)
    client.set_registered_model_alias("iris-classic", "champion", info.registered_model_version)
    return clf.predict(X).tolist()
