"""Authentication from the outside: the real MLflow client with its token variables (classic
`http://` and `uc:http://` registries), and the `modelog token` command as a subprocess."""

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from registry.http.keys import AUTH
from tests.support.cli import MODELOG, free_port, http, run, stop, wait_ready
from tests.support.server import (
    BOOTSTRAP,
    SURFACES,
    V1,
    Server,
    actors,
    call,
    may_create_models,
    serving,
)


@pytest.fixture
async def secured(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Server, str]]:
    """A server in tokens mode and a token for the non-admin principal 'ci', who may create models
    in unity.default."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0,
                       storage_root=f"file://{tmp_path}/artifacts") as server:
        token, _ = await server.app[AUTH].issue("ci", actor="admin")
        await may_create_models(server, "ci")
        yield server, str(token)


async def test_the_classic_client_sends_mlflow_tracking_token(
        secured, monkeypatch: pytest.MonkeyPatch) -> None:
    server, token = secured
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    with pytest.raises(MlflowException) as info:
        await asyncio.to_thread(client.create_registered_model, "scorer")
    assert info.value.error_code == "UNAUTHENTICATED"

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    await asyncio.to_thread(client.create_registered_model, "scorer")
    mv = await asyncio.to_thread(client.create_model_version, "scorer", "s3://b/scorer/1")
    await asyncio.to_thread(client.set_registered_model_alias, "scorer", "champion", mv.version)
    assert (await asyncio.to_thread(client.get_model_version_by_alias, "scorer", "champion")
            ).version == "1"
    assert {actor for _, actor in await actors(server, "model:")} == {"ci"}


async def test_the_unity_catalog_client_sends_mlflow_uc_oss_token(
        secured, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server, token = secured
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/t.db", registry_uri=f"uc:{server.url}")
    monkeypatch.delenv("MLFLOW_UC_OSS_TOKEN", raising=False)
    with pytest.raises(MlflowException) as info:
        await asyncio.to_thread(client.create_registered_model, "unity.default.uc")
    assert info.value.error_code == "UNAUTHENTICATED"

    monkeypatch.setenv("MLFLOW_UC_OSS_TOKEN", token)
    await asyncio.to_thread(client.create_registered_model, "unity.default.uc")
    model = await asyncio.to_thread(client.get_registered_model, "unity.default.uc")
    assert model.name == "unity.default.uc"
    assert await actors(server, "model:") == [("ModelCreated", "ci")]


async def test_token_commands(secured, db_url: str) -> None:
    server, _ = secured
    created = await asyncio.to_thread(run, "token", "create", "--principal", "alice", "--expires",
                                      "30d", "--database-url", db_url)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert BOOTSTRAP.fullmatch(token) and "shown only this once" in created.stderr
    token_id = token[4:20]
    assert (await call(server, *SURFACES["native"], token))[0] == 200

    admin = await asyncio.to_thread(run, "token", "create", "--principal", "root", "--admin",
                                    "--database-url", db_url)
    assert (await call(server, "GET", f"{V1}/tokens", admin.stdout.strip()))[0] == 200

    listed = await asyncio.to_thread(run, "token", "list", "--database-url", db_url)
    assert listed.returncode == 0 and token not in listed.stdout
    lines = {line.split()[1]: line for line in listed.stdout.splitlines()[1:]}
    assert set(lines) == {"admin", "ci", "alice", "root"}
    assert lines["alice"].startswith(token_id) and lines["alice"].endswith("-")
    assert " admin " in lines["root"] and " admin " not in lines["alice"]

    revoked = await asyncio.to_thread(run, "token", "revoke", token_id, "--database-url", db_url)
    assert revoked.returncode == 0 and token_id in revoked.stdout
    assert (await call(server, *SURFACES["native"], token))[0] == 401
    listed = await asyncio.to_thread(run, "token", "list", "--database-url", db_url)
    assert not next(x for x in listed.stdout.splitlines() if x.startswith(token_id)).endswith("-")

    unknown = await asyncio.to_thread(run, "token", "revoke", "nope", "--database-url", db_url)
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr
    bad = await asyncio.to_thread(run, "token", "create", "--principal", "x", "--expires", "soon",
                                  "--database-url", db_url)
    assert bad.returncode == 1 and "expiry" in bad.stderr

    # Auth events replay like any other: the read models still equal a replay of the log.
    check = await asyncio.to_thread(run, "projections", "rebuild", "--check", "--database-url", db_url)
    assert check.returncode == 0, check.stdout + check.stderr


def test_serve_on_a_non_loopback_bind_requires_tokens(db_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*MODELOG, "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--database-url", db_url, "--log-format", "json"],
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(url, proc)
        assert http("GET", f"{url}{V1}/catalogs")[0] == 401
    finally:
        code, log = stop(proc)
    assert code == 0, log
    printed = BOOTSTRAP.findall(log)
    assert len(printed) == 1 and '"mode":"tokens"' in log
    assert printed[0] not in "\n".join(x for x in log.splitlines() if x.startswith("{"))

    port = free_port()
    proc = subprocess.Popen([*MODELOG, "serve", "--port", str(port), "--database-url", db_url,
                             "--log-format", "json"], stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        assert http("GET", f"http://127.0.0.1:{port}{V1}/catalogs")[0] == 200
    finally:
        code, log = stop(proc)
    assert "authentication is off: every request acts as the local admin" in log
    assert not BOOTSTRAP.findall(log)

    contradiction = run("serve", "--auth", "tokens", "--insecure-no-auth", "--database-url", db_url)
    assert contradiction.returncode == 2 and "contradicts" in contradiction.stderr


async def test_a_revocation_by_another_process_clears_the_cache(db_url: str, tmp_path: Path) -> None:
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=60) as server:
        token, issued = await server.app[AUTH].issue("eve", actor="admin")
        assert (await call(server, *SURFACES["uc"], token))[0] == 200  # now cached for 60 s
        revoked = await asyncio.to_thread(run, "token", "revoke", issued.id, "--database-url", db_url)
        assert revoked.returncode == 0, revoked.stderr
        started = time.monotonic()
        while (await call(server, *SURFACES["uc"], token))[0] != 401:
            assert time.monotonic() - started < 10, "the revocation was not seen"
            await asyncio.sleep(0.05)
