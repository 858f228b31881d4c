"""Version files on S3 stores started on loopback by the suite: the MLflow `uc:` client writes
and reads them with the temporary credentials Modelog vends (on moto's server, which answers
HeadBucket as AWS does), and each credential reaches its own version's folder and nothing else,
for as long as it lives (on SeaweedFS, which enforces session policies and expiry)."""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sklearn.datasets import load_iris

from registry.settings import S3Settings
from tests.support.mlflow_models import LOAD
from tests.support.object_store import ObjectStore, aws_emulator, object_store
from tests.support.server import Live, serving

UC = "/api/2.1/unity-catalog"
CREDENTIALS = f"{UC}/temporary-model-version-credentials"
ROOT = "registry"


@pytest.fixture(scope="module")
def store() -> Iterator[ObjectStore]:
    with object_store() as s:
        yield s


@pytest.fixture(scope="module")
def emulator() -> Iterator[ObjectStore]:
    with aws_emulator() as s:
        yield s


@contextlib.asynccontextmanager
async def modelog_on(store: ObjectStore, db_url: str, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch, **s3: Any) -> AsyncIterator[Live]:
    # The server's own identity, from the environment as botocore finds it anywhere.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", store.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", store.secret_key)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", store.endpoint)  # for the client in this process
    settings = S3Settings(**{"role_arn": store.role_arn, "region": store.region,
                             "sts_endpoint": store.sts_endpoint, "credential_seconds": 900, **s3})
    async with (serving(db_url, tmp_path, storage_root=f"s3://{store.bucket}/{ROOT}", s3=settings)
                as server, aiohttp.ClientSession(server.url) as http):
        yield Live(server.url, server.app, http)


@pytest.fixture
async def live_s3(db_url: str, tmp_path: Path, store: ObjectStore,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Live]:
    async with modelog_on(store, db_url, tmp_path, monkeypatch) as live:
        yield live


