"""Append throughput: the event store against a plain single-row INSERT loop, same database.

    python bench/append.py [--database-url URL] [--tasks 16] [--seconds 10 | --events N]
                           [--rounds 2] [--json]

Both workloads run from `--tasks` concurrent asyncio tasks in this one process, on one fresh
database (`modelog_bench_<pid>`, created with every migration applied and dropped at the end):

- plain: each task holds its own pooled connection and loops `INSERT INTO bench_plain
  (stream_id, data) VALUES ($1, $2)`, one autocommitted row at a time. Rate: rows/s.
- registry: `EventStore.append` with the inline projections on. One `ModelCreated` per task first
  (setup, not timed), then each task appends `VersionRegistered` events to its own model stream,
  tracking its own expected version (so nothing conflicts). Rate: appended events/s.

Both payloads are built the same way (the domain's pydantic event, dumped to JSON). The phases
alternate (plain, registry, plain, registry, ...) to spread warm-up evenly; the best round of
each counts. Afterwards the log is checked: positions 1..N without gaps, each stream's versions
1..k, the hash chain linked, one `model_versions` row per `VersionRegistered`. Exit status 1 if a
check fails, 0 otherwise (missing the 50% target is reported, not an error).

Without `--database-url` a throwaway embedded PostgreSQL is started in a temporary directory.
With `--json`, stdout is a single JSON line and the readable summary goes to stderr.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from projections import inline_projector
from registry import logs
from registry.domain import events as ev
from registry.eventstore import EventStore, NewEvent
from registry.eventstore.database import create_pool, migrate
from registry.eventstore.embedded import embedded_postgres

TARGET_RATIO = 0.5
CATALOG, SCHEMA, OWNER = "unity", "default", "bench"
PLAIN_TABLE = (
    "CREATE TABLE bench_plain (id bigserial PRIMARY KEY, stream_id text, data jsonb, "
    "recorded_at timestamptz DEFAULT now())"
)
PLAIN_INSERT = "INSERT INTO bench_plain (stream_id, data) VALUES ($1, $2)"
METADATA = {"actor": OWNER, "command": "CreateModelVersion", "client": "bench/append.py"}


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def version_event(model: str, version: int) -> ev.VersionRegistered:
    """A realistic `VersionRegistered` event; the plain baseline stores the same payload."""
    return ev.VersionRegistered(
        version=version, source=f"s3://modelog-bench/{model}/artifacts/{version}",
        run_id=uuid.uuid4().hex, storage_location=f"s3://modelog-bench/{model}/versions/{version}",
    )


def version_payload(model: str, version: int) -> dict[str, Any]:
    return version_event(model, version).payload()


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Round:
    kind: str  # "plain" or "registry"
    ops: int
    elapsed: float
    latencies: list[float]  # seconds, one per insert / append
    batches: int = 0  # registry only: write batches committed during the round
    committed: int = 0  # registry only: events those batches carried
    client_cpu: float = 0.0  # this process's CPU time / wall time (1.0: one core busy)
    host_busy: float | None = None  # share of all the host's cores busy (Linux only)

    @property
    def rate(self) -> float:
        return self.ops / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def avg_batch(self) -> float | None:
        return self.committed / self.batches if self.batches else None

    def percentile_ms(self, p: int) -> float | None:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else None
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


class Budget:
    """When a phase stops: after a duration, or after a total number of operations."""

    def __init__(self, seconds: float | None, events: int | None) -> None:
        self.seconds, self.events = seconds, events
        self.deadline = 0.0
        self.claimed = 0

    def start(self) -> None:
        self.claimed = 0
        self.deadline = time.perf_counter() + (self.seconds or 0.0)

    def take(self) -> bool:
        """May the calling task do one more operation? (Single-threaded: no lock needed.)"""
        if self.events is not None:
            if self.claimed >= self.events:
                return False
            self.claimed += 1
            return True
        return time.perf_counter() < self.deadline


def host_cpu() -> tuple[int, int] | None:
    """(total, idle) jiffies of all cores, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(ticks), ticks[3] + ticks[4]  # idle + iowait


@dataclass
class Measured:
    ops: int
    elapsed: float
    latencies: list[float]
    client_cpu: float
    host_busy: float | None


