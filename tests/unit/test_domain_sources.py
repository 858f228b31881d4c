"""Which model version sources are refused (as MLflow's server refuses them), and what a
`models:/` source refers to."""

import pytest

from registry.domain.errors import InvalidArgument
from registry.domain.sources import Reference, check, parse_reference


@pytest.mark.parametrize(("source", "run_id", "model_id"), [
    ("s3://bucket/models/1", None, None),
    ("s3://bucket/", None, None),
    ("gs://bucket/a/b", "r1", None),
    ("dbfs:/models/x", None, None),
    ("runs:/abc/model", "abc", None),
    ("runs:/abc/nested/path/model", "abc", None),
    ("models:/m-0123", None, "m-0123"),
    ("models:/p1/1", None, None),
    ("https://storage.example/models/1", None, None),
])
def test_sources_mlflow_takes_are_taken(source: str, run_id: str | None, model_id: str | None
                                        ) -> None:
    check(source, run_id, model_id)


@pytest.mark.parametrize(("source", "run_id", "model_id", "says"), [
    ("s3a://b/artifacts/../../..", None, None, "an absolute path must be provided"),
    ("http://host/models/../../", None, None, "without relative path references"),
    ("s3://b/a%2F..%2F..%2Fsecret", None, None, "relative path"),
    ("s3://b/a%252F..%252Fsecret", None, None, "relative path"),  # encoded twice
    ("s3://b/a/./b", None, None, "relative path"),
    ("s3://b/a%00.txt", None, None, "relative path"),
    ("/tmp/model", None, None, "To use a local path"),
    ("/tmp/model", "r1", None, "the run_id request parameter has to be specified"),
    ("file:///tmp/model", None, None, "To use a local path"),
    ("relative/model", None, None, "To use a local path"),
    ("/tmp/model", None, "m-1", "the model_id request parameter has to be specified"),
    ("runs:/abc/model", None, None, "The run_id request parameter must identify"),
    ("runs:/abc/model", "other", None, "The run_id request parameter must identify"),
    ("runs://host/abc/model", "abc", None, "must identify"),
    ("runs:/abc/model", "abc", "m-1", "The model_id request parameter must identify"),
    ("models:/m-0123", None, None, "The model_id request parameter must identify"),
    ("models:/m-0123", None, "m-9", "The model_id request parameter must identify"),
    ("models://host/p1/1", None, None, "must use the active model registry"),
    ("mlflow-artifacts:/0/x/model", "r1", None, "The run_id request parameter must identify"),
    ("http://h/api/2.0/mlflow-artifacts/artifacts/x", "r1", None, "must identify"),
])
def test_sources_mlflow_refuses_are_refused_in_its_words(
        source: str, run_id: str | None, model_id: str | None, says: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check(source, run_id, model_id)
    assert info.value.message.startswith("Invalid model version source: ")
    assert says in info.value.message
    assert info.value.details == {"field": "source"}


@pytest.mark.parametrize(("source", "reference"), [
    ("s3://b/1", None),
    ("runs:/abc/model", None),
    ("models:/iris/3", Reference(name="iris", version=3)),
    ("models:/my.model v2/3", Reference(name="my.model v2", version=3)),
    ("models:/iris@champion", Reference(name="iris", alias="champion")),
    ("models:/user@corp@champion", Reference(name="user@corp", alias="champion")),
    ("models:/iris/Production", Reference(name="iris", stage="Production")),
    ("models:/iris/latest", Reference(name="iris")),
    ("models:/iris/LATEST", Reference(name="iris")),
    ("models:/m-0123", Reference(model_id="m-0123")),
])
def test_models_references_are_read_as_mlflow_reads_them(source: str,
                                                        reference: Reference | None) -> None:
    assert parse_reference(source) == reference


@pytest.mark.parametrize("source", ["models:/", "models:/a/b/c", "models:/ /1", "models:/iris/",
                                    "models:/iris@", "models:iris/1"])
def test_malformed_models_references_are_refused(source: str) -> None:
    with pytest.raises(InvalidArgument, match="Invalid model version source"):
        parse_reference(source)


RUN = "mlflow-artifacts:/1/abc/artifacts"


@pytest.mark.parametrize(("source", "run_id", "model_id", "artifacts"), [
    (f"{RUN}/model", "abc", None, RUN),
    ("file:///srv/mlruns/1/abc/artifacts/model", "abc", None, "file:///srv/mlruns/1/abc/artifacts"),
    ("/srv/mlruns/1/abc/artifacts/model", "abc", None, "file:///srv/mlruns/1/abc/artifacts"),
    ("mlflow-artifacts:/1/models/m-1/artifacts", None, "m-1", "mlflow-artifacts:/1/models/m-1/artifacts"),
])
def test_a_source_a_tracking_server_places_inside_its_run_is_taken(
        source: str, run_id: str | None, model_id: str | None, artifacts: str) -> None:
    check(source, run_id, model_id, artifacts)


@pytest.mark.parametrize(("source", "run_id", "artifacts"), [
    ("mlflow-artifacts:/1/other/artifacts/model", "abc", RUN),  # another run's files
    (f"{RUN}x/model", "abc", RUN),  # a sibling whose name starts the same
    (f"{RUN}/../../other", "abc", RUN),
    ("mlflow-artifacts://elsewhere/1/abc/artifacts/model", "abc", RUN),
    ("/srv/mlruns/1/abc/artifacts/model", None, "file:///srv/mlruns/1/abc/artifacts"),
])
def test_a_source_outside_the_named_runs_artifacts_is_refused(source: str, run_id: str | None,
                                                              artifacts: str) -> None:
    with pytest.raises(InvalidArgument, match="Invalid model version source"):
        check(source, run_id, None, artifacts)
