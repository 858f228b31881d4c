"""The scene of issue 6's attack tests (tests/e2e/test_attacks*.py), which the `world` fixture
(tests/e2e/conftest.py) sets: a tokens-mode server where alice owns `unity.default.secret`
(version 1, alias `champion`, a tag), `reader` holds EXECUTE on it and USE on its parents, and
`mallory` may use the schema and create models in it but holds nothing on alice's. Requests go out
with their paths exactly as written (no client-side normalisation of `..` or percent escapes)."""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from registry.http.keys import POOL
from tests.support.server import UC, V1, Server

ML = "/api/2.0/mlflow"
SECRET = "unity.default.secret"


def surface(path: str) -> str:
    return "mlflow" if "/2.0/mlflow/" in path else "uc" if path.startswith(UC) else "native"


def assert_error(path: str, status: int, body: Any, *expected: int) -> None:
    """A clean 4xx (one of `expected`) in the error format of the path's surface."""
    assert status in expected, (path, status, body)
    assert isinstance(body, dict) and isinstance(body.get("error_code"), str), (path, body)
    assert isinstance(body.get("message"), str), (path, body)
    match surface(path):
        case "mlflow":  # MLflow's clients read the first two; MLflow 3 classifies most errors
            assert {"error_code", "message"} <= set(body) <= {
                "error_code", "message", "sqlstate", "error_class"}, (path, body)
        case "uc":
            assert isinstance(body["details"], list), (path, body)
        case _:
            assert isinstance(body["details"], dict), (path, body)


WORKSPACE = "unity.default."


def mlflow_name(full_name: str) -> str | None:
    """The name MLflow's flat registry knows a model by: only the workspace schema's are there."""
    return full_name.removeprefix(WORKSPACE) if full_name.startswith(WORKSPACE) else None


def model_reads(name: str) -> list[str]:
    """Every GET that reads one model by name, on the surfaces that have it."""
    q = quote(name, safe="")
    return _native_and_uc_reads(q) + _mlflow_reads(name)


def _mlflow_reads(name: str) -> list[str]:
    short = mlflow_name(name)
    if short is None:
        return []
    q = quote(short, safe="")
    return [
        f"{ML}/registered-models/get?name={q}", f"{ML}/model-versions/get?name={q}&version=1",
        f"{ML}/registered-models/alias?name={q}&alias=champion",
        f"{ML}/model-versions/get-download-uri?name={q}&version=1",
        f"{ML}/registered-models/get-latest-versions?name={q}",
        f"/ajax-api/2.0/mlflow/registered-models/get?name={q}",
    ]


def _native_and_uc_reads(q: str) -> list[str]:
    return [
        f"{V1}/models/{q}", f"{V1}/models/{q}/versions", f"{V1}/models/{q}/versions/1",
        f"{V1}/models/{q}/aliases/champion", f"{V1}/models/{q}/history",
        f"{V1}/models/{q}/timeline", f"{V1}/models/{q}/aliases/champion/history",
        f"{V1}/permissions/registered_model/{q}",
        f"{UC}/models/{q}", f"{UC}/models/{q}/versions", f"{UC}/models/{q}/versions/1",
        f"{UC}/models/{q}/aliases/champion", f"{UC}/permissions/registered_model/{q}",
        f"{UC}/effective-permissions/registered_model/{q}",
    ]


def one_read_each(name: str) -> list[str]:
    """The model itself, on each surface."""
    q, short = quote(name, safe=""), mlflow_name(name)
    return [f"{V1}/models/{q}", f"{UC}/models/{q}"] + (
        [] if short is None else [f"{ML}/registered-models/get?name={quote(short, safe='')}"])