async def run_workers(budget: Budget, workers: list[Callable[[list[float]], Awaitable[int]]]
                      ) -> Measured:
    """Start every worker at once; each does operations while the budget allows, appending one
    latency per operation."""
    latencies: list[list[float]] = [[] for _ in workers]
    budget.start()
    host0, cpu0, started = host_cpu(), time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as group:  # one failing worker cancels the others
        tasks = [group.create_task(w(lat)) for w, lat in zip(workers, latencies, strict=True)]
    elapsed = time.perf_counter() - started
    counts = [t.result() for t in tasks]
    cpu, host1 = time.process_time() - cpu0, host_cpu()
    busy = None
    if host0 and host1 and host1[0] > host0[0]:
        busy = 1 - (host1[1] - host0[1]) / (host1[0] - host0[0])
    return Measured(sum(counts), elapsed, [x for lat in latencies for x in lat],
                    cpu / elapsed if elapsed else 0.0, busy)


# --- the two workloads ---------------------------------------------------------------------------


async def plain_round(pool: asyncpg.Pool, tasks: int, budget: Budget) -> Round:
    async with contextlib.AsyncExitStack() as stack:
        # Every task gets its own connection before the clock starts.
        conns = [await stack.enter_async_context(pool.acquire()) for _ in range(tasks)]

        def worker(i: int, conn: asyncpg.Connection) -> Callable[[list[float]], Awaitable[int]]:
            stream, name = f"plain:{i}", f"plain_{i}"

            async def run(lat: list[float]) -> int:
                n = 0
                while budget.take():
                    payload = version_payload(name, n + 1)
                    t0 = time.perf_counter()
                    await conn.execute(PLAIN_INSERT, stream, payload)
                    lat.append(time.perf_counter() - t0)
                    n += 1
                return n

            return run

        got = await run_workers(budget, [worker(i, c) for i, c in enumerate(conns)])
    return Round("plain", got.ops, got.elapsed, got.latencies, client_cpu=got.client_cpu,
                 host_busy=got.host_busy)


@dataclass
class Model:
    """One model stream, owned by one task, which tracks the stream's version itself."""

    model_id: uuid.UUID
    name: str
    version: int = 0  # the stream's version (ModelCreated is 1)
    registered: int = 0  # model versions registered (VersionRegistered events appended)
    appended: list[int] = field(default_factory=list)  # positions, for the checks

    @property
    def stream(self) -> str:
        return f"model:{self.model_id}"


async def create_models(store: EventStore, count: int) -> list[Model]:
    models = [Model(uuid.uuid4(), f"bench_model_{i}") for i in range(count)]

    async def create(m: Model) -> None:
        created = ev.ModelCreated(model_id=m.model_id, catalog_name=CATALOG, schema_name=SCHEMA,
                                  name=m.name, owner=OWNER, description=None, tags={})
        recorded = await store.append(
            m.stream, 0, [NewEvent(created.type_name(), created.payload(), created.schema_version)],
            {**METADATA, "command": "CreateRegisteredModel"})
        m.version = recorded[-1].stream_version

    await asyncio.gather(*(create(m) for m in models))
    return models


async def registry_round(store: EventStore, models: list[Model], budget: Budget) -> Round:
    def worker(m: Model) -> Callable[[list[float]], Awaitable[int]]:
        async def run(lat: list[float]) -> int:
            n = 0
            kind = ev.VersionRegistered
            while budget.take():
                event = version_event(m.name, m.registered + 1)
                t0 = time.perf_counter()
                # As RegistryService.execute appends: payload and the domain event it came from.
                recorded = await store.append(
                    m.stream, m.version,
                    [NewEvent(kind.type_name(), event.payload(), kind.schema_version, event)],
                    METADATA)
                lat.append(time.perf_counter() - t0)
                m.version = recorded[-1].stream_version
                m.registered += 1
                m.appended.extend(e.position for e in recorded)
                n += len(recorded)
            return n

        return run

    batches, committed = store.writer.batches, store.writer.committed
    got = await run_workers(budget, [worker(m) for m in models])
    return Round("registry", got.ops, got.elapsed, got.latencies, store.writer.batches - batches,
                 store.writer.committed - committed, got.client_cpu, got.host_busy)


# --- checks ----------------------------------------------------------------------------------------


