"""`modelog serve --workers 2` against `--workers 1`, the same load on the same database, rounds
interleaved.

    python bench/workers.py [--rounds 3] [--models 20] [--versions 50] [--clients 16] [--json]

One PostgreSQL (embedded unless --database-url) serves both; each round starts the server with
one worker, then with two (or the other way round, alternating), runs bench/load.py with fresh
model names, and stops it. Reports writes/s and alias reads/s per configuration (median of the
rounds), the ratio two/one, errors and version integrity. On a 2-core machine PostgreSQL needs a
share of the cores too, so two workers win what the Python side was the bottleneck of.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench.append import scratch_database, server
from bench.vs_mlflow import ENV, free_port, load, modelog_command
from bench.vs_mlflow import server as serve


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def database(args: argparse.Namespace) -> None:
    async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
        await asyncio.to_thread(run, url, args)


def run(url: str, args: argparse.Namespace) -> None:
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="modelog-workers-") as tmp:
        for r in range(args.rounds):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                port = free_port()
                cmd = modelog_command(Path(tmp) / "data", port, url, "--workers", str(workers))
                with serve(cmd, f"http://127.0.0.1:{port}/readyz", Path(tmp) / "serve.log", ENV):
                    out = load(f"http://127.0.0.1:{port}", args, prefix=f"r{r}w{workers}")
                results[workers].append(out)
                say(f"round {r + 1} workers={workers}: writes {out['write_ops_per_s']:.0f}/s, "
                    f"reads {out['read_ops_per_s']:.0f}/s, errors {out['errors']}")
    summary = {}
    for workers, rounds in results.items():
        summary[f"workers_{workers}"] = {
            "writes_per_s": round(statistics.median(x["write_ops_per_s"] for x in rounds), 1),
            "reads_per_s": round(statistics.median(x["read_ops_per_s"] for x in rounds), 1),
            "write_p99_ms": round(statistics.median(x["write_p99_ms"] for x in rounds), 1),
            "errors": sum(x["errors"] for x in rounds),
            "version_integrity": all(x["version_integrity"] for x in rounds),
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
