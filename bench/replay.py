"""Replay, verification and time-travel reads over a large log.

    python -m bench.replay [--database-url URL] [--models 10000] [--events-per-model 100]
                             [--reads 500] [--json]

1. Generates a log of models x events-per-model events (default 1,000,000 over 10,000 models,
   spread over a simulated year, streams interleaved as real traffic interleaves them): each model
   is created, then round after round registers a version, finalizes it, tags it, moves
   `champion` to it, and every third round walks it through Staging to Production, archiving the
   version in Production before it. Events are hash-chained and written straight into `events`.
2. Baseline: reading the whole log in chunks (the floor under any replay), events/s.
3. Full replay into fresh inline read models (`projections rebuild`, swapped in), events/s.
4. Full replay of the `alias_history` catch-up projection from zero, events/s.
5. `audit verify` over the whole chain, events/s.
6. Through a real server over HTTP, one random model per request, p50/p99: the current model
   (the baseline read), the model `as_of` a random instant, "what did champion point to at T"
   (`aliases/champion/history?at=T`), and the alias `as_of` T.

Without `--database-url` a throwaway embedded PostgreSQL is started in a temporary directory.
"""

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

import projections
from bench.append import scratch_database, server
from projections.alias_history import AliasHistory
from projections.catch_up import catch_up
from projections.catch_up import rebuild as rebuild_catch_up
from projections.rebuild import rebuild as rebuild_inline
from registry import bootstrap, logs
from registry.eventstore import GENESIS_HASH, RecordedEvent, chain, chain_hash, read_all
from registry.eventstore.database import create_pool
from registry.http.app import create_app
from registry.settings import Settings

CATALOG, SCHEMA, ACTORS = "bench", "models", ("alice", "bob", "carol", "dan")
COLUMNS = ("position", "stream_id", "stream_version", "type", "schema_version", "data", "metadata",
           "recorded_at", "prev_hash", "hash")
INSERT = ("INSERT INTO events (position, stream_id, stream_version, type, schema_version, data, "
          "metadata, recorded_at, prev_hash, hash) SELECT * FROM unnest($1::bigint[], $2::text[], "
          "$3::int[], $4::text[], $5::smallint[], $6::jsonb[], $7::jsonb[], $8::timestamptz[], "
          "$9::bytea[], $10::bytea[])")


def model_script(model_id: uuid.UUID, n: int, events: int) -> Iterator[tuple[str, dict]]:
    """The (type, payload) events of one model, in stream order."""
    yield "ModelCreated", {"model_id": str(model_id), "catalog_name": CATALOG,
                           "schema_name": SCHEMA, "name": f"m{n:05d}", "description": f"model {n}",
                           "owner": ACTORS[n % 4], "tags": {"team": f"t{n % 17}"}}
    emitted, v, production = 1, 0, None
    while True:
        v += 1
        step = [
            ("VersionRegistered", {"version": v, "source": f"s3://bench/{n}/{v}",
                                   "run_id": uuid.uuid4().hex, "tags": {}}),
            ("VersionReady", {"version": v}),
            ("VersionTagSet", {"version": v, "key": "quality", "value": str(v % 5)}),
            ("AliasSet", {"alias": "champion", "version": v,
                          "previous_version": v - 1 if v > 1 else None}),
        ]
        if v % 3 == 0:
            step += [("VersionStageTransitioned", {"version": v, "stage": "Staging",
                                                    "previous_stage": "None"}),
                     ("VersionStageTransitioned", {"version": v, "stage": "Production",
                                                    "previous_stage": "Staging"})]
            if production is not None:
                step.append(("VersionStageTransitioned", {
                    "version": production, "stage": "Archived", "previous_stage": "Production"}))
            production = v
        for e in step:
            if emitted == events:
                return
            yield e
            emitted += 1


def generate(models: int, per_model: int) -> Iterator[tuple]:
    """Rows for `events`, hash-chained exactly as the event store chains them."""
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / (models * per_model + 2)
    namespace = [
        ("catalog:" + CATALOG, "CatalogCreated", {"catalog_id": str(uuid.uuid4()), "name": CATALOG,
                                                 "comment": None, "owner": "admin"}),
        (f"schema:{CATALOG}.{SCHEMA}", "SchemaCreated", {
            "schema_id": str(uuid.uuid4()), "catalog_name": CATALOG, "name": SCHEMA,
            "comment": None, "owner": "admin"}),
    ]
    scripts = [(f"model:{mid}", model_script(mid, n, per_model))
               for n, mid in enumerate(uuid.uuid4() for _ in range(models))]
    versions: dict[str, int] = {}
    prev, position = GENESIS_HASH, 0

    def row(stream: str, type_: str, data: dict) -> tuple:
        nonlocal prev, position
        position += 1
        versions[stream] = versions.get(stream, 0) + 1
        actor = ACTORS[position % 4]
        body = (position, stream, versions[stream], type_, 1, data,
                {"actor": actor, "command": "bench", "request_id": f"r{position}"},
                start + step * position, prev)
        prev = chain_hash(prev, RecordedEvent(*body, b""))  # exactly as the event store chains
        return (*body, prev)

    for stream, type_, data in namespace:
        yield row(stream, type_, data)
    while scripts:  # round-robin: streams interleave in the log
        alive = []
        for stream, script in scripts:
            e = next(script, None)
            if e is not None:
                yield row(stream, *e)
                alive.append((stream, script))
        scripts = alive


