"""What authentication and the privilege check cost: Modelog with `--auth tokens` against Modelog
without, interleaved in one run, with MLflow's own server as the yardstick (issue 6).

    python -m bench.auth_overhead [--rounds 6] [--models 20] [--versions 50] [--clients 16]
                                  [--reads 6000] [--slices 30] [--skip-mlflow] [--json]

1. MLflow's server gets the load once (bench/vs_mlflow.py's run_mlflow: it is over 10x slower,
   so once is enough for its ratio).
2. Two Modelog servers run side by side (vs_mlflow's start and stop), each with its own embedded
   PostgreSQL: `off` (no auth: every request is the local admin, no check) and `on` (`--auth
   tokens`). On `on` the bootstrap admin issues two NON-admin tokens (an admin skips the privilege
   check, so would not measure it) and grants through Unity Catalog's permissions API:
   `bench-writer` USE CATALOG on `unity`, USE SCHEMA and CREATE MODEL on `unity.default` (it then
   owns the models it creates); `bench-reader` USE CATALOG, and USE SCHEMA and EXECUTE on
   `unity.default` (read-only). It checks first that neither may list tokens and that the reader
   may not create a model.
3. Each of `--rounds` rounds runs the load driver bench/load.py on both servers, off first in
   even rounds and on first in odd ones (on `on` as the writer: writes are create version + set
   alias, then get-by-alias reads as the owner); both servers so hold the same data. Then
   `--reads` get-by-alias reads of that round's models per reader, cut into `--slices` slices
   taken in turn: off (no token); on as the owner, as the read-only principal, and as the admin
   (token checked, privilege check skipped: the token's share). Each slice is
   short, so the machine's other work falls on each reader alike; the servers' CPU time per
   read (from /proc, all threads) is measured too, and hardly moves with that other work.

Prints medians over rounds and the ratios auth-on / auth-off (the ratio of the medians, and the
median and range of the per-round ratios), and MLflow's figures; `--json` prints one JSON line
instead. Target: reads with auth on within 15% of reads with auth off (ratio >= 0.85).
"""

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.vs_mlflow import ENV, free_port, load, modelog_command, run_mlflow, server, workdir