def model_writes(name: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """A write of each kind on one model by name, on every surface."""
    q, schema, short = quote(name, safe=""), "default", name.rsplit(".", 1)[-1]
    m, mv = f"{ML}/registered-models", f"{ML}/model-versions"
    ml = mlflow_name(name)
    mlflow_writes = [] if ml is None else [
        ("POST", f"{m}/rename", {"name": ml, "new_name": "stolen"}),
        ("PATCH", f"{m}/update", {"name": ml, "description": "owned"}),
        ("POST", f"{m}/set-tag", {"name": ml, "key": "k", "value": "v"}),
        ("DELETE", f"{m}/delete-tag", {"name": ml, "key": "team"}),
        ("POST", f"{m}/alias", {"name": ml, "alias": "champion", "version": "1"}),
        ("DELETE", f"{m}/alias", {"name": ml, "alias": "champion"}),
        ("POST", f"{mv}/create", {"name": ml, "source": "s3://mallory/1"}),
        ("POST", f"{mv}/transition-stage", {"name": ml, "version": "1", "stage": "Archived"}),
        ("PATCH", f"{mv}/update", {"name": ml, "version": "1", "description": "owned"}),
        ("POST", f"{mv}/set-tag", {"name": ml, "version": "1", "key": "k", "value": "v"}),
        ("DELETE", f"{mv}/delete", {"name": ml, "version": "1"}),
        ("DELETE", f"{m}/delete", {"name": ml}),
    ]
    return [
        *mlflow_writes,
        ("PATCH", f"{V1}/models/{q}", {"description": "owned"}),
        ("PATCH", f"{V1}/models/{q}", {"new_name": "unity.default.stolen"}),
        ("PUT", f"{V1}/models/{q}/tags/k", {"value": "v"}),
        ("POST", f"{V1}/models/{q}/versions", {"source": "s3://mallory/1"}),
        ("PUT", f"{V1}/models/{q}/aliases/champion", {"version": 1}),
        ("DELETE", f"{V1}/models/{q}/aliases/champion", None),
        ("POST", f"{V1}/models/{q}/versions/1/stage", {"stage": "Archived"}),
        ("POST", f"{V1}/models/{q}/versions/1/transition-requests", {"stage": "Production"}),
        ("PATCH", f"{V1}/permissions/registered_model/{q}",
         {"changes": [{"principal": "mallory", "add": ["MANAGE"]}]}),
        ("PUT", f"{V1}/owner/registered_model/{q}", {"owner": "mallory"}),
        ("DELETE", f"{V1}/models/{q}?force=true", None),
        ("PATCH", f"{UC}/models/{q}", {"comment": "owned"}),
        ("POST", f"{UC}/models/versions", {"catalog_name": "unity", "schema_name": schema,
                                            "model_name": short, "source": "s3://mallory/1"}),
        ("PUT", f"{UC}/models/{q}/aliases/champion", {"version_num": 1}),
        ("DELETE", f"{UC}/models/{q}/aliases/champion", None),
        ("PATCH", f"{UC}/permissions/registered_model/{q}",
         {"changes": [{"principal": "mallory", "add": ["EXECUTE"]}]}),
        ("POST", f"{UC}/temporary-model-version-credentials",
         {"catalog_name": "unity", "schema_name": schema, "model_name": short, "version": 1,
          "operation": "READ_MODEL_VERSION"}),
        ("DELETE", f"{UC}/models/{q}", None),
    ]


@dataclass
class World:
    server: Server
    http: aiohttp.ClientSession
    tokens: dict[str, str] = field(default_factory=dict)
    model_id: str = ""

    async def call(self, who: str | None, method: str, path: str, **kwargs: Any
                   ) -> tuple[int, Any]:
        """As `who` (a principal with a token here, or a raw token, or None: no credential)."""
        status, body, _ = await self.exchange(who, method, path, **kwargs)
        return status, body

    async def exchange(self, who: str | None, method: str, path: str,
                       headers: dict[str, str] | None = None, **kwargs: Any
                       ) -> tuple[int, Any, Any]:
        headers = dict(headers or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(who, who)}"
        url = yarl.URL(self.server.url + path, encoded=True)
        async with self.http.request(method, url, headers=headers, **kwargs) as r:
            text = await r.text(errors="replace")
            body = json.loads(text) if r.content_type == "application/json" else text
            return r.status, body, r.headers

    async def log_size(self) -> int:
        return await self.server.app[POOL].fetchval("SELECT count(*) FROM events")