async def load(pool: asyncpg.Pool, models: int, per_model: int) -> int:
    chunk: list[tuple] = []
    total = models * per_model + 2
    started = time.perf_counter()

    async def flush() -> None:
        columns = [list(c) for c in zip(*chunk, strict=True)]
        await pool.execute(INSERT, *columns)
        chunk.clear()

    for r in generate(models, per_model):
        chunk.append(r)
        if len(chunk) == 20_000:
            await flush()
            progress("generating", r[0], total, started)
    if chunk:
        await flush()
    print(file=sys.stderr)
    return await pool.fetchval("SELECT count(*) FROM events")


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r{label}: {done:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)


async def timed(label: str, fn: Any, total: int) -> dict[str, float]:
    started = time.perf_counter()
    await fn(lambda done, head: progress(label, done, head, started))
    seconds = time.perf_counter() - started
    print(file=sys.stderr)
    return {"seconds": round(seconds, 2), "events_per_s": round(total / seconds)}


async def read_whole_log(pool: asyncpg.Pool, on_progress: Any) -> None:
    position = 0
    head = await pool.fetchval("SELECT max(position) FROM events")
    while True:
        events = await read_all(pool, after_position=position, limit=5000)
        if not events:
            return
        position = events[-1].position
        on_progress(position, head)


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(statistics.median(samples), 2), "p99_ms": round(q[98], 2)}


async def http_reads(url: str, models: int, reads: int, pool: asyncpg.Pool) -> dict[str, Any]:
    first, last = await pool.fetchrow("SELECT min(recorded_at), max(recorded_at) FROM events")
    rng = random.Random(7)

    def some_time() -> str:
        return (first + (last - first) * rng.random()).isoformat()

    kinds = {
        "current_model": lambda name: (f"/models/{name}", {}),
        "model_as_of": lambda name: (f"/models/{name}", {"as_of": some_time()}),
        "alias_at_T": lambda name: (f"/models/{name}/aliases/champion/history",
                                    {"at": some_time()}),
        "alias_as_of": lambda name: (f"/models/{name}/aliases/champion", {"as_of": some_time()}),
    }
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        for kind, request in kinds.items():
            samples = []
            for i in range(reads + 50):
                path, params = request(f"{CATALOG}.{SCHEMA}.m{rng.randrange(models):05d}")
                began = time.perf_counter()
                async with http.get(f"{url}/api/modelog/v1{path}", params=params) as r:
                    await r.read()
                    if r.status not in (200, 404):
                        raise RuntimeError(f"{kind}: {r.status} {await r.text()}")
                if i >= 50:  # warm-up
                    samples.append((time.perf_counter() - began) * 1000)
            out[kind] = percentiles(samples)
    base = out["current_model"]["p99_ms"]
    for kind in kinds:
        out[kind]["p99_vs_current_model"] = round(out[kind]["p99_ms"] / base, 2)
    return out


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    async with server(args.database_url) as admin_url, scratch_database(admin_url) as url:
        async with bootstrap.migrated_pool(url) as pool:
            total = await load(pool, args.models, args.events_per_model)
            await pool.execute("VACUUM ANALYZE events")  # as autovacuum would have by now
            result: dict[str, Any] = {"events": total, "models": args.models}
            result["read_log_baseline"] = await timed(
                "reading the log", lambda p: read_whole_log(pool, p), total)
            result["replay_inline"] = await timed(
                "replaying inline read models",
                lambda p: rebuild_inline(pool, swap=True, progress=p, dsn=url), total)
            result["replay_alias_history"] = await timed(
                "replaying alias_history",
                lambda p: rebuild_catch_up(pool, AliasHistory(), progress=p), total)
            for other in projections.catch_up_projections():  # so none catches up during reads
                if other.name != AliasHistory.name:
                    await catch_up(pool, other)
            for key in ("replay_inline", "replay_alias_history"):
                result[key]["vs_read_log"] = round(
                    result[key]["events_per_s"] / result["read_log_baseline"]["events_per_s"], 2)
            result["audit_verify"] = await timed(
                "verifying", lambda p: _verify(pool, p), total)
            await pool.execute("VACUUM ANALYZE")  # as autovacuum would have by the time of reads
        app = create_app(Settings(database_url=url, port=0))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            result["reads"] = await http_reads(f"http://127.0.0.1:{port}", args.models,
                                               args.reads, pool)
        finally:
            await pool.close()
            await runner.cleanup()
    return result


async def _verify(pool: asyncpg.Pool, on_progress: Any) -> None:
    verdict = await chain.verify(pool, on_progress)
    if not verdict.ok:
        raise RuntimeError(f"the generated chain does not verify: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--events-per-model", type=int, default=100)
    parser.add_argument("--reads", type=int, default=500, help="timed reads per kind")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logs.configure("json", level=logging.WARNING)  # no line per request on the terminal
    result = asyncio.run(bench(args))
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
