"""One model with a long history against a fresh one, through a real server, in one run.

    python bench/history.py [--versions 100000] [--reads 300] [--database-url URL] [--json]

1. Fills `unity.default.big` with `--versions` versions in-process through the write path (each
   registered READY; every 10th tagged, every 100th moves `champion`, every 1000th goes to
   Production archiving the one before), and makes `unity.default.fresh` with a handful.
2. Starts `modelog serve` on that database and, for each model, measures:
   - the first write after a restart (a fresh process, the model not yet loaded), ms;
   - the server's CPU per write (sequential native registrations, blocks alternating between
     the models), and its ratio big/fresh;
   - p50/p99 of current reads (native model, MLflow get-model with its latest versions, MLflow
     get-version of an old version, MLflow alias) and of `as_of` reads at random points of the
     history (native model, version, first page of versions), with ratios big/fresh.
   The server's own event-loop lag (/metrics) over the measurements says how long the loop was
   ever blocked; a probe GETs /healthz every 10 ms as a client sees it. Targets (issue 15):
   as_of and current reads p99 <= 10 ms, write CPU <= 1.5x a fresh model's, first write after
   restart <= 100 ms, event loop never blocked > 20 ms.

Without `--database-url` a throwaway embedded PostgreSQL is started in a temporary directory.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.append import scratch_database, server
from bench.vs_mlflow import ENV, free_port, modelog_command
from bench.vs_mlflow import server as serve
from registry import bootstrap
from registry.domain import commands as c
from registry.eventstore.database import create_pool, migrate

BIG, FRESH = "unity.default.big", "unity.default.fresh"
NATIVE, MLFLOW = "/api/modelog/v1", "/api/2.0/mlflow"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def fill(url: str, versions: int) -> None:
    pool = await create_pool(url)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        async with bootstrap.writing(pool, bootstrap=True) as w:
            s = w.service
            for name in (BIG, FRESH):
                await s.execute(c.CreateModel(full_name=name), "bench")
            for _ in range(5):
                await s.execute(c.RegisterVersion(full_name=FRESH, source="s3://b/f",
                                                  ready=True), "bench")
            await s.execute(c.SetAlias(full_name=FRESH, alias="champion", version=5), "bench")
            started, chunk = time.monotonic(), 500
            for first in range(1, versions + 1, chunk):
                numbers = range(first, min(first + chunk, versions + 1))
                await asyncio.gather(*(s.execute(c.RegisterVersion(
                    full_name=BIG, source=f"s3://b/big/{n}", ready=True), "bench")
                    for n in numbers))
                extra = [c.SetVersionTag(full_name=BIG, version=n, key="k", value=str(n))
                         for n in numbers if n % 10 == 0]
                extra += [c.SetAlias(full_name=BIG, alias="champion", version=n)
                          for n in numbers if n % 100 == 0]
                extra += [c.TransitionStage(full_name=BIG, version=n, stage="Production",
                                            archive_existing_versions=True)
                          for n in numbers if n % 1000 == 0]
                await asyncio.gather(*(s.execute(cmd, "bench") for cmd in extra))
                done = numbers.stop - 1
                if done % 10_000 < chunk or done == versions:
                    rate = done / (time.monotonic() - started)
                    say(f"  filled {done:,}/{versions:,} versions ({rate:,.0f}/s)")
        await pool.execute("ANALYZE")  # as autovacuum would have by now
    finally:
        await pool.close()


async def loop_lag(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """The server's own measure of its event loop (registry/http/loop_lag.py), from /metrics."""
    async with http.get(f"{base}/metrics") as r:
        text = await r.text()
    prefix = "modelog_event_loop_"
    return {name[len(prefix):].replace("lag_", ""): float(value)
            for name, value in (line.split() for line in text.splitlines()
                                if line.startswith(prefix))}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Probe:
    """GETs /healthz every 10 ms; the worst latency is how long the event loop stood still."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.worst, self.count = http, base, 0.0, 0
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        while True:
            t = time.perf_counter()
            async with self.http.get(f"{self.base}/healthz") as r:
                await r.read()
            self.worst = max(self.worst, time.perf_counter() - t)
            self.count += 1
            await asyncio.sleep(0.01)

    def __enter__(self) -> "Probe":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def timed(fn: Callable[[], Awaitable[None]], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2)}


async def call(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with http.request(method, url, **kw) as r:
        body = await r.json()
        if r.status >= 300:
            raise SystemExit(f"{method} {url}: {r.status} {body}")
        return body


@contextlib.asynccontextmanager
async def running(work: Path, url: str, log: str) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    cmd = modelog_command(work / "data", port, url)
    with serve(cmd, f"http://127.0.0.1:{port}/readyz", work / log, ENV) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


async def measure(http: aiohttp.ClientSession, base: str, pid: int, args: argparse.Namespace,
                  heads: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    rng = random.Random(5)
    out: dict[str, Any] = {}

    def register(name: str) -> Callable[[], Awaitable[None]]:
        async def go() -> None:
            await call(http, "POST", f"{base}{NATIVE}/models/{name}/versions",
                       json={"source": "s3://b/more"})
        return go

    # CPU per write: after a warm-up of both (a fresh process's first requests cost more),
    # blocks alternating between the models, each first in every other round.
    for name in (BIG, FRESH):
        for _ in range(100):
            await register(name)()
    cpu, block = {BIG: 0.0, FRESH: 0.0}, args.writes // 6
    for r in range(6):
        for name in ((BIG, FRESH) if r % 2 == 0 else (FRESH, BIG)):
            before = cpu_seconds(pid)
            for _ in range(block):
                await register(name)()
            cpu[name] += cpu_seconds(pid) - before
    out["write_cpu_ms"] = {n: round(v * 1000 / (block * 6), 3) for n, v in cpu.items()}
    out["write_cpu_ratio"] = round(cpu[BIG] / cpu[FRESH], 2)

    reads = {name.rsplit(".", 1)[1]: await reads_of(http, base, name, heads[name], rng,
                                                     args.reads) for name in (BIG, FRESH)}
    out["reads"] = reads
    out["read_p99_ratio"] = {k: round(reads["big"][k]["p99_ms"] / reads["fresh"][k]["p99_ms"], 2)
                             for k in reads["big"]}
    return out


async def reads_of(http: aiohttp.ClientSession, base: str, name: str,
                   head: tuple[int, int, int], rng: random.Random, n: int
                   ) -> dict[str, dict[str, float]]:
    short = name.rsplit(".", 1)[1]
    first, last, top = head
    old = max(1, top // 7)

    def point() -> int:
        return rng.randint(first, last)

    async def model_as_of() -> None:
        await call(http, "GET", f"{base}{NATIVE}/models/{name}", params={"as_of": point()})

    async def version_as_of() -> None:
        await call(http, "GET", f"{base}{NATIVE}/models/{name}/versions/1",
                   params={"as_of": point()})

    async def versions_as_of() -> None:
        await call(http, "GET", f"{base}{NATIVE}/models/{name}/versions",
                   params={"as_of": point(), "max_results": "100"})

    async def native_model() -> None:
        await call(http, "GET", f"{base}{NATIVE}/models/{name}")

    async def mlflow_model() -> None:
        await call(http, "GET", f"{base}{MLFLOW}/registered-models/get", params={"name": short})

    async def mlflow_version() -> None:
        await call(http, "GET", f"{base}{MLFLOW}/model-versions/get",
                   params={"name": short, "version": str(old)})

    async def mlflow_alias() -> None:
        await call(http, "GET", f"{base}{MLFLOW}/registered-models/alias",
                   params={"name": short, "alias": "champion"})

    return {fn.__name__: await timed(fn, n) for fn in (
        native_model, mlflow_model, mlflow_version, mlflow_alias, model_as_of, version_as_of,
        versions_as_of)}


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"versions": args.versions}
    with tempfile.TemporaryDirectory(prefix="modelog-history-") as tmp:
        os.chmod(tmp, 0o755)
        work = Path(tmp)
        async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
            say(f"filling {args.versions:,} versions of {BIG}")
            t = time.monotonic()
            await fill(url, args.versions)
            result["fill_s"] = round(time.monotonic() - t, 1)
            pool = await create_pool(url, min_size=1, max_size=2)
            heads = {}
            for name in (BIG, FRESH):
                r = await pool.fetchrow(
                    "SELECT min(e.position) FILTER (WHERE e.type = 'VersionRegistered'), "
                    "max(e.position), count(*) FILTER "
                    "(WHERE e.type = 'VersionRegistered') FROM events e JOIN registered_models m "
                    "ON e.stream_id = 'model:' || m.id WHERE m.full_name = $1", name)
                heads[name] = (r[0], r[1], r[2])
            result["events"] = await pool.fetchval("SELECT count(*) FROM events")
            await pool.close()
            timeout = aiohttp.ClientTimeout(total=600)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                first: dict[str, float] = {}
                for name in (BIG, FRESH, BIG, FRESH):  # a restart before each
                    async with running(work, url, "restart.log") as (base, _):
                        t = time.perf_counter()
                        await call(http, "POST", f"{base}{NATIVE}/models/{name}/versions",
                                   json={"source": "s3://b/first"})
                        ms = (time.perf_counter() - t) * 1000
                        first[name] = max(first.get(name, 0.0), ms)
                result["first_write_after_restart_ms"] = {n: round(v, 1) for n, v in first.items()}
                say("measuring writes and reads")
                async with running(work, url, "modelog.log") as (base, pid):
                    before = await loop_lag(http, base)  # also starts a fresh "recent" window
                    with Probe(http, base) as probe:
                        result |= await measure(http, base, pid, args, heads)
                    after = await loop_lag(http, base)
                    result["event_loop"] = {
                        "lag_max_ms": round(after["recent_max_seconds"] * 1000, 1),
                        "stalls_over_20ms": int(after["stalls_total"] - before["stalls_total"])}
                    result["healthz_probe"] = {"max_ms": round(probe.worst * 1000, 1),
                                               "probes": probe.count}
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("--writes", type=int, default=600)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
