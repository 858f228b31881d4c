"""Cached alias reads alone, and under concurrent writers, on a real server (issue 15, point 4).

    python -m bench.reads_under_writes [--clients 16] [--writers 8] [--seconds 5] [--rounds 3]
                                       [--models 50] [--base /tmp/wt-base] [--json]

Starts `modelog serve` (embedded PostgreSQL, loopback, a temporary directory) from this tree and,
with --base, from another checkout of the project (e.g. `git worktree add /tmp/wt-base <commit>`),
side by side, and runs three phases of --seconds against each, taking the servers in turn phase by
phase, their order alternating by round, so that both see the same machine:
  alone        --clients clients get the version aliased `champion` of --models models, at random;
  other models the same, while --writers writers each flip the alias of a model of its own;
  same models  the same, while the writers flip the aliases of models being read.
The readers, the writers and the /healthz probe are processes of their own.
Per phase: alias reads/s and p99, writes/s, the read cache's hit rate (from /metrics), the
server's CPU use, and the longest /healthz answer of a probe (every 20 ms;
on a shared machine it measures the machine's stalls as well as the server's). The figure:
reads/s under writers as a fraction of reads alone in the same round, the median over rounds.
Target (issue 15): >= 0.7x with writers on other models. Progress on stderr; --json prints one
JSON line.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import ms
from bench.vs_mlflow import ENV, free_port, modelog_command, server, workdir

ROOT = Path(__file__).resolve().parents[1]
API = "/api/2.0/mlflow"
ALIAS = "champion"
PHASES = ("alone", "other models", "same models")


def progress(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


@contextlib.contextmanager
def modelog(tree: Path, work: Path, database_url: str | None) -> Iterator[tuple[str, int]]:
    """`modelog serve` from the checkout `tree`: its own code (`-m` imports from the working
    directory first) and migrations. Its URL and process id."""
    port = free_port()
    cmd = modelog_command(work, port, database_url)
    work.mkdir(parents=True, exist_ok=True)
    with server(cmd, f"http://127.0.0.1:{port}/readyz", work.with_suffix(".log"),
                {**ENV, "PYTHONPATH": str(tree)}, cwd=tree) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cache_counters(url: str) -> tuple[int, int]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
        text = r.read().decode()
    found = [int(re.search(rf"^modelog_read_cache_{k}_total (\d+)$", text, re.M).group(1))
             for k in ("hits", "misses")]
    return found[0], found[1]


def probe(url: str, seconds: float) -> dict[str, Any]:
    """/healthz every 20 ms for `seconds`, in this (otherwise idle) process."""
    lat: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as r:
            r.read()
        lat.append(time.perf_counter() - t0)
        time.sleep(0.02)
    return {"probes": len(lat), "max_ms": ms(lat, 1.0), "p99_ms": ms(lat, .99)}


async def call(http: aiohttp.ClientSession, method: str, path: str, errors: list[str],
               **kwargs: Any) -> bool:
    async with http.request(method, API + path, **kwargs) as r:
        await r.read()
        if r.status != 200:
            errors.append(f"{method} {path} {r.status}")
        return r.status == 200


async def write(url: str, names: list[str], seconds: float) -> dict[str, Any]:
    """One writer per model, each flipping its `champion` between versions 1 and 2."""
    errors: list[str] = []
    writes = 0
    stop = time.monotonic() + seconds

    async def writer(http: aiohttp.ClientSession, name: str) -> None:
        nonlocal writes
        version = 1
        while time.monotonic() < stop:
            version = 3 - version
            if await call(http, "POST", "/registered-models/alias", errors,
                          json={"name": name, "alias": ALIAS, "version": str(version)}):
                writes += 1

    async with aiohttp.ClientSession(url) as http:
        await asyncio.gather(*(writer(http, n) for n in names))
    return {"writes": writes, "errors": errors}


async def setup(http: aiohttp.ClientSession, names: list[str], errors: list[str]) -> None:
    """Each model with versions 1 and 2, `champion` on 1."""
    async def one(name: str) -> None:
        await call(http, "POST", "/registered-models/create", errors, json={"name": name})
        for _ in range(2):
            await call(http, "POST", "/model-versions/create", errors,
                       json={"name": name, "source": f"s3://bench/{name}"})
        await call(http, "POST", "/registered-models/alias", errors,
                   json={"name": name, "alias": ALIAS, "version": "1"})
    await asyncio.gather(*(one(n) for n in names))


async def phase(url: str, pid: int, http: aiohttp.ClientSession, read: list[str],
                written: list[str], args: argparse.Namespace) -> dict[str, Any]:
    errors: list[str] = []
    rlat: list[float] = []

    async def reader(stop: float) -> None:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            await call(http, "GET", "/registered-models/alias", errors,
                       params={"name": random.choice(read), "alias": ALIAS})
            rlat.append(time.perf_counter() - t0)

    hits0, misses0 = await asyncio.to_thread(cache_counters, url)
    # The /healthz probe and the writers are processes of their own (the writers' client work does
    # not slow the readers' loop); each says when it is ready, and all start together.
    helpers = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.reads_under_writes", *mode, "--seconds", str(args.seconds),
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for mode in (["--probe", url], ["--write", url, "--names", ",".join(written)])]
    for helper in helpers:
        assert helper.stdout is not None and helper.stdin is not None
        await helper.stdout.readline()
    for helper in helpers:
        helper.stdin.write(b"go\n")  # type: ignore[union-attr]
    t0, cpu0, client0 = time.perf_counter(), cpu_seconds(pid), time.process_time()
    stop = time.monotonic() + args.seconds
    await asyncio.gather(*(reader(stop) for _ in range(args.clients)))
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    client = time.process_time() - client0
    health, wrote = [json.loads((await h.communicate())[0]) for h in helpers]
    writes = wrote["writes"]
    errors += wrote["errors"]
    hits, misses = await asyncio.to_thread(cache_counters, url)
    hits, misses = hits - hits0, misses - misses0
    return {
        "reads_per_s": round(len(rlat) / elapsed, 1), "read_p50_ms": ms(rlat, .5),
        "read_p99_ms": ms(rlat, .99), "writes_per_s": round(writes / elapsed, 1),
        "server_cpu": round(cpu / elapsed, 2),  # cores the server process kept busy
        "reader_cpu": round(client / elapsed, 2),  # and the readers' client process
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        "healthz_max_ms": health["max_ms"], "healthz_p99_ms": health["p99_ms"],
        "errors": len(errors), "first_errors": errors[:3],
    }


@dataclass
class Target:
    label: str
    url: str
    pid: int
    http: aiohttp.ClientSession
    rounds: list[dict[str, Any]] = field(default_factory=list)


async def prepare(t: Target, read: list[str], own: list[str]) -> None:
    errors: list[str] = []
    await setup(t.http, read + own, errors)
    for name in read:  # warm: every alias read once
        await call(t.http, "GET", "/registered-models/alias", errors,
                   params={"name": name, "alias": ALIAS})
    if errors:
        raise SystemExit(f"{t.label}: setup failed: {errors[:3]}")


async def run(servers: dict[str, tuple[str, int]], args: argparse.Namespace) -> dict[str, Any]:
    read = [f"read-{i}" for i in range(args.models)]
    own = [f"write-{i}" for i in range(args.writers)]
    writers = {"alone": [], "other models": own, "same models": read[:args.writers]}
    async with contextlib.AsyncExitStack() as stack:
        targets = []
        for label, (url, pid) in servers.items():
            connector = aiohttp.TCPConnector(limit=2 * (args.clients + args.writers))
            http = await stack.enter_async_context(aiohttp.ClientSession(url, connector=connector))
            targets.append(Target(label, url, pid, http))
            await prepare(targets[-1], read, own)
        for n in range(args.rounds):
            order = targets if n % 2 == 0 else targets[::-1]
            for t in order:
                t.rounds.append({})
            for name in PHASES:
                for t in order:
                    t.rounds[-1][name] = got = await phase(t.url, t.pid, t.http, read,
                                                           writers[name], args)
                    progress(f"round {n + 1} {t.label:5s} {name:12s} {json.dumps(got)}")
    return {t.label: summary(t.rounds) for t in targets}


def summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per phase, the median of each figure over rounds (max for the longest /healthz answer);
    the ratios are medians of each round's own ratio."""
    out: dict[str, Any] = {}
    for name in PHASES:
        runs = [r[name] for r in rounds]
        out[name] = {k: (max if k == "healthz_max_ms" else statistics.median)(
            [x[k] for x in runs if x[k] is not None] or [0]) for k in runs[0]
            if k != "first_errors"}
        out[name]["errors"] = sum(x["errors"] for x in runs)
        out[name]["first_errors"] = [e for x in runs for e in x["first_errors"]][:3]
    out["ratios"] = {name: round(statistics.median(
        r[name]["reads_per_s"] / r["alone"]["reads_per_s"] for r in rounds), 3)
        for name in PHASES[1:]}
    out["ratios_per_round"] = {name: [round(r[name]["reads_per_s"] / r["alone"]["reads_per_s"], 3)
                                      for r in rounds] for name in PHASES[1:]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16, help="concurrent alias readers")
    ap.add_argument("--writers", type=int, default=8, help="concurrent writers")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the three phases")
    ap.add_argument("--models", type=int, default=50, help="models the readers read")
    ap.add_argument("--base", type=Path, default=None,
                    help="another checkout of the project to run the same against (before/after)")
    ap.add_argument("--database-url", default=None, help="PostgreSQL (default: embedded, fresh)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    ap.add_argument("--probe", default=None, help=argparse.SUPPRESS)  # the /healthz prober
    ap.add_argument("--write", default=None, help=argparse.SUPPRESS)  # the writers
    ap.add_argument("--names", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe or args.write:  # a helper of a phase: ready, then go when told
        print("ready", flush=True)
        sys.stdin.readline()
        names = [n for n in args.names.split(",") if n]
        print(json.dumps(probe(args.probe, args.seconds) if args.probe else
                         asyncio.run(write(args.write, names, args.seconds))))
        return 0
    trees = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    with workdir() as work, contextlib.ExitStack() as stack:
        servers = {}
        for label, tree in trees.items():
            progress(f"starting {label}: {tree}")
            servers[label] = stack.enter_context(modelog(tree, work / label, args.database_url))
        results = asyncio.run(run(servers, args))
    for label, tree in trees.items():
        results[label]["commit"] = subprocess.run(
            ["git", "-C", str(tree), "describe", "--always", "--dirty"],
            capture_output=True, text=True).stdout.strip()
    errors = sum(r[p]["errors"] for r in results.values() for p in PHASES)
    out = {"clients": args.clients, "writers": args.writers, "seconds": args.seconds,
           "rounds": args.rounds, "models": args.models, **results}
    if args.json:
        print(json.dumps(out))
    else:
        for label, r in results.items():
            print(f"{label} ({trees[label]}, {r['commit']}):")
            for p in PHASES:
                x = r[p]
                ratio = "" if p == "alone" else f"  ratio {r['ratios'][p]}x"
                print(f"  {p:12s} reads {x['reads_per_s']:8.1f}/s (p99 {x['read_p99_ms']} ms)  "
                      f"writes {x['writes_per_s']:7.1f}/s  hit rate {x['hit_rate']}  "
                      f"server CPU {x['server_cpu']}  /healthz max {x['healthz_max_ms']} ms  "
                      f"errors {x['errors']}{ratio}")
        this = results["this"]["ratios"]["other models"]
        print(f"  {'met ' if this >= 0.7 else 'MISS'} reads with {args.writers} writers on other "
              f"models >= 0.7x of reads alone ({this}x)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
