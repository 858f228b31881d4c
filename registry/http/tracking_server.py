"""The MLflow tracking server a registration's run and logged model live on (`--tracking-uri`,
optional): asked, as MLflow's own server asks its tracking store, for a logged model's run and
files and for a run's artifact folder, so versions carry their lineage (run id, run link) and a
source inside a run's or model's artifacts can be checked."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from registry.domain.errors import Unavailable


@dataclass(frozen=True, slots=True)
class Lineage:
    """What the tracking server knows of a run or a logged model."""

    run_id: str | None
    artifacts: str | None  # the run's artifact URI, or the logged model's artifact location
    run_link: str | None


class TrackingServer:
    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    async def _get(self, path: str, **params: str) -> dict[str, Any] | None:
        try:
            async with self.http.get(f"{self.base_url}/api/2.0/mlflow/{path}",
                                     params=params) as r:
                if r.status == 404 or (r.status == 400 and "DOES_NOT_EXIST" in await r.text()):
                    return None
                r.raise_for_status()
                return await r.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(f"the tracking server {self.base_url} did not answer: {exc}"
                              ) from None

    def _link(self, experiment_id: str | None, run_id: str | None) -> str | None:
        if not experiment_id or not run_id:
            return None
        return f"{self.base_url}/#/experiments/{experiment_id}/runs/{run_id}"

    async def logged_model(self, model_id: str) -> Lineage | None:
        found = await self._get(f"logged-models/{quote(model_id, safe='')}")
        if found is None:
            return None
        info = found.get("model", {}).get("info", {})
        run_id = info.get("source_run_id") or None
        return Lineage(run_id, info.get("artifact_uri"),
                       self._link(info.get("experiment_id"), run_id))

    async def run(self, run_id: str) -> Lineage | None:
        found = await self._get("runs/get", run_id=run_id)
        if found is None:
            return None
        info = found.get("run", {}).get("info", {})
        return Lineage(run_id, info.get("artifact_uri"),
                       self._link(info.get("experiment_id"), run_id))


@contextlib.asynccontextmanager
async def tracking_server(base_url: str | None) -> AsyncIterator[TrackingServer | None]:
    if base_url is None:
        yield None
        return
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        yield TrackingServer(base_url, http)
