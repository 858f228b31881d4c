"""The real MLflow client with tokens: a reader with EXECUTE and USE loads the champion in another
process; without them the same load is refused; the reader may not re-point the alias."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris

from registry.http.keys import AUTH
from tests.support.mlflow_models import LOAD, log_classic
from tests.support.server import grant, serving

NAME = "unity.default.iris-classic"


async def test_a_reader_loads_the_champion_but_may_not_move_it(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        admin, _ = await server.app[AUTH].issue("deployer", actor="admin", admin=True)
        reader, _ = await server.app[AUTH].issue("reader", actor="admin")
        tracking = f"sqlite:///{tmp_path}/tracking.db"
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", str(admin))
        expected = await asyncio.to_thread(log_classic, tracking, server.url, tmp_path / "runs")

        async def load(token: str) -> subprocess.CompletedProcess:
            return await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", LOAD, tracking, server.url,
                                 "models:/iris-classic@champion", json.dumps(load_iris().data.tolist())],
                capture_output=True, text=True, timeout=300,
                env={**os.environ, "MLFLOW_TRACKING_TOKEN": token})

        refused = await load(str(reader))
        assert refused.returncode != 0 and "PERMISSION_DENIED" in refused.stderr
        await grant(server, "catalog", "unity", "reader", "USE CATALOG")
        await grant(server, "schema", "unity.default", "reader", "USE SCHEMA")
        await grant(server, "registered_model", NAME, "reader", "EXECUTE")
        out = await load(str(reader))
        assert out.returncode == 0, out.stderr[-3000:]
        assert json.loads(out.stdout.strip().splitlines()[-1]) == expected

        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", str(reader))
        client = MlflowClient(tracking_uri=tracking, registry_uri=server.url)
        for attempt in (lambda: client.set_registered_model_alias("iris-classic", "champion", "1"),
                        lambda: client.create_model_version("iris-classic", "s3://b/2"),
                        lambda: client.delete_registered_model("iris-classic")):
            with pytest.raises(MlflowException) as info:
                await asyncio.to_thread(attempt)
            assert info.value.error_code == "PERMISSION_DENIED"