async def verify(conn: asyncpg.Connection, models: list[Model], plain_rows: int,
                 committed: int) -> list[str]:
    """What must hold after the run; returns the failures (empty: all good)."""
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    n, lo, hi = await conn.fetchrow(
        "SELECT count(*), coalesce(min(position), 0), coalesce(max(position), 0) FROM events")
    check(n == hi and (n == 0 or lo == 1), f"event positions are not 1..{n}: min {lo}, max {hi}")
    check(n == committed, f"{n} events in the log, but the writer committed {committed}")
    check(n == len(models) + sum(m.registered for m in models),
          f"{n} events in the log, expected {len(models)} ModelCreated + "
          f"{sum(m.registered for m in models)} VersionRegistered")

    streams = {r["stream_id"]: r for r in await conn.fetch(
        "SELECT stream_id, count(*) AS n, min(stream_version) AS lo, max(stream_version) AS hi "
        "FROM events GROUP BY stream_id")}
    for sid, r in streams.items():
        check(r["lo"] == 1 and r["n"] == r["hi"],
              f"stream {sid}: versions not 1..{r['n']} (min {r['lo']}, max {r['hi']})")
    for m in models:
        r = streams.get(m.stream)
        check(r is not None and r["hi"] == m.version == 1 + m.registered,
              f"stream {m.stream}: version {r and r['hi']}, expected {1 + m.registered}")
    positions = [p for m in models for p in m.appended]
    check(len(set(positions)) == len(positions), "two appends were given the same position")

    broken = await conn.fetchval(
        "SELECT count(*) FROM (SELECT position, prev_hash, lag(hash) OVER (ORDER BY position) AS h "
        "FROM events) s WHERE position > 1 AND prev_hash IS DISTINCT FROM h")
    check(broken == 0, f"{broken} events do not chain to the hash of the event before them")

    registered = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'VersionRegistered'")
    rows = await conn.fetchval("SELECT count(*) FROM model_versions")
    check(rows == registered,
          f"model_versions has {rows} rows for {registered} VersionRegistered events")
    per_model = {r["model_id"]: (r["n"], r["hi"]) for r in await conn.fetch(
        "SELECT model_id, count(*) AS n, max(version) AS hi FROM model_versions GROUP BY model_id")}
    for m in models:
        got = per_model.get(m.model_id, (0, None))
        want = (m.registered, m.registered or None)
        check(got == want, f"model {m.name}: model_versions (rows, max version) {got}, want {want}")
    n_models = await conn.fetchval("SELECT count(*) FROM registered_models")
    check(n_models == len(models), f"registered_models has {n_models} rows, expected {len(models)}")

    n_plain = await conn.fetchval("SELECT count(*) FROM bench_plain")
    check(n_plain == plain_rows, f"bench_plain has {n_plain} rows, expected {plain_rows}")
    return failures


