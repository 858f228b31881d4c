"""The privilege matrix end to end: principals x actions x surfaces, each with the status the
table says, through the native API, Unity Catalog's REST API and the real MLflow client with
tokens. The table is written out by hand from Unity Catalog's rules (not computed with the code
under test): who may read, modify, tag, grant and create."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from registry.http.keys import AUTH
from tests.support.server import UC, V1, Server, call, grant, may_create_models, serving

MODEL = "unity.default.scorer"
SHORT = "scorer"  # the classic MLflow registry's name for it (the default catalog and schema)

# Who holds what. alice owns the model (and may create models in the schema); the others get the
# named privileges on the model, and USE on its catalog and schema unless they are "strangers".
PRINCIPALS: dict[str, tuple[str, ...]] = {
    "admin": (),  # a metastore admin
    "alice": (),  # the owner
    "mia": ("MANAGE",),
    "rob": ("EXECUTE",),
    "tia": ("EXECUTE", "APPLY TAG"),
    "ursula": (),  # USE on the parents only
    "sam": (),  # a stranger: not even USE
}
# Which principals each kind of action lets through. MANAGE lets mia do what the owner may but
# tag (APPLY TAG is a privilege of its own).
MAY: dict[str, set[str]] = {
    "read": {"admin", "alice", "mia", "rob", "tia"},
    "modify": {"admin", "alice", "mia"},
    "tag": {"admin", "alice", "tia"},
    "grant": {"admin", "alice", "mia"},
    "create": {"admin", "alice"},
}

Action = Callable[[Server, str, str], Awaitable[int]]  # (server, token, principal) -> status


def http(method: str, path: str, body: dict | None = None) -> Action:
    async def run(server: Server, token: str, principal: str) -> int:
        status, err, _ = await call(server, method, path.format(p=principal), token,
                                    json=None if body is None else _fill(body, principal))
        if status == 403:
            assert err["error_code"] == "PERMISSION_DENIED", err
        return status
    return run


def _fill(body: dict, principal: str) -> dict:
    return {k: v.format(p=principal) if isinstance(v, str) else v for k, v in body.items()}


def mlflow(attempt: Callable[[MlflowClient, str], Any]) -> Action:
    async def run(server: Server, token: str, principal: str) -> int:
        client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
        try:
            await asyncio.to_thread(_as(token, attempt), client, principal)
        except MlflowException as exc:
            if exc.error_code == "PERMISSION_DENIED":
                assert exc.get_http_status_code() == 403
                return 403
            raise
        return 200
    return run


def _as(token: str, attempt: Callable[[MlflowClient, str], Any]) -> Callable[..., Any]:
    def call_with_token(client: MlflowClient, principal: str) -> Any:
        # The client reads MLFLOW_TRACKING_TOKEN at each request; the thread runs alone.
        import os
        os.environ["MLFLOW_TRACKING_TOKEN"] = token
        try:
            return attempt(client, principal)
        finally:
            del os.environ["MLFLOW_TRACKING_TOKEN"]
    return call_with_token


M, MV = f"{V1}/models/{MODEL}", f"{V1}/models/{MODEL}/versions/1"
ACTIONS: list[tuple[str, str, str, Action]] = [  # (surface, action, kind, how)
    ("native", "get model", "read", http("GET", M)),
    ("native", "get version", "read", http("GET", MV)),
    ("native", "get alias", "read", http("GET", f"{M}/aliases/champion")),
    ("native", "list versions", "read", http("GET", f"{M}/versions")),
    ("native", "register version", "modify", http("POST", f"{M}/versions", {"source": "s3://b/{p}"})),
    ("native", "set alias", "modify", http("PUT", f"{M}/aliases/champion", {"version": 1})),
    ("native", "delete alias", "modify", http("DELETE", f"{M}/aliases/temp")),
    ("native", "describe", "modify", http("PATCH", M, {"description": "by {p}"})),
    ("native", "stage", "modify", http("POST", f"{MV}/stage", {"stage": "Staging"})),
    ("native", "set tag", "tag", http("PUT", f"{M}/tags/k", {"value": "{p}"})),
    ("native", "grant", "grant", http("PATCH", f"{V1}/permissions/registered_model/{MODEL}",
                                      {"changes": [{"principal": "zed", "add": ["EXECUTE"]}]})),
    ("native", "create model", "create", http("POST", f"{V1}/models",
                                              {"name": "unity.default.new_{p}"})),
    ("uc", "get model", "read", http("GET", f"{UC}/models/{MODEL}")),
    ("uc", "get version", "read", http("GET", f"{UC}/models/{MODEL}/versions/1")),
    ("uc", "get alias", "read", http("GET", f"{UC}/models/{MODEL}/aliases/champion")),
    ("uc", "register version", "modify", http("POST", f"{UC}/models/versions", {
        "catalog_name": "unity", "schema_name": "default", "model_name": "scorer",
        "source": "s3://b/{p}"})),
    ("uc", "set alias", "modify", http("PUT", f"{UC}/models/{MODEL}/aliases/champion",
                                       {"version_num": 1})),
    ("uc", "delete alias", "modify", http("DELETE", f"{UC}/models/{MODEL}/aliases/temp")),
    ("uc", "describe", "modify", http("PATCH", f"{UC}/models/{MODEL}", {"comment": "by {p}"})),
    ("uc", "grant", "grant", http("PATCH", f"{UC}/permissions/registered_model/{MODEL}",
                                  {"changes": [{"principal": "zed", "add": ["EXECUTE"]}]})),
    ("uc", "create model", "create", http("POST", f"{UC}/models", {
        "catalog_name": "unity", "schema_name": "default", "name": "uc_{p}"})),
    ("mlflow", "get model", "read", mlflow(lambda c, p: c.get_registered_model(SHORT))),
    ("mlflow", "get version", "read", mlflow(lambda c, p: c.get_model_version(SHORT, "1"))),
    ("mlflow", "get alias", "read",
     mlflow(lambda c, p: c.get_model_version_by_alias(SHORT, "champion"))),
    ("mlflow", "register version", "modify",
     mlflow(lambda c, p: c.create_model_version(SHORT, f"s3://b/{p}"))),
    ("mlflow", "set alias", "modify",
     mlflow(lambda c, p: c.set_registered_model_alias(SHORT, "champion", "1"))),
    ("mlflow", "delete alias", "modify",
     mlflow(lambda c, p: c.delete_registered_model_alias(SHORT, "temp"))),
    ("mlflow", "describe", "modify",
     mlflow(lambda c, p: c.update_registered_model(SHORT, description=f"by {p}"))),
    ("mlflow", "stage", "modify",
     mlflow(lambda c, p: c.transition_model_version_stage(SHORT, "1", "Staging"))),
    ("mlflow", "set tag", "tag", mlflow(lambda c, p: c.set_registered_model_tag(SHORT, "k", p))),
    ("mlflow", "create model", "create",
     mlflow(lambda c, p: c.create_registered_model(f"ml_{p}"))),
]


@pytest.fixture
async def registry(db_url: str, tmp_path) -> AsyncIterator[tuple[Server, dict[str, str]]]:
    """The model with version 1 and alias champion, and a token for each principal."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        auth = server.app[AUTH]
        tokens = {}
        for name in PRINCIPALS:
            token, _ = await auth.issue(name, actor="admin", admin=name == "admin")
            tokens[name] = str(token)
        await may_create_models(server, "alice")
        assert (await call(server, "POST", f"{V1}/models", tokens["alice"],
                           json={"name": MODEL}))[0] == 201
        await call(server, "POST", f"{M}/versions", tokens["alice"], json={"source": "s3://b/0"})
        await call(server, "PUT", f"{M}/aliases/champion", tokens["alice"], json={"version": 1})
        for name, held in PRINCIPALS.items():
            if name not in ("admin", "alice", "sam"):
                await grant(server, "catalog", "unity", name, "USE CATALOG")
                await grant(server, "schema", "unity.default", name, "USE SCHEMA")
            if held:
                await grant(server, "registered_model", MODEL, name, *held)
        yield server, tokens


@pytest.mark.parametrize("surface", ["native", "uc", "mlflow"])
async def test_matrix(registry, surface: str) -> None:
    server, tokens = registry
    failures = []
    for principal, token in tokens.items():
        for where, action, kind, run in ACTIONS:
            if where != surface:
                continue
            if action == "delete alias":  # something to delete, whoever tries
                await call(server, "PUT", f"{M}/aliases/temp", tokens["admin"], json={"version": 1})
            status = await run(server, token, principal)
            expected = "2xx" if principal in MAY[kind] else "403"
            got = "2xx" if 200 <= status < 300 else str(status)
            if got != expected:
                failures.append(f"{principal} {surface} {action}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)
