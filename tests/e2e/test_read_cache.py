"""The read cache: exact for the process's own writes, and cleared by other processes' commits."""

import asyncio
from pathlib import Path

import aiohttp

from registry.http.keys import LOG_HEAD, READ_CACHE
from tests.support.server import serving

ALIAS = "/api/2.0/mlflow/registered-models/alias"


async def test_reads_are_cached_and_own_writes_are_read_at_once(live) -> None:
    await live.call("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "c"})
    for _ in range(2):
        await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                        json={"name": "c", "source": "s3://b"})
    await live.call("POST", ALIAS, json={"name": "c", "alias": "champion", "version": "1"})
    cache = live.app[READ_CACHE]
    hits = cache.hits
    for _ in range(3):
        status, body = await live.call("GET", ALIAS, params={"name": "c", "alias": "champion"})
        assert status == 200 and body["model_version"]["version"] == "1"
    assert cache.hits >= hits + 2  # the first read fills the cache, the others come from it
    await live.call("POST", ALIAS, json={"name": "c", "alias": "champion", "version": "2"})
    status, body = await live.call("GET", ALIAS, params={"name": "c", "alias": "champion"})
    assert body["model_version"]["version"] == "2"  # no stale read after our own write


async def test_another_process_commit_clears_this_cache(live, db_url: str, tmp_path: Path) -> None:
    async with serving(db_url, tmp_path) as other, aiohttp.ClientSession(other.url) as b:
        await live.call("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "x"})
        for _ in range(2):
            await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                            json={"name": "x", "source": "s3://b"})
        await live.call("POST", ALIAS, json={"name": "x", "alias": "champion", "version": "1"})

        async def champion() -> str:
            async with b.get(ALIAS, params={"name": "x", "alias": "champion"}) as r:
                return (await r.json())["model_version"]["version"]

        assert await champion() == "1" and await champion() == "1"  # now cached in B
        await live.call("POST", ALIAS, json={"name": "x", "alias": "champion", "version": "2"})
        for _ in range(100):  # the notification arrives right after A's commit
            if await champion() == "2":
                break
            await asyncio.sleep(0.02)
        assert await champion() == "2"


async def test_a_lost_listen_connection_is_made_again(live) -> None:
    """PostgreSQL drops the connection the process listens for commits on: the read cache is
    bypassed (it could miss another process's commit), the head listens again by itself, and
    then the cache is used again and another process's commit reaches the head at once."""
    head, cache = live.app[LOG_HEAD], live.app[READ_CACHE]
    await live.call("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "r"})
    await live.call("POST", "/api/2.0/mlflow/model-versions/create",
                    json={"name": "r", "source": "s3://b"})
    await live.call("POST", ALIAS, json={"name": "r", "alias": "champion", "version": "1"})
    pid = head._listener.connection.get_server_pid()
    assert await live.pool.fetchval("SELECT pg_terminate_backend($1)", pid)
    for _ in range(200):
        if head.listening and head._listener.connection.get_server_pid() != pid:
            break
        await asyncio.sleep(0.02)
    assert head.listening and head._listener.connection.get_server_pid() != pid
    # The cache is used again once the head has re-read its position after listening again, a
    # moment after `listening` turns true.
    for _ in range(200):
        hits = cache.hits
        for _ in range(2):
            status, _ = await live.call("GET", ALIAS, params={"name": "r", "alias": "champion"})
            assert status == 200
        if cache.hits > hits:
            break
        await asyncio.sleep(0.02)
    assert cache.hits > hits  # in use again
    # A commit by another process (its notification, as every append statement raises it).
    start = head.position
    await live.pool.execute("SELECT pg_notify('modelog_appended', $1)", str(start + 5))
    assert await head.wait_past(start + 4, 5.0)