# --- the run -------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def server(url: str | None) -> AsyncIterator[str]:
    """The given server, or a throwaway embedded one."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="modelog-bench-") as tmp:
        os.chmod(tmp, 0o755)  # the server runs as its own user when we are root
        async with embedded_postgres(Path(tmp)) as embedded_url:
            yield embedded_url


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    name = f"modelog_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        yield with_database(admin_url, name)
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    budget = Budget(args.seconds, args.events)
    async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            await conn.execute(PLAIN_TABLE)
            settings = {name: await conn.fetchval(f"SHOW {name}") for name in (
                "server_version", "fsync", "synchronous_commit", "wal_sync_method",
                "commit_delay", "shared_buffers")}
        finally:
            await conn.close()

        pool = await create_pool(url, min_size=args.tasks + 2, max_size=args.tasks + 2)
        store = EventStore(pool, inline_projector())
        rounds: list[Round] = []
        try:
            await store.start()
            models = await create_models(store, args.tasks)
            for i in range(args.rounds):
                for phase in ("plain", "registry"):
                    if phase == "plain":
                        r = await plain_round(pool, args.tasks, budget)
                    else:
                        r = await registry_round(store, models, budget)
                    rounds.append(r)
                    say(round_line(i + 1, r))
            async with pool.acquire() as check_conn:
                failures = await verify(
                    check_conn, models, sum(r.ops for r in rounds if r.kind == "plain"),
                    store.writer.committed)
        finally:
            await store.close()
            try:
                await asyncio.wait_for(pool.close(), timeout=30)
            except TimeoutError:
                pool.terminate()

    best_plain = max((r for r in rounds if r.kind == "plain"), key=lambda r: r.rate)
    best_reg = max((r for r in rounds if r.kind == "registry"), key=lambda r: r.rate)
    ratio = best_reg.rate / best_plain.rate if best_plain.rate else 0.0
    return {
        "plain_inserts_per_s": round(best_plain.rate, 1),
        "registry_appends_per_s": round(best_reg.rate, 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO,
        "avg_batch": round(best_reg.avg_batch or 0.0, 2),
        "plain_p50_ms": _ms(best_plain.percentile_ms(50)),
        "plain_p99_ms": _ms(best_plain.percentile_ms(99)),
        "registry_p50_ms": _ms(best_reg.percentile_ms(50)),
        "registry_p99_ms": _ms(best_reg.percentile_ms(99)),
        "tasks": args.tasks,
        "seconds": args.seconds,
        "events": args.events,
        "rounds": [{"kind": r.kind, "ops": r.ops, "elapsed_s": round(r.elapsed, 3),
                    "per_s": round(r.rate, 1), "avg_batch": r.avg_batch and round(r.avg_batch, 2),
                    "p50_ms": _ms(r.percentile_ms(50)), "p99_ms": _ms(r.percentile_ms(99)),
                    "client_cpu": round(r.client_cpu, 3),
                    "host_busy": None if r.host_busy is None else round(r.host_busy, 3)}
                   for r in rounds],
        "server": settings,
        "checks_failed": failures,
    }


def round_line(number: int, r: Round) -> str:
    line = (f"  round {number} {r.kind:<8} {r.ops:>8} in {r.elapsed:6.2f}s = {r.rate:9.1f}/s  "
            f"p50 {r.percentile_ms(50) or 0:6.2f} ms  p99 {r.percentile_ms(99) or 0:6.2f} ms  "
            f"client CPU {r.client_cpu:4.0%}")
    if r.host_busy is not None:
        line += f"  host {r.host_busy:4.0%} busy"
    if r.avg_batch:
        line += f"  avg batch {r.avg_batch:.1f}"
    return line


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


_summary_stream = sys.stdout


def say(line: str) -> None:
    print(line, file=_summary_stream, flush=True)


def summary(result: dict[str, Any]) -> None:
    s = result["server"]
    say(f"PostgreSQL {s['server_version']}: fsync={s['fsync']} "
        f"synchronous_commit={s['synchronous_commit']} wal_sync_method={s['wal_sync_method']} "
        f"commit_delay={s['commit_delay']} shared_buffers={s['shared_buffers']}")
    say(f"plain INSERT     {result['plain_inserts_per_s']:>10.1f} rows/s     "
        f"p50 {result['plain_p50_ms']:.2f} ms  p99 {result['plain_p99_ms']:.2f} ms  (best round)")
    say(f"registry append  {result['registry_appends_per_s']:>10.1f} events/s   "
        f"p50 {result['registry_p50_ms']:.2f} ms  p99 {result['registry_p99_ms']:.2f} ms  "
        f"avg batch {result['avg_batch']:.1f}  (best round)")
    verdict = "meets" if result["target_met"] else "MISSES"
    say(f"ratio            {result['ratio']:>10.3f}  ({verdict} the target of >= {TARGET_RATIO})")
    if result["checks_failed"]:
        for failure in result["checks_failed"]:
            say(f"CHECK FAILED: {failure}")
    else:
        say("checks: positions gap-free, stream versions contiguous, hash chain linked, "
            "model_versions complete")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("MODELOG_BENCH_DATABASE_URL"),
                   help="an admin URL of a PostgreSQL server (a scratch database is created on it "
                        "and dropped); default: a throwaway embedded server")
    p.add_argument("--tasks", type=int, default=16, help="concurrent tasks (default 16)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="duration of each round (default 10)")
    budget.add_argument("--events", type=int, help="operations per round instead of a duration")
    p.add_argument("--rounds", type=int, default=2,
                   help="how many times to alternate plain and registry (default 2)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON line on stdout (the summary goes to stderr)")
    args = p.parse_args(argv)
    if args.seconds is None and args.events is None:
        args.seconds = 10.0
    if args.tasks < 1 or args.rounds < 1 or (args.events is not None and args.events < 1) \
            or (args.seconds is not None and args.seconds <= 0):
        p.error("--tasks, --rounds, --events and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    global _summary_stream
    args = parse_args(argv)
    logs.configure(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded_postgres
    if args.json:
        _summary_stream = sys.stderr
    budget = f"{args.seconds:g}s" if args.events is None else f"{args.events} operations"
    say(f"append benchmark: {args.tasks} tasks, {args.rounds} rounds of {budget} per workload")
    result = asyncio.run(bench(args))
    summary(result)
    if args.json:
        print(json.dumps(result), flush=True)
    return 1 if result["checks_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
