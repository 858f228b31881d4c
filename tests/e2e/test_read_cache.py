"""The read cache: exact for the process's own writes, near-exact for other processes' commits,
and a commit drops only what it changed."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from registry.bootstrap import writing
from registry.domain import commands as c
from registry.domain.principals import ADMIN
from registry.eventstore.log_head import CHANNEL
from registry.http.keys import LOG_HEAD, READ_CACHE
from registry.reads.cache import ReadCache
from tests.support.server import UC, V1, Live, call, patch, serving, use_parents

MLFLOW = "/api/2.0/mlflow"
ALIAS = f"{MLFLOW}/registered-models/alias"


async def _aliased(live: Live, *names: str) -> None:
    """Models `names`, each with versions 1 and 2 and `champion` on 1."""
    for name in names:
        await live.call("POST", f"{MLFLOW}/registered-models/create", json={"name": name})
        for _ in range(2):
            await live.call("POST", f"{MLFLOW}/model-versions/create",
                            json={"name": name, "source": "s3://b"})
        await live.call("POST", ALIAS, json={"name": name, "alias": "champion", "version": "1"})


async def _champion(http: aiohttp.ClientSession, name: str) -> str | None:
    async with http.get(ALIAS, params={"name": name, "alias": "champion"}) as r:
        body = await r.json()
        return body["model_version"]["version"] if r.status == 200 else None


async def _status(http: aiohttp.ClientSession, path: str) -> int:
    async with http.get(path) as r:
        return r.status


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    """Whether `check` comes true within `seconds` (a notification's latency)."""
    for _ in range(int(seconds / 0.02)):
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


async def _served_from_cache(cache: ReadCache, read: Callable[[], Awaitable[object]]) -> bool:
    """Whether one read was a hit (and no miss)."""
    hits, misses = cache.hits, cache.misses
    await read()
    return cache.hits == hits + 1 and cache.misses == misses


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

    def relistened() -> bool:
        try:
            return head.listening and head._listener.connection.get_server_pid() != pid
        except asyncpg.InterfaceError:  # asyncpg dropped the connection before telling of it
            return False

    for _ in range(200):
        if relistened():
            break
        await asyncio.sleep(0.02)
    assert relistened()
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
    await live.pool.execute("SELECT pg_notify($1, $2)", CHANNEL, str(start + 5))
    assert await head.wait_past(start + 4, 5.0)


async def test_a_write_to_one_model_leaves_another_models_reads_cached(live) -> None:
    await _aliased(live, "a", "b")
    cache = live.app[READ_CACHE]
    assert await _champion(live.http, "b") == "1"  # fills the cache
    assert await _served_from_cache(cache, lambda: _champion(live.http, "b"))
    for body in ({"name": "a", "alias": "champion", "version": "2"},
                 {"name": "a", "alias": "challenger", "version": "1"}):
        await live.call("POST", ALIAS, json=body)
        assert await _champion(live.http, "a") == "2"  # A's own write, read at once
        assert await _served_from_cache(cache, lambda: _champion(live.http, "b"))
    await live.call("POST", ALIAS, json={"name": "b", "alias": "champion", "version": "2"})
    assert await _champion(live.http, "b") == "2"


async def test_renames_and_deletes_are_read_at_once(live) -> None:
    """Name-keyed entries: a model renamed away leaves its old name, a new model takes it, a
    deleted model is gone; none of them served from a stale entry."""
    await _aliased(live, "old", "other")
    get = f"{MLFLOW}/registered-models/get?name="
    assert await _champion(live.http, "old") == "1" and await _status(live.http, get + "new") == 404
    assert await _status(live.http, get + "old") == 200
    await live.call("POST", f"{MLFLOW}/registered-models/rename",
                    json={"name": "old", "new_name": "new"})
    assert await _champion(live.http, "old") is None and await _champion(live.http, "new") == "1"
    assert await _status(live.http, get + "old") == 404 and await _status(live.http, get + "new") == 200
    # A new model takes the old name: the cached "no model named old" must go.
    await _aliased(live, "old")
    await live.call("POST", ALIAS, json={"name": "old", "alias": "champion", "version": "2"})
    assert await _status(live.http, get + "old") == 200 and await _champion(live.http, "old") == "2"
    assert await _champion(live.http, "new") == "1"
    await live.call("DELETE", f"{MLFLOW}/registered-models/delete", json={"name": "new"})
    assert await _champion(live.http, "new") is None and await _status(live.http, get + "new") == 404
    # A version deleted under its alias.
    await live.call("DELETE", f"{MLFLOW}/model-versions/delete", json={"name": "old", "version": "2"})
    assert await _champion(live.http, "old") is None


async def test_namespace_renames_are_read_at_once(live) -> None:
    """A schema rename moves every model under it: nothing cached under the old names stays."""
    await live.call("POST", f"{UC}/schemas", json={"catalog_name": "unity", "name": "team"})
    status, _ = await live.call("POST", f"{V1}/models", json={"name": "unity.team.m"})
    assert status == 201
    assert await _status(live.http, f"{V1}/models/unity.team.m") == 200
    assert await _status(live.http, f"{V1}/models/unity.renamed.m") == 404
    status, _ = await live.call("PATCH", f"{UC}/schemas/unity.team", json={"new_name": "renamed"})
    assert status == 200
    assert await _status(live.http, f"{V1}/models/unity.team.m") == 404
    assert await _status(live.http, f"{V1}/models/unity.renamed.m") == 200


async def test_another_process_drops_only_what_it_touched(live, db_url: str, tmp_path: Path
                                                        ) -> None:
    """A second server on the same database writes to one model: this server reads the change
    within a notification's latency, and its other cached reads stay cached."""
    await _aliased(live, "x", "y")
    cache = live.app[READ_CACHE]
    async with serving(db_url, tmp_path) as other, aiohttp.ClientSession(other.url) as b:
        assert await _champion(live.http, "x") == "1" and await _champion(live.http, "y") == "1"
        async with b.post(ALIAS, json={"name": "x", "alias": "champion", "version": "2"}) as r:
            assert r.status == 200
        assert await _eventually(lambda: _is(_champion(live.http, "x"), "2"))
        assert await _served_from_cache(cache, lambda: _champion(live.http, "y"))
        # A model another process creates under a name this one found no model by.
        get = f"{MLFLOW}/registered-models/get?name=late"
        assert await _status(live.http, get) == 404
        async with b.post(f"{MLFLOW}/registered-models/create", json={"name": "late"}) as r:
            assert r.status == 200
        assert await _eventually(lambda: _is(_status(live.http, get), 200))
        # ... and renames away.
        async with b.post(f"{MLFLOW}/registered-models/rename",
                          json={"name": "y", "new_name": "y2"}) as r:
            assert r.status == 200
        assert await _eventually(lambda: _is(_champion(live.http, "y"), None))
        assert await _champion(live.http, "y2") == "1"


async def test_a_direct_append_drops_only_its_model(live) -> None:
    """An EventStore of its own on the same database (as another process's): its append reaches
    this cache only through PostgreSQL's notification, which names the stream it appended to."""
    await _aliased(live, "p", "q")
    cache = live.app[READ_CACHE]
    assert await _champion(live.http, "p") == "1" and await _champion(live.http, "q") == "1"
    async with writing(live.pool) as other:
        await other.service.execute(
            c.SetAlias(full_name="unity.default.p", alias="champion", version=2), ADMIN)
    assert await _eventually(lambda: _is(_champion(live.http, "p"), "2"))
    assert await _served_from_cache(cache, lambda: _champion(live.http, "q"))


async def test_a_revoke_is_never_served_from_the_cache(team, db_url: str, tmp_path: Path) -> None:
    """Cached answers hold no one's access: every read is checked first, so a revoke counts from
    the next request on in this process, and within a notification's latency in another."""
    server, t = team
    model = "unity.default.scorer"
    await call(server, "POST", f"{V1}/models/{model}/versions", t["alice"], json={"source": "s3://b"})
    await call(server, "PUT", f"{V1}/models/{model}/aliases/champion", t["alice"],
               json={"version": 1})
    await use_parents(server, t["admin"], "bob")
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as other:
        for path in (f"{V1}/models/{model}", f"{V1}/models/{model}/aliases/champion"):
            await call(server, "PATCH", f"{V1}/permissions/registered_model/{model}", t["alice"],
                       json=patch("bob", ["EXECUTE"]))

            async def allowed(p: str = path) -> bool:
                return (await call(other, "GET", p, t["bob"]))[0] == 200

            assert await _eventually(allowed), path
            for _ in range(2):  # the second from the cache
                assert (await call(server, "GET", path, t["bob"]))[0] == 200, path
                assert (await call(other, "GET", path, t["bob"]))[0] == 200, path
            await call(server, "PATCH", f"{V1}/permissions/registered_model/{model}", t["alice"],
                       json=patch("bob", remove=["EXECUTE"]))
            assert (await call(server, "GET", path, t["bob"]))[0] == 403, path

            async def denied(p: str = path) -> bool:
                return (await call(other, "GET", p, t["bob"]))[0] == 403

            assert await _eventually(denied), path


async def _is(got: Awaitable[object], expected: object) -> bool:
    return await got == expected


async def test_a_notification_names_its_streams_or_none_when_they_do_not_fit(live) -> None:
    """PostgreSQL's NOTIFY payload holds 8000 bytes: a batch over too many streams says only its
    position, and every reader then drops everything. The channel of earlier versions goes on
    carrying the position alone."""
    await _aliased(live, "kept")
    cache = live.app[READ_CACHE]
    payloads: list[str] = []
    legacy: list[str] = []  # what processes of earlier versions listen to: the position alone

    def heard(*args: Any) -> None:
        (payloads if args[2] == CHANNEL else legacy).append(args[3])

    async with live.pool.acquire() as conn:
        await conn.add_listener(CHANNEL, heard)
        await conn.add_listener("modelog_appended", heard)
        async with writing(live.pool) as other:
            await other.service.execute(c.CreateModel(full_name="unity.default.one"), ADMIN)
            assert await _eventually(lambda: _is(_len(payloads), 1))
            assert await _champion(live.http, "kept") == "1"
            assert await _served_from_cache(cache, lambda: _champion(live.http, "kept"))
            await asyncio.gather(*(other.service.execute(
                c.CreateModel(full_name=f"unity.default.many-{i}"), ADMIN) for i in range(300)))
        assert await _eventually(lambda: _is(_models(live), 302))
        await asyncio.sleep(0.2)  # the last notifications, to both listeners
        await conn.remove_listener(CHANNEL, heard)
        await conn.remove_listener("modelog_appended", heard)
    first, *streams = payloads[0].split("\n")
    assert int(first) > 0 and len(streams) == 1 and streams[0].startswith("model:")
    assert all(len(p.encode()) <= 8000 for p in payloads)
    assert any(p.isdigit() for p in payloads)  # one batch was too wide to name its streams
    assert legacy == [p.split("\n")[0] for p in payloads]
    assert not await _served_from_cache(cache, lambda: _champion(live.http, "kept"))


async def _len(items: list[str]) -> int:
    return len(items)


async def _models(live: Live) -> int:
    return await live.pool.fetchval("SELECT count(*) FROM registered_models")