def s3(store: ObjectStore, creds: dict[str, Any] | None = None) -> Any:
    keys = (creds or {}).get("aws_temp_credentials")
    return boto3.client(
        "s3", endpoint_url=store.endpoint, region_name=store.region,
        aws_access_key_id=keys["access_key_id"] if keys else store.access_key,
        aws_secret_access_key=keys["secret_access_key"] if keys else store.secret_key,
        aws_session_token=keys.get("session_token") if keys else None,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def refused(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    return err.value.response["Error"]["Code"]


def log_forest(tracking: str, registry: str, artifacts: Path) -> list[int]:
    import mlflow
    from sklearn.ensemble import RandomForestClassifier

    from tests.support.mlflow_models import use_experiment

    use_experiment(tracking, registry, artifacts, "s3")
    X, y = load_iris(return_X_y=True)
    clf = RandomForestClassifier(n_estimators=10, random_state=7).fit(X, y)
    with mlflow.start_run():
        mlflow.sklearn.log_model(clf, name="model", registered_model_name="unity.default.forest",
                                 input_example=X[:3], serialization_format="cloudpickle")
    return clf.predict(X).tolist()


async def test_the_uc_client_logs_to_s3_and_another_process_loads_it(
        emulator: ObjectStore, db_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with modelog_on(emulator, db_url, tmp_path, monkeypatch) as live:
        await _log_and_load(live, emulator, tmp_path)


async def _log_and_load(live_s3: Live, store: ObjectStore, tmp_path: Path) -> None:
    tracking, registry = f"sqlite:///{tmp_path}/tracking.db", f"uc:{live_s3.url}"
    expected = await asyncio.to_thread(log_forest, tracking, registry, tmp_path / "runs")

    status, model = await live_s3.call("GET", f"{UC}/models/unity.default.forest")
    status, mv = await live_s3.call("GET", f"{UC}/models/unity.default.forest/versions/1")
    assert status == 200 and mv["status"] == "READY"
    prefix = f"{ROOT}/models/{model['id']}/versions/1"
    assert mv["storage_location"] == f"s3://{store.bucket}/{prefix}"
    listed = s3(store).list_objects_v2(Bucket=store.bucket, Prefix=f"{prefix}/")
    keys = {o["Key"].removeprefix(f"{prefix}/") for o in listed.get("Contents", [])}
    assert {"MLmodel", "model.pkl", "input_example.json"} <= keys

    # A fresh process that holds no keys of its own: only what Modelog vends lets it read.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MLFLOW_S3_ENDPOINT_URL"] = store.endpoint
    out = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", LOAD, tracking, registry,
                         "models:/unity.default.forest/1", json.dumps(load_iris().data.tolist())],
        capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected


async def _pending(live: Live, name: str) -> dict[str, Any]:
    status, _ = await live.call("POST", f"{UC}/models", json={
        "name": name, "catalog_name": "unity", "schema_name": "default"})
    assert status == 200
    status, mv = await live.call("POST", f"{UC}/models/versions", json={
        "catalog_name": "unity", "schema_name": "default", "model_name": name,
        "source": "s3://runs/1"})
    assert status == 200 and mv["status"] == "PENDING_REGISTRATION"
    return mv


async def _credentials(live: Live, mv: dict[str, Any], operation: str) -> dict[str, Any]:
    status, creds = await live.call("POST", CREDENTIALS, json={
        "catalog_name": "unity", "schema_name": "default", "model_name": mv["model_name"],
        "version": mv["version"], "operation": operation})
    assert status == 200, creds
    return creds


def _key(mv: dict[str, Any], name: str) -> str:
    return mv["storage_location"].split("/", 3)[3] + "/" + name


async def test_a_credential_reaches_its_own_versions_folder_and_nothing_else(
        live_s3: Live, store: ObjectStore) -> None:
    one, two = await _pending(live_s3, "one"), await _pending(live_s3, "two")
    write_one = await _credentials(live_s3, one, "READ_WRITE_MODEL_VERSION")
    assert write_one["url"] == one["storage_location"]
    assert write_one["expiration_time"] > 0
    keys = write_one["aws_temp_credentials"]
    assert keys["access_key_id"] != store.access_key and keys["session_token"]

    c1 = s3(store, write_one)
    c1.put_object(Bucket=store.bucket, Key=_key(one, "MLmodel"), Body=b"one")
    assert c1.get_object(Bucket=store.bucket, Key=_key(one, "MLmodel"))["Body"].read() == b"one"
    s3(store).put_object(Bucket=store.bucket, Key=_key(two, "MLmodel"), Body=b"two")
    # Version two's folder is out of reach, for writing, reading and listing.
    assert refused(c1.put_object, Bucket=store.bucket, Key=_key(two, "x"), Body=b"!") \
        == "AccessDenied"
    assert refused(c1.get_object, Bucket=store.bucket, Key=_key(two, "MLmodel")) == "AccessDenied"
    assert refused(c1.list_objects_v2, Bucket=store.bucket,
                   Prefix=_key(two, "")) == "AccessDenied"

    # Finalized, version one gets read credentials only, which cannot write.
    status, _ = await live_s3.call(
        "PATCH", f"{UC}/models/unity.default.one/versions/1/finalize",
        json={"full_name": "unity.default.one", "version": 1})
    assert status == 200
    read_one = s3(store, await _credentials(live_s3, one, "READ_MODEL_VERSION"))
    assert read_one.get_object(Bucket=store.bucket, Key=_key(one, "MLmodel"))["Body"].read() \
        == b"one"
    assert refused(read_one.put_object, Bucket=store.bucket, Key=_key(one, "MLmodel"),
                   Body=b"overwritten") == "AccessDenied"


async def test_an_expired_credential_is_refused(db_url: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A store that caps every session at 5 s, whatever Modelog asks for (900 s at least).
    with object_store(max_session_seconds=5) as short:
        async with modelog_on(short, db_url, tmp_path, monkeypatch) as live:
            mv = await _pending(live, "brief")
            creds = await _credentials(live, mv, "READ_WRITE_MODEL_VERSION")
            # The answer carries the store's own expiry, not the one asked for.
            expires = creds["expiration_time"] / 1000
            assert expires - time.time() < 10
            client = s3(short, creds)
            client.put_object(Bucket=short.bucket, Key=_key(mv, "MLmodel"), Body=b"in time")
            await asyncio.sleep(max(0.0, expires - time.time()) + 1.5)
            assert refused(client.get_object, Bucket=short.bucket,
                           Key=_key(mv, "MLmodel")) in ("InvalidAccessKeyId", "ExpiredToken",
                                                        "AccessDenied")


async def test_credentials_are_reused_and_sts_refusals_are_clear(
        store: ObjectStore, db_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with modelog_on(store, db_url, tmp_path, monkeypatch) as live:
        mv = await _pending(live, "reused")
        first = await _credentials(live, mv, "READ_MODEL_VERSION")
        assert await _credentials(live, mv, "READ_MODEL_VERSION") == first  # one STS call
        assert (await _credentials(live, mv, "READ_WRITE_MODEL_VERSION"))[
            "aws_temp_credentials"] != first["aws_temp_credentials"]
    # A role the store does not let us assume: a 503 that says why, no keys in it.
    async with modelog_on(store, db_url, tmp_path / "other", monkeypatch,
                          role_arn="arn:aws:iam::000000000000:role/Nobody") as live:
        mv = await _pending(live, "refused")
        status, err = await live.call("POST", CREDENTIALS, json={
            "catalog_name": "unity", "schema_name": "default", "model_name": "refused",
            "version": mv["version"], "operation": "READ_MODEL_VERSION"})
        assert status == 503 and "AssumeRole" in err["message"], err
        assert store.secret_key not in json.dumps(err)


async def test_static_keys_for_stores_without_sts(store: ObjectStore, db_url: str,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async with modelog_on(store, db_url, tmp_path, monkeypatch, credentials="static",
                          role_arn=None) as live:
        mv = await _pending(live, "static")
        creds = await _credentials(live, mv, "READ_WRITE_MODEL_VERSION")
        assert creds["aws_temp_credentials"]["access_key_id"] == store.access_key
        assert creds["expiration_time"] / 1000 > time.time() + 800
        s3(store, creds).put_object(Bucket=store.bucket, Key=_key(mv, "MLmodel"), Body=b"ok")
