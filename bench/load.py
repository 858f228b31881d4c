"""Load driver for any registry speaking MLflow's Model Registry REST API (MLflow's own server, or
Modelog): the same work against each, so that the ratio between two targets is the figure.

    python bench/load.py URL [--models 20] [--versions 25] [--clients 16] [--token T] [--prefix P]
    python -m bench.load URL ...

Phases, in order:
  1. create `--models` registered models, all at once;
  2. `--clients` concurrent clients share the work of registering `--versions` versions of every
     model, each a create version then a set alias `champion` to it: write ops/s and latency. Several
     clients work on the same model at once, so version numbering is contended; afterwards the first
     5 models' versions must be exactly 1..V (version integrity);
  3. `--clients` concurrent clients get the version aliased `champion` (2 x models x versions
     get-by-alias calls, which return the version): read ops/s and latency;
  4. one search_model_versions call for each of the first 10 models, in turn: its median latency.

Prints one JSON line (keys: target, models, versions_per_model, clients, create_models_s, write_ops,
write_ops_per_s, write_p50_ms, write_p99_ms, read_ops, read_ops_per_s, read_p50_ms, read_p99_ms,
search_p50_ms, version_integrity, errors, first_errors); exits 1 on any error or lost integrity.
bench/vs_mlflow.py and bench/auth_overhead.py run it and read those keys; the figures stay
comparable with the runs recorded in docs/benchmarks.md.
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

API = "/api/2.0/mlflow"
ALIAS = "champion"
INTEGRITY_MODELS = 5  # models whose version numbers are checked after the writes
SEARCH_MODELS = 10  # models searched in phase 4

T = TypeVar("T")  # a work item (the project targets Python 3.11: no PEP 695 generics)


@dataclass
class Target:
    """One session against the target, and every failed call's summary (all phases together)."""

    http: aiohttp.ClientSession
    errors: list[str] = field(default_factory=list)

    async def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: dict[str, Any] | None = None, lat: list[float] | None = None
                   ) -> dict[str, Any] | None:
        """The answer of a 200, else None with the failure recorded. A response's latency counts
        whatever its status (a fast refusal is still a request served); a call that got no response
        counts as an error only."""
        t0 = time.perf_counter()
        try:
            async with self.http.request(method, API + path, params=params, json=body) as r:
                text = await r.text()
                if lat is not None:
                    lat.append(time.perf_counter() - t0)
                if r.status != 200:
                    self.errors.append(f"{method} {path} {r.status} {text[:200]}")
                    return None
                return json.loads(text) if text else {}
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as e:
            self.errors.append(f"{method} {path} {type(e).__name__}: {str(e)[:200]}")
            return None


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (no interpolation), as the earlier runs' figures were taken."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(values: list[float], q: float) -> float | None:
    return round(1000 * percentile(values, q), 2) if values else None


async def drain(work: Iterator[T], clients: int, one: Callable[[T], Awaitable[None]]) -> float:
    """Seconds for `clients` concurrent workers to do every item of `work` with `one(item)`: each
    worker takes the next item when it is done with its last, so a slow call delays only its worker."""

    async def worker() -> None:
        for item in work:  # one iterator shared by all workers: each item is done once
            await one(item)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - t0


async def versions_of(target: Target, name: str) -> list[int] | None:
    """Every version number of the model, through all pages of search_model_versions."""
    found: list[int] = []
    params = {"filter": f"name='{name}'", "max_results": "1000"}
    while True:
        page = await target.call("GET", "/model-versions/search", params=params)
        if page is None:
            return None
        found += [int(mv["version"]) for mv in page.get("model_versions", [])]
        if not (token := page.get("next_page_token")):
            return found
        params = {**params, "page_token": token}


async def run(url: str, models: int, versions: int, clients: int, token: str | None = None,
              prefix: str | None = None) -> dict[str, Any]:
    """The four phases against `url`; the figures as one JSON-able dict."""
    prefix = prefix or f"load_{uuid.uuid4().hex[:8]}"  # a fresh namespace: reruns do not collide
    names = [f"{prefix}_m{i}" for i in range(models)]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # Two connections per client: a client never waits for a connection another one holds.
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as http:
        target = Target(http)

        t0 = time.perf_counter()
        await asyncio.gather(*(target.call("POST", "/registered-models/create",
                                           body={"name": n, "description": "load"}) for n in names))
        create_s = time.perf_counter() - t0

        # Version k of every model before version k+1 of any: the clients spread over all models
        # at once, and whenever clients outnumber models, several register versions of one model.
        wlat: list[float] = []

        async def register(item: tuple[str, int]) -> None:
            name, k = item
            created = await target.call("POST", "/model-versions/create", lat=wlat, body={
                "name": name, "source": f"s3://bucket/artifacts/{name}/{k}"})
            if created is not None:
                version = str(created["model_version"]["version"])
                await target.call("POST", "/registered-models/alias", lat=wlat,
                                  body={"name": name, "alias": ALIAS, "version": version})

        write_s = await drain(((n, k) for k in range(versions) for n in names), clients, register)

        # Contended version numbering must still give each model exactly 1..V: none lost, none twice.
        integrity = True
        for name in names[:INTEGRITY_MODELS]:  # every one searched, even after a miss: its errors count
            found = await versions_of(target, name)
            if found is None or sorted(found) != list(range(1, versions + 1)):
                integrity = False

        rlat: list[float] = []

        async def resolve(name: str) -> None:
            await target.call("GET", "/registered-models/alias", lat=rlat,
                              params={"name": name, "alias": ALIAS})

        reads = (names[i % models] for i in range(2 * models * versions))
        read_s = await drain(reads, clients, resolve)

        slat: list[float] = []
        for name in names[:SEARCH_MODELS]:  # one at a time: the latency of a search, not throughput
            await target.call("GET", "/model-versions/search", lat=slat,
                              params={"filter": f"name='{name}'", "max_results": "100"})

    return {
        "target": url, "models": models, "versions_per_model": versions, "clients": clients,
        "create_models_s": round(create_s, 3),
        "write_ops": len(wlat), "write_ops_per_s": round(len(wlat) / write_s, 1),
        "write_p50_ms": ms(wlat, .5), "write_p99_ms": ms(wlat, .99),
        "read_ops": len(rlat), "read_ops_per_s": round(len(rlat) / read_s, 1),
        "read_p50_ms": ms(rlat, .5), "read_p99_ms": ms(rlat, .99),
        "search_p50_ms": round(1000 * statistics.median(slat), 2) if slat else None,
        "version_integrity": integrity,
        "errors": len(target.errors), "first_errors": target.errors[:3],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="the registry's base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--models", type=int, default=20, help="registered models to create")
    ap.add_argument("--versions", type=int, default=25, help="versions registered per model")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients for writes and reads")
    ap.add_argument("--token", default=None, help="bearer token sent with every request")
    ap.add_argument("--prefix", default=None, help="model name prefix (default: load_<random>)")
    a = ap.parse_args(argv)
    out = asyncio.run(run(a.url, a.models, a.versions, a.clients, a.token, a.prefix))
    print(json.dumps(out))
    return 0 if out["errors"] == 0 and out["version_integrity"] else 1


if __name__ == "__main__":
    sys.exit(main())