TOKEN = re.compile(r"mlg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
ALIAS = "/api/2.0/mlflow/registered-models/alias"
UC = "/api/2.1/unity-catalog"
V1 = "/api/modelog/v1"
MODES = ("off", "on")
# What each principal is granted: {securable: [(type, full name), privileges]}.
GRANTS: dict[str, list[tuple[str, str, list[str]]]] = {
    "bench-writer": [("catalog", "unity", ["USE CATALOG"]),
                     ("schema", "unity.default", ["USE SCHEMA", "CREATE MODEL"])],
    "bench-reader": [("catalog", "unity", ["USE CATALOG"]),
                     ("schema", "unity.default", ["USE SCHEMA", "EXECUTE"])],
}
LOAD_FIGURES = ("write_ops_per_s", "write_p50_ms", "write_p99_ms",  # as bench/load.py names them
                "read_ops_per_s", "read_p50_ms", "read_p99_ms",
                "server_cpu_s", "postgres_cpu_s")  # CPU time a load run cost the server, its database
READ_FIGURES = ("ops_per_s", "p50_ms", "p99_ms", "server_cpu_us")
# The interleaved reads: on the auth-off server (no token), and on the auth-on one as the models'
# owner (the writer), as the read-only principal, and as the admin, whose token is checked but who
# skips the privilege check: the token check's share of the cost.
READERS = ("off", "on_owner", "on_reader", "on_admin")


async def _call(http: aiohttp.ClientSession, method: str, path: str, token: str,
                body: Any = None) -> tuple[int, Any]:
    async with http.request(method, path, json=body,
                            headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json(content_type=None)


async def principals(url: str, admin: str) -> dict[str, str]:
    """Non-admin tokens for the writer and the reader, with their grants, checked."""
    found: dict[str, str] = {}
    async with aiohttp.ClientSession(url) as http:
        for name, grants in GRANTS.items():
            status, issued = await _call(http, "POST", f"{V1}/tokens", admin, {"principal": name})
            if status != 201:
                raise SystemExit(f"could not issue a token to {name}: {status} {issued}")
            found[name] = issued["token"]
            for kind, full_name, privileges in grants:
                status, answer = await _call(
                    http, "PATCH", f"{UC}/permissions/{kind}/{full_name}", admin,
                    {"changes": [{"principal": name, "add": privileges}]})
                if status != 200:
                    raise SystemExit(f"could not grant {privileges} on {full_name}: {answer}")
        # They are what they should be: not admins (no token listing), and the reader read-only.
        for name, token in found.items():
            if (status := (await _call(http, "GET", f"{V1}/tokens", token))[0]) != 403:
                raise SystemExit(f"{name} lists tokens ({status}): it is an admin")
        status, _ = await _call(http, "POST", "/api/2.0/mlflow/registered-models/create",
                                found["bench-reader"], {"name": "bench_reader_may_not"})
        if status != 403:
            raise SystemExit(f"the read-only principal created a model ({status})")
    return found


def cpu_ns(pid: int) -> int:
    """CPU time the process has run, every thread, in ns (Linux's schedstat: no 10 ms ticks)."""
    return sum(int((task / "schedstat").read_text().split()[0])
               for task in Path(f"/proc/{pid}/task").iterdir())


def cluster_cpu_ns(pgdata: Path) -> int:
    """CPU time of an embedded PostgreSQL's postmaster and its live children (the pool's backends
    live as long as the server)."""
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    children = (Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split())
    total = 0
    for pid in [postmaster, *map(int, children)]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += cpu_ns(pid)
    return total


async def interleaved_reads(streams: dict[str, tuple[str, str | None, list[str], int]], reads: int,
                            slices: int, clients: int) -> dict[str, dict[str, Any]]:
    """`reads` get-by-alias reads per stream (url, token, model names, server pid) from `clients`
    concurrent clients, as bench/load.py's read phase, but cut into `slices` slices taken in
    turn (the order rotating), so that whatever else the machine does meanwhile falls on every
    stream alike. Also the server process's CPU time per read, which the machine's other work
    hardly moves: what authentication costs the server itself."""
    keys = list(streams)
    lat: dict[str, list[float]] = {k: [] for k in keys}
    spent = dict.fromkeys(keys, 0.0)
    cpu = dict.fromkeys(keys, 0)
    errors: dict[str, list[str]] = {k: [] for k in keys}
    per = max(1, reads // slices)
    async with contextlib.AsyncExitStack() as stack:
        sessions = {}
        for k, (url, token, _, _) in streams.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            sessions[k] = await stack.enter_async_context(aiohttp.ClientSession(
                url, headers=headers, connector=aiohttp.TCPConnector(limit=clients * 2)))

        async def reader(k: str, work: Iterator[str]) -> None:
            for name in work:  # one shared iterator: each read is done once
                t0 = time.perf_counter()
                async with sessions[k].get(ALIAS, params={"name": name, "alias": "champion"}) as r:
                    text = await r.text()
                    lat[k].append(time.perf_counter() - t0)
                    if r.status != 200:
                        errors[k].append(f"{r.status} {text[:200]}")

        for i in range(slices):
            for k in keys[i % len(keys):] + keys[:i % len(keys)]:
                names = streams[k][2]
                work = iter([names[j % len(names)] for j in range(i * per, (i + 1) * per)])
                c0, t0 = cpu_ns(streams[k][3]), time.perf_counter()
                await asyncio.gather(*(reader(k, work) for _ in range(clients)))
                spent[k] += time.perf_counter() - t0
                cpu[k] += cpu_ns(streams[k][3]) - c0
    return {k: {"ops": len(lat[k]), "ops_per_s": round(len(lat[k]) / spent[k], 1),
                "p50_ms": round(1000 * _pct(lat[k], .5), 2),
                "p99_ms": round(1000 * _pct(lat[k], .99), 2),
                "server_cpu_us": round(cpu[k] / 1000 / len(lat[k]), 1),
                "errors": len(errors[k]), "first_errors": errors[k][:3]} for k in keys}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)  # as bench/load.py's percentile
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def compare(rounds: list[dict[str, Any]], part: str, on: str, off: str,
            figures: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """`on` against `off` per figure: the ratio of the medians over rounds, and the median and
    range of the per-round ratios (each round's pair ran back to back)."""
    out = {}
    for f in figures:
        on_values, off_values = ([r[part][x][f] for r in rounds] for x in (on, off))
        paired = sorted(a / b for a, b in zip(on_values, off_values, strict=True))
        out[f] = {"on": statistics.median(on_values), "off": statistics.median(off_values),
                  "of_medians": round(statistics.median(on_values) / statistics.median(off_values), 3),
                  "paired_median": round(statistics.median(paired), 3),
                  "paired_min": round(paired[0], 3), "paired_max": round(paired[-1], 3)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--reads", type=int, default=6000, help="interleaved reads per reader a round")
    ap.add_argument("--slices", type=int, default=30, help="slices the interleaved reads are cut in")
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    say: Callable[[str], None] = (lambda _: None) if args.json else (
        lambda line: print(line, file=sys.stderr, flush=True))
    rounds: list[dict[str, Any]] = []
    with workdir() as work:
        mlflow = None
        if not args.skip_mlflow:
            say("mlflow server: the load, once ...")
            mlflow = run_mlflow(work, args)
        ports = {m: free_port() for m in MODES}
        urls = {m: f"http://127.0.0.1:{ports[m]}" for m in MODES}
        with contextlib.ExitStack() as stack:
            pids = {}
            for m in MODES:
                extra = ["--auth", "tokens"] if m == "on" else []
                pids[m] = stack.enter_context(server(
                    modelog_command(work / f"modelog-{m}", ports[m], None, *extra),
                    f"{urls[m]}/readyz", work / f"modelog-{m}.log", ENV)).pid
            printed = TOKEN.findall((work / "modelog-on.log").read_text())
            if not printed:
                raise SystemExit("the auth-on server printed no admin token")
            who = asyncio.run(principals(urls["on"], printed[0]))
            writer, reader = who["bench-writer"], who["bench-reader"]
            for i in range(args.rounds):
                loads = {}
                for m in MODES if i % 2 == 0 else MODES[::-1]:
                    pgdata = work / f"modelog-{m}" / "pgdata"
                    c0, p0 = cpu_ns(pids[m]), cluster_cpu_ns(pgdata)
                    loads[m] = load(urls[m], args, token=writer if m == "on" else None,
                                    prefix=f"r{i}_{m}")
                    loads[m]["server_cpu_s"] = round((cpu_ns(pids[m]) - c0) / 1e9, 3)
                    loads[m]["postgres_cpu_s"] = round((cluster_cpu_ns(pgdata) - p0) / 1e9, 3)
                names = {m: [f"r{i}_{m}_m{j}" for j in range(args.models)] for m in MODES}
                reads = asyncio.run(interleaved_reads(
                    {"off": (urls["off"], None, names["off"], pids["off"]),
                     "on_owner": (urls["on"], writer, names["on"], pids["on"]),
                     "on_reader": (urls["on"], reader, names["on"], pids["on"]),
                     "on_admin": (urls["on"], printed[0], names["on"], pids["on"])},
                    args.reads, args.slices, args.clients))
                rounds.append({"load": loads, "reads": reads})
                say(f"round {i + 1}/{args.rounds}: writes off {loads['off']['write_ops_per_s']}/s "
                    f"on {loads['on']['write_ops_per_s']}/s; interleaved reads " + ", ".join(
                        f"{k} {reads[k]['ops_per_s']}/s" for k in READERS))

    ratios = {"load": compare(rounds, "load", "on", "off", LOAD_FIGURES),
              "reads_owner": compare(rounds, "reads", "on_owner", "off", READ_FIGURES),
              "reads_read_only": compare(rounds, "reads", "on_reader", "off", READ_FIGURES),
              "reads_admin": compare(rounds, "reads", "on_admin", "off", READ_FIGURES)}
    errors = sum(r["load"][m]["errors"] for r in rounds for m in MODES) + sum(
        r["reads"][k]["errors"] for r in rounds for k in READERS)
    targets = {
        "reads as owner, on/off >= 0.85": ratios["reads_owner"]["ops_per_s"]["of_medians"] >= 0.85,
        "reads as read-only principal, on/off >= 0.85":
            ratios["reads_read_only"]["ops_per_s"]["of_medians"] >= 0.85,
        "load driver's reads, on/off >= 0.85":
            ratios["load"]["read_ops_per_s"]["of_medians"] >= 0.85,
        "zero errors": errors == 0,
        "version integrity": all(r["load"][m]["version_integrity"] for r in rounds for m in MODES),
    }
    vs_mlflow = None if mlflow is None else {
        f"{m}_{f}": round(ratios["load"][f][m] / mlflow[f], 1) for m in MODES
        for f in ("write_ops_per_s", "read_ops_per_s")}
    config = {k: getattr(args, k) for k in ("rounds", "models", "versions", "clients", "reads",
                                            "slices")}
    if args.json:
        print(json.dumps({"config": config, "mlflow": mlflow, "ratios": ratios,
                          "vs_mlflow": vs_mlflow, "targets": targets, "rounds": rounds}))
        return 0 if targets["zero errors"] and targets["version integrity"] else 1
    print(f"{args.rounds} rounds, auth off and on alternating; medians over rounds. Load driver: "
          f"{args.models} models x {args.versions} versions, {args.clients} clients. Interleaved "
          f"reads: {args.reads} per reader a round in {args.slices} slices taken in turn.")
    load_rows = [("mlflow", mlflow)] if mlflow else []
    load_rows += [(f"auth {m}", {f: ratios["load"][f][m] for f in LOAD_FIGURES}) for m in MODES]
    for name, r in load_rows:
        print(f"  load  {name:9s} writes {r['write_ops_per_s']:8.1f}/s (p50 {r['write_p50_ms']:6.2f}"
              f" p99 {r['write_p99_ms']:6.2f} ms)  reads {r['read_ops_per_s']:8.1f}/s (p50 "
              f"{r['read_p50_ms']:6.2f} p99 {r['read_p99_ms']:6.2f} ms)" + (
                  "" if "server_cpu_s" not in r else f"  CPU a run: server {r['server_cpu_s']:.2f}"
                  f" s, PostgreSQL {r['postgres_cpu_s']:.2f} s"))
    read_rows = [("auth off", "reads_owner", "off"), ("on, owner", "reads_owner", "on"),
                 ("on, r/o", "reads_read_only", "on"), ("on, admin", "reads_admin", "on")]
    for name, part, side in read_rows:
        r = {f: ratios[part][f][side] for f in READ_FIGURES}
        print(f"  reads {name:9s} {r['ops_per_s']:8.1f}/s (p50 {r['p50_ms']:6.2f} p99 "
              f"{r['p99_ms']:6.2f} ms), server CPU {r['server_cpu_us']:6.1f} us/read")
    print("auth on / auth off: ratio of medians (median and range of the per-round ratios)")
    for label, part in (("load", "load"), ("reads, owner", "reads_owner"),
                        ("reads, read-only", "reads_read_only"),
                        ("reads, admin (token check only)", "reads_admin")):
        print(f"  {label}: " + "; ".join(
            f"{f} {x['of_medians']:.3f} ({x['paired_median']:.3f}, {x['paired_min']:.3f}-"
            f"{x['paired_max']:.3f})" for f, x in ratios[part].items()))
    if vs_mlflow:
        print("against MLflow's server: " + ", ".join(f"{k} {v}x" for k, v in vs_mlflow.items()))
    for target, ok in targets.items():
        print(f"  {'met ' if ok else 'MISS'} {target}")
    return 0 if targets["zero errors"] and targets["version integrity"] else 1


if __name__ == "__main__":
    sys.exit(main())
