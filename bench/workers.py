"""`modelog serve --workers 2` against `--workers 1`, the same load on the same database, rounds
interleaved.

    python bench/workers.py [--rounds 3] [--models 20] [--versions 50] [--clients 16] [--json]

One PostgreSQL (embedded unless --database-url) serves both; each round starts the server with
one worker, then with two (or the other way round, alternating), runs bench/load.py with fresh
model names, and stops it. Reports writes/s and alias reads/s per configuration (median of the
rounds), the ratio two/one, errors and version integrity. On a 2-core machine PostgreSQL needs a
share of the cores too, so two workers win what the Python side was the bottleneck of.

To explain the figures, the CPU time each party used during the load is taken too (from /proc, and
the load driver's from its rusage): the server processes, PostgreSQL's, the load driver's, as
shares of the machine's capacity over the load (cores x seconds), what else ran on the machine
meanwhile (PostgreSQL's shared processes among it), and the idle share.
A busy share near 1 means the machine, not the server's design, sets the ceiling.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from bench.append import scratch_database, server
from bench.vs_mlflow import ENV, free_port, load, modelog_command
from bench.vs_mlflow import server as serve


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def database(args: argparse.Namespace) -> None:
    async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
        await asyncio.to_thread(run, url, args)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_party(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the live server processes (`server_pid` and its children) and
    the PostgreSQL backends serving `database` (others on the machine are not counted)."""
    used = {"server": 0.0, "postgres": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        party = "server" if int(pid) == server_pid or int(stat[1]) == server_pid else \
            "postgres" if cmdline.startswith(b"postgres:") \
            and f" {database} ".encode() in cmdline else None
        if party:
            used[party] += (int(stat[11]) + int(stat[12])) / TICK  # utime + stime
    return used


def machine_busy() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy and idle (every core), from /proc/stat."""
    user, nice, system, idle, iowait, *rest = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + sum(rest)) / TICK, (idle + iowait) / TICK


def measured_load(base: str, args: argparse.Namespace, prefix: str, server_pid: int,
                  database: str) -> dict:
    """The load's results, and the CPU shares of the machine each party used meanwhile."""
    before = cpu_by_party(server_pid, database)
    children, (busy, idle) = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
    out = load(base, args, prefix=prefix)
    after = cpu_by_party(server_pid, database)
    done, (busy_after, idle_after) = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
    capacity = busy_after - busy + idle_after - idle
    shares = {party: (after[party] - before[party]) / capacity for party in after}
    shares["load driver"] = (done.ru_utime + done.ru_stime - children.ru_utime
                             - children.ru_stime) / capacity
    shares["others"] = max(0.0, (busy_after - busy) / capacity - sum(shares.values()))
    shares["idle"] = (idle_after - idle) / capacity
    return {**out, "cpu_shares": shares}


def run(url: str, args: argparse.Namespace) -> None:
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="modelog-workers-") as tmp:
        for r in range(args.rounds):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                port = free_port()
                cmd = modelog_command(Path(tmp) / "data", port, url, "--workers", str(workers))
                with serve(cmd, f"http://127.0.0.1:{port}/readyz", Path(tmp) / "serve.log",
                           ENV) as proc:
                    out = measured_load(f"http://127.0.0.1:{port}", args, f"r{r}w{workers}",
                                        proc.pid, urlsplit(url).path.lstrip("/"))
                results[workers].append(out)
                say(f"round {r + 1} workers={workers}: writes {out['write_ops_per_s']:.0f}/s, "
                    f"reads {out['read_ops_per_s']:.0f}/s, errors {out['errors']}, CPU "
                    + ", ".join(f"{k} {v:.0%}" for k, v in out["cpu_shares"].items()))
    summary = {}
    for workers, rounds in results.items():
        summary[f"workers_{workers}"] = {
            "writes_per_s": round(statistics.median(x["write_ops_per_s"] for x in rounds), 1),
            "reads_per_s": round(statistics.median(x["read_ops_per_s"] for x in rounds), 1),
            "write_p99_ms": round(statistics.median(x["write_p99_ms"] for x in rounds), 1),
            "errors": sum(x["errors"] for x in rounds),
            "version_integrity": all(x["version_integrity"] for x in rounds),
            "cpu_shares": {k: round(statistics.median(x["cpu_shares"][k] for x in rounds), 2)
                           for k in rounds[0]["cpu_shares"]},
        }
    one, two = summary["workers_1"], summary["workers_2"]
    summary["ratio_two_to_one"] = {
        "writes": round(two["writes_per_s"] / one["writes_per_s"], 2),
        "reads": round(two["reads_per_s"] / one["reads_per_s"], 2)}
    print(json.dumps(summary) if args.json else json.dumps(summary, indent=2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--json", action="store_true")
    asyncio.run(database(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
