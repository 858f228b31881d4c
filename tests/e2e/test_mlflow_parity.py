"""Modelog's MLflow surface against MLflow's own server: the same requests, in the same order,
to both, and the answers compared field by field (status, error code, message, every field).

Only what cannot be equal is set aside: times (two servers, two clocks), page tokens (opaque),
and `user_id`, which Modelog fills with the caller and MLflow's server leaves out. Where the two
differ by design, the step compares status and error code only, and says why.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.mlflow_server import mlflow_server

A = "/api/2.0/mlflow"
RM, MV = f"{A}/registered-models", f"{A}/model-versions"

# (method, path, JSON body, None or why only the status and the error code are compared)
STEPS: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
    ("POST", f"{RM}/create", {"name": "p1", "description": "d",
                              "tags": [{"key": "k", "value": "v"}]}, None),
    ("POST", f"{RM}/create", {"name": "p1"}, None),
    ("POST", f"{RM}/create", {"name": "my.model"}, None),
    ("POST", f"{RM}/create", {"name": "Model With Spaces 2"}, None),
    ("POST", f"{RM}/create", {"name": "-lead@x"}, None),
    ("POST", f"{RM}/create", {"name": "a/b"}, None),
    ("POST", f"{RM}/create", {"name": "a:b"}, None),
    ("POST", f"{RM}/create", {"name": ""}, None),
    ("POST", f"{RM}/create", {}, None),
    ("GET", f"{RM}/get?name=my.model", None, None),
    ("GET", f"{RM}/get?name=nope", None, None),
    ("GET", f"{RM}/get", None, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "s3://b/p1/1"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "s3://b/p1/2", "run_id": "abc",
                              "description": "two", "tags": [{"key": "t", "value": "1"}]}, None),
    ("POST", f"{MV}/create", {"name": "nope", "source": "s3://b/x"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "s3a://b/artifacts/../../.."}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "s3://b/a%2F..%2F..%2Fsecret"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "http://host/models/../../"},
     "MLflow refuses any http source that names a host; Modelog never reads a source"),
    ("POST", f"{MV}/create", {"name": "p1", "source": "/tmp/local/model"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "file:///tmp/local/model"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "runs:/abc/model", "run_id": "abc"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "runs:/abc/model"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "runs:/abc/model", "run_id": "other"},
     None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "models:/m-0123"}, None),
    ("POST", f"{MV}/create", {"name": "p1", "source": "mlflow-artifacts:/0/x/model"}, None),
    ("POST", f"{MV}/create", {"name": "my.model", "source": "models:/p1/1"}, None),
    ("POST", f"{MV}/create", {"name": "my.model", "source": "models:/p1/2", "run_id": "zzz"},
     None),
    ("POST", f"{MV}/create", {"name": "my.model", "source": "models:/p1/2"}, None),
    ("POST", f"{MV}/create", {"name": "my.model", "source": "models:/nope/1"}, None),
    ("GET", f"{MV}/get-download-uri?name=my.model&version=1", None, None),
    ("GET", f"{MV}/get-download-uri?name=my.model&version=2", None, None),
    ("GET", f"{MV}/get?name=my.model&version=2", None, None),
    ("GET", f"{MV}/get?name=p1&version=1", None, None),
    ("GET", f"{MV}/get?name=p1&version=99", None, None),
    ("GET", f"{MV}/get?name=p1&version=abc", None, None),
    ("GET", f"{MV}/get?name=nope&version=1", None, None),
    ("PATCH", f"{MV}/update", {"name": "p1", "version": "1", "description": "new"}, None),
    ("PATCH", f"{MV}/update", {"name": "p1", "version": "7", "description": "new"}, None),
    ("PATCH", f"{RM}/update", {"name": "p1", "description": "nd"}, None),
    ("POST", f"{RM}/set-tag", {"name": "p1", "key": "k2", "value": "v2"}, None),
    ("DELETE", f"{RM}/delete-tag", {"name": "p1", "key": "missing"}, None),
    ("DELETE", f"{RM}/delete-tag", {"name": "nope", "key": "missing"}, None),
    ("POST", f"{MV}/set-tag", {"name": "p1", "version": "1", "key": "a", "value": "b"}, None),
    ("POST", f"{MV}/set-tag", {"name": "nope", "version": "1", "key": "a", "value": "b"}, None),
    ("DELETE", f"{MV}/delete-tag", {"name": "p1", "version": "1", "key": "missing"}, None),
    ("DELETE", f"{MV}/delete-tag", {"name": "p1", "version": "9", "key": "missing"}, None),
    ("POST", f"{RM}/alias", {"name": "p1", "alias": "champ", "version": "1"}, None),
    ("POST", f"{RM}/alias", {"name": "p1", "alias": "champ2", "version": "99"}, None),
    ("POST", f"{RM}/alias", {"name": "p1", "alias": "latest", "version": "1"}, None),
    ("POST", f"{RM}/alias", {"name": "p1", "alias": "v1", "version": "1"}, None),
    ("GET", f"{RM}/alias?name=p1&alias=champ", None, None),
    ("GET", f"{RM}/alias?name=p1&alias=latest", None, None),
    ("GET", f"{RM}/alias?name=p1&alias=nope", None, None),
    ("GET", f"{RM}/alias?name=nope&alias=champ", None, None),
    ("DELETE", f"{RM}/alias", {"name": "p1", "alias": "nope"}, None),
    ("GET", f"{RM}/get?name=p1", None, None),
    ("POST", f"{MV}/transition-stage", {"name": "p1", "version": "1", "stage": "Staging",
                                        "archive_existing_versions": False}, None),
    ("POST", f"{MV}/transition-stage", {"name": "p1", "version": "1", "stage": "Bogus",
                                        "archive_existing_versions": False}, None),
    ("POST", f"{RM}/get-latest-versions", {"name": "p1"}, None),
    ("POST", f"{RM}/get-latest-versions", {"name": "p1", "stages": ["Bogus"]}, None),
    ("POST", f"{RM}/get-latest-versions", {"name": "p1", "stages": ["staging"]}, None),
    ("GET", f"{MV}/search", None, None),
    ("GET", f"{MV}/search?order_by=name%20DESC", None, None),
    ("GET", f"{MV}/search?order_by=version_number%20ASC", None, None),
    ("GET", f"{MV}/search?filter=name%3D%27p1%27&max_results=1", None, None),
    ("GET", f"{MV}/search?filter=run_id%3D%27abc%27", None, None),
    ("GET", f"{MV}/search?max_results=0", None, None),
    ("GET", f"{MV}/search?max_results=200001", None, None),
    ("GET", f"{RM}/search", None, None),
    ("GET", f"{RM}/search?max_results=1", None, None),
    ("GET", f"{RM}/search?max_results=1001", None, None),
    ("GET", f"{RM}/search?filter=name%20LIKE%20%27my.%25%27", None, None),
    ("GET", f"{RM}/search?order_by=name%20DESC", None, None),
    ("POST", f"{RM}/rename", {"name": "p1", "new_name": "my.model"},
     "MLflow's message carries its database's error text"),
    ("POST", f"{RM}/rename", {"name": "p1", "new_name": "p1 renamed"}, None),
    ("GET", f"{MV}/get?name=p1%20renamed&version=2", None, None),
    ("DELETE", f"{MV}/delete", {"name": "p1 renamed", "version": "1"}, None),
    ("DELETE", f"{MV}/delete", {"name": "p1 renamed", "version": "1"}, None),
    ("DELETE", f"{RM}/delete", {"name": "p1 renamed"}, None),
    ("DELETE", f"{RM}/delete", {"name": "p1 renamed"}, None),
    ("GET", f"{RM}/search", None, None),
]

TIMES = {"creation_timestamp", "last_updated_timestamp"}


def comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<time>" if k in TIMES else "<token>" if k == "next_page_token"
                    else comparable(v))
                for k, v in value.items() if k != "user_id"}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


async def answers(base: str) -> list[tuple[int, Any]]:
    out = []
    async with aiohttp.ClientSession(base) as http:
        for method, path, body, _ in STEPS:
            async with http.request(method, path, json=body) as r:
                text = await r.text()
                out.append((r.status, json.loads(text) if text else None))
    return out


@pytest.fixture(scope="module")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work: Path = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(work) as url:
        yield url


async def test_the_mlflow_surface_answers_as_mlflows_server_does(live, mlflow_url: str) -> None:
    theirs, ours = await answers(mlflow_url), await answers(live.url)
    differences = []
    for (method, path, body, why), (their_status, their), (our_status, our) in zip(
            STEPS, theirs, ours, strict=True):
        if why is not None:
            same = (their_status, (their or {}).get("error_code")) == \
                (our_status, (our or {}).get("error_code"))
        else:
            same = (their_status, comparable(their)) == (our_status, comparable(our))
        if not same:
            differences.append(f"{method} {path} {body}\n  MLflow:  {their_status} "
                               f"{comparable(their)}\n  Modelog: {our_status} {comparable(our)}")
    assert not differences, "\n".join(differences)
    # The steps did reach both: most answered 200, and the errors were errors on both sides.
    assert sum(status == 200 for status, _ in ours) > len(STEPS) // 2
