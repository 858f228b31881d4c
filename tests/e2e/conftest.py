"""The end-to-end tests' fixtures: a live server and its client, the browser, and the scenes
several files share (the attack tests' `world`, the privileges tests' `team`)."""

import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from registry.memory import DEFAULT as DEFAULT_MEMORY
from tests.support.attackers import SECRET, World
from tests.support.server import (
    BOOTSTRAP,
    TEAM_MODEL,
    UC,
    V1,
    Live,
    Server,
    call,
    grant,
    may_create_models,
    patch,
    serving,
)

# The MLflow client must not try to phone home from a machine without a network, nor leave a
# default tracking store in the working tree.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_TRACKING_URI",
                      f"sqlite:///{tempfile.mkdtemp(prefix='modelog-mlflow-')}/mlflow.db")


@pytest.fixture
async def live(db_url: str, tmp_path) -> AsyncIterator[Live]:
    async with (serving(db_url, tmp_path, storage_root=f"file://{tmp_path}/artifacts") as server,
                aiohttp.ClientSession(server.url) as http):
        yield Live(server.url, server.app, http)


# Debian's chromium (`make browser`), driven by Playwright: never a browser Playwright downloads.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium() -> str:
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: run `make browser` (make test does)"
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def page(browser: Any) -> Any:
    return await browser.new_page(viewport={"width": 1200, "height": 900})


@pytest.fixture
async def world(db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]) -> AsyncIterator[World]:
    """The attack tests' scene (tests/support/attackers.py)."""
    async with (serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server,
                aiohttp.ClientSession() as http):
        w = World(server, http, {"admin": BOOTSTRAP.findall(capsys.readouterr().err)[0]})
        for name in ("alice", "reader", "mallory"):
            status, issued = await w.call("admin", "POST", f"{V1}/tokens", json={"principal": name})
            assert status == 201
            w.tokens[name] = issued["token"]
        await may_create_models(server, "alice")
        await may_create_models(server, "mallory")
        await grant(server, "catalog", "unity", "reader", "USE CATALOG")
        await grant(server, "schema", "unity.default", "reader", "USE SCHEMA")
        status, model = await w.call("alice", "POST", f"{V1}/models",
                                     json={"name": SECRET, "tags": {"team": "a"}})
        assert status == 201
        w.model_id = model["id"]
        for method, path, body in (
                ("POST", f"{V1}/models/{SECRET}/versions", {"source": "s3://alice/1"}),
                ("PUT", f"{V1}/models/{SECRET}/aliases/champion", {"version": 1}),
                ("PATCH", f"{UC}/permissions/registered_model/{SECRET}",
                 {"changes": [{"principal": "reader", "add": ["EXECUTE"]}]})):
            status, answer = await w.call("alice", method, path, json=body)
            assert status in (200, 201), answer
        yield w


@pytest.fixture(params=[DEFAULT_MEMORY, 0], ids=["held", "dropped"])
async def team(request: pytest.FixtureRequest, db_url: str, tmp_path,
               capsys: pytest.CaptureFixture[str]) -> AsyncIterator[tuple[Server, dict[str, str]]]:
    """A tokens-mode server, tokens for admin, alice and bob, and alice's model, TEAM_MODEL (she may
    use the catalog and schema, and create models in it). Twice: with the default memory, and
    with none, so that every model is looked up again by each command and check."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0,
                       memory=request.param) as server:
        tokens = {"admin": BOOTSTRAP.findall(capsys.readouterr().err)[0]}
        for name in ("alice", "bob"):
            _, issued, _ = await call(server, "POST", f"{V1}/tokens", tokens["admin"],
                                      json={"principal": name})
            tokens[name] = issued["token"]
        for securable, privileges in (("catalog/unity", ["USE CATALOG"]),
                                      ("schema/unity.default", ["USE SCHEMA", "CREATE MODEL"])):
            status, _, _ = await call(server, "PATCH", f"{V1}/permissions/{securable}", tokens["admin"],
                                      json=patch("alice", privileges))
            assert status == 200
        status, _, _ = await call(server, "POST", f"{V1}/models", tokens["alice"],
                                  json={"name": TEAM_MODEL})
        assert status == 201
        yield server, tokens
