"""The read cache: exact for the process's own writes, and cleared by other processes' commits."""

import asyncio
from pathlib import Path

import aiohttp

from registry.api.keys import READ_CACHE
from tests.serving import serving

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
