"""`modelog audit verify` and GET /audit/verify: the hash chain catches every kind of tampering."""

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from registry.domain import snapshots
from registry.eventstore import chain_hash, read_all

V1 = "/api/modelog/v1"


async def history(live) -> int:
    await live.call("POST", f"{V1}/models", json={"name": "unity.default.audited"})
    for _ in range(4):
        await live.call("POST", f"{V1}/models/unity.default.audited/versions",
                        json={"source": "s3://b"})
    await live.call("PUT", f"{V1}/models/unity.default.audited/aliases/champion",
                    json={"version": 2})
    return await live.pool.fetchval("SELECT max(position) FROM events")


@contextlib.asynccontextmanager
async def insider(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser's connection with the log's triggers switched off: what an insider could do."""
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("SET session_replication_role = replica")
        yield conn
    finally:
        await conn.close()


async def tamper(db_url: str, *statements: str) -> None:
    async with insider(db_url) as conn:
        for sql in statements:
            await conn.execute(sql)


def cli_verify(db_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "registry.cli", "audit", "verify",
                           "--database-url", db_url], capture_output=True, text=True, timeout=120)


async def test_an_untouched_log_verifies_and_names_its_head(live, db_url: str) -> None:
    head = await history(live)
    status, v = await live.call("GET", f"{V1}/audit/verify")
    last = (await read_all(live.pool, after_position=head - 1))[0]
    assert status == 200 and v["ok"] and v["count"] == head
    assert v["head_position"] == head and v["head_hash"] == last.hash.hex()
    out = await asyncio.to_thread(cli_verify, db_url)
    assert out.returncode == 0 and f"OK: {head} events" in out.stdout
    assert last.hash.hex() in out.stdout and "verifying [" in out.stderr


@pytest.mark.parametrize("kind", ["altered", "removed", "inserted", "reordered"])
async def test_tampering_is_found_at_the_first_event_it_touches(live, db_url: str,
                                                                  kind: str) -> None:
    head = await history(live)
    p = 4  # a VersionRegistered event in the middle of the log
    if kind == "altered":
        await tamper(db_url, "UPDATE events SET data = jsonb_set(data, '{source}', "
                             f"'\"s3://evil\"') WHERE position = {p}")
        where, words = p, "altered"
    elif kind == "removed":
        await tamper(db_url, f"DELETE FROM events WHERE position = {p}")
        where, words = p, "missing"
    elif kind == "inserted":
        # Make room after p and slip in a forged event that even carries a correct hash of its
        # own: the event after it still links to p, not to the forgery.
        [before] = await read_all(live.pool, after_position=p - 1, limit=1)
        await tamper(db_url,
                     f"UPDATE events SET position = position + 1000000 WHERE position > {p}",
                     f"UPDATE events SET position = position - 999999 WHERE position > {p}")
        forged = replace(before, position=p + 1, stream_version=99, prev_hash=before.hash)
        digest = chain_hash(before.hash, forged)
        async with insider(db_url) as conn:
            await conn.execute(
                "INSERT INTO events (position, stream_id, stream_version, type, schema_version, "
                "data, metadata, recorded_at, prev_hash, hash) SELECT $1, stream_id, 99, type, "
                "schema_version, data, metadata, recorded_at, $2, $3 FROM events "
                "WHERE position = $4", p + 1, before.hash, digest, p)
        where, words = p + 2, "link"
    else:  # reordered: two events swap places
        await tamper(db_url,
                     f"UPDATE events SET position = -1 WHERE position = {p}",
                     f"UPDATE events SET position = {p} WHERE position = {p + 1}",
                     f"UPDATE events SET position = {p + 1} WHERE position = -1")
        where, words = p, "link"
    status, v = await live.call("GET", f"{V1}/audit/verify")
    assert status == 200 and not v["ok"]
    assert v["position"] == where and words in v["problem"], v
    assert v["head_position"] == where - 1  # the chain still vouches for everything before
    out = await asyncio.to_thread(cli_verify, db_url)
    assert out.returncode == 2 and f"TAMPERED at position {where}" in out.stdout
    assert head >= p + 2


async def test_a_snapshot_that_does_not_hold_its_fold_is_named(live, db_url: str) -> None:
    """Snapshots are outside the chain: verify refolds the streams that have them, names a row
    that lies (here: a description the model never had), and passes once it is deleted."""
    await live.call("POST", f"{V1}/models", json={"name": "unity.default.long"})
    for _ in range(snapshots.EVERY):  # past the first snapshot point
        await live.call("POST", f"{V1}/models/unity.default.long/versions",
                        json={"source": "s3://b"})
    snapshot = await live.pool.fetchrow("SELECT stream_id, position FROM model_snapshots")
    assert snapshot is not None
    out = await asyncio.to_thread(cli_verify, db_url)
    assert out.returncode == 0 and "checking snapshots [" in out.stderr, out.stdout
    await tamper(db_url, "UPDATE model_snapshots SET state = jsonb_set(state, '{description}', "
                         "'\"approved by legal\"')")
    out = await asyncio.to_thread(cli_verify, db_url)
    assert out.returncode == 2
    assert f"SNAPSHOT WRONG: {snapshot['stream_id']} at position {snapshot['position']}" \
        in out.stdout
    status, v = await live.call("GET", f"{V1}/audit/verify")
    assert status == 200 and v["ok"] and not v["snapshots_ok"]
    assert v["snapshots_wrong"] == [dict(snapshot)]
    await tamper(db_url, "DELETE FROM model_snapshots")
    assert (await asyncio.to_thread(cli_verify, db_url)).returncode == 0


@pytest.mark.parametrize("kind", ["last removed", "last replaced", "rewritten from K", "grown"])
async def test_a_published_head_catches_what_a_sound_chain_hides(live, db_url: str,
                                                                  kind: str) -> None:
    """Cut the last event, or swap it for a correctly chained forgery, or rewrite every hash from
    K on: the chain still verifies, but not against the head published before; events appended
    since the head was published are the log growing, and pass."""
    head = await history(live)
    [last] = await read_all(live.pool, after_position=head - 1)
    published = f"{head}:{last.hash.hex()}"
    match kind:
        case "last removed":
            await tamper(db_url, f"DELETE FROM events WHERE position = {head}")
        case "last replaced":
            [before] = await read_all(live.pool, after_position=head - 2, limit=1)
            forged = replace(last, data={**last.data, "version": 99})
            await tamper(db_url, f"DELETE FROM events WHERE position = {head}")
            async with insider(db_url) as conn:
                await conn.execute(
                    "INSERT INTO events (position, stream_id, stream_version, type, "
                    "schema_version, data, metadata, recorded_at, prev_hash, hash) "
                    "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10)", head,
                    forged.stream_id, forged.stream_version, forged.type, forged.schema_version,
                    json.dumps(forged.data), json.dumps(forged.metadata), forged.recorded_at,
                    before.hash,
                    chain_hash(before.hash, forged))
        case "rewritten from K":
            events = await read_all(live.pool, after_position=3)
            async with insider(db_url) as conn:
                prev = (await read_all(live.pool, after_position=2, limit=1))[0].hash
                for e in events:  # each altered, and its hash and link made good again
                    e = replace(e, metadata={**e.metadata, "actor": "mallory"}, prev_hash=prev)
                    prev = chain_hash(prev, e)
                    await conn.execute("UPDATE events SET metadata = $1::jsonb, prev_hash = $2, "
                                       "hash = $3 WHERE position = $4", json.dumps(e.metadata),
                                       e.prev_hash, prev, e.position)
        case _:
            await live.call("POST", f"{V1}/models", json={"name": "unity.default.later"})
    status, v = await live.call("GET", f"{V1}/audit/verify", params={"expect_head": published})
    assert status == 200 and v["ok"], v  # the chain alone finds nothing
    assert v["expected_head_ok"] == (kind == "grown"), v
    out = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "registry.cli", "audit", "verify", "--database-url", db_url,
        "--expect-head", published], capture_output=True, text=True, timeout=120)
    if kind == "grown":
        assert out.returncode == 0 and "OK: " in out.stdout, out.stdout + out.stderr
    else:
        assert out.returncode == 2 and out.stdout.startswith("TAMPERED: "), out.stdout
