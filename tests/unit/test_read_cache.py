"""The read cache's bookkeeping, without a database: what each commit drops, and that a read which
raced an invalidation of what it depends on keeps its answer to itself."""

import asyncio
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from registry.domain import models
from registry.eventstore import RecordedEvent
from registry.eventstore.log_head import RELISTENED
from registry.reads.cache import ReadCache, model_tags

A, B = uuid4(), uuid4()


def listening() -> ReadCache:
    cache = ReadCache()
    cache._notified(RELISTENED)  # as a head that listens tells it
    return cache


def recorded(position: int, stream_id: str, type_: str = "ModelTagSet",
             data: dict[str, Any] | None = None) -> RecordedEvent:
    return RecordedEvent(position, stream_id, 1, type_, 1, data or {"key": "k", "value": "v"}, {},
                         datetime.now(UTC), b"", b"")


async def fill(cache: ReadCache, key: Hashable, model_id: UUID | None, name: str) -> None:
    async def load() -> UUID | None:
        return model_id
    await cache.get(key, load, lambda found: model_tags(found, name))


def cached(cache: ReadCache, key: Hashable) -> bool:
    return key in cache._entries


async def test_own_commits_drop_their_models_and_the_names_they_claim() -> None:
    cache = listening()
    await fill(cache, "a", A, "c.s.a")
    await fill(cache, "b", B, "c.s.b")
    await fill(cache, "missing", None, "c.s.new")
    await fill(cache, "other-missing", None, "c.s.other")
    cache.committed(10, [recorded(10, models.stream_id(A))])
    assert not cached(cache, "a") and cached(cache, "b") and cached(cache, "missing")
    cache.committed(11, [recorded(11, models.stream_id(uuid4()), "ModelCreated", {
        "model_id": str(uuid4()), "catalog_name": "c", "schema_name": "s", "name": "new",
        "owner": "o"})])
    assert not cached(cache, "missing") and cached(cache, "other-missing") and cached(cache, "b")
    # Principals, tokens and webhooks change no cached read; a schema may move models: all go.
    cache.committed(12, [recorded(12, "token:t1", "TokenRevoked", {"token_id": "t1"})])
    assert cached(cache, "b")
    cache.committed(13, [recorded(13, "schema:c.s", "SchemaUpdated", {"catalog_name": "c",
                                                                      "name": "s"})])
    assert len(cache) == 0


async def test_other_processes_commits_drop_their_streams_and_unbound_names() -> None:
    cache = listening()
    await fill(cache, "a", A, "c.s.a")
    await fill(cache, "b", B, "c.s.b")
    await fill(cache, "missing", None, "c.s.new")
    cache.committed(5, [recorded(5, models.stream_id(B))])
    await fill(cache, "b", B, "c.s.b")
    cache._notified(f"5\n{models.stream_id(B)}")  # our own commit's notification: skipped
    assert cached(cache, "b")
    # A stream id does not say which names it claimed: every "no such model" goes.
    cache._notified(f"7\n{models.stream_id(A)}\nwebhook:w")
    assert not cached(cache, "a") and not cached(cache, "missing") and cached(cache, "b")
    cache._notified("8")  # too many streams to name: anything may have changed
    assert len(cache) == 0
    await fill(cache, "b", B, "c.s.b")
    cache._notified(f"8\n{models.stream_id(B)}")  # covered by the clear at 8 already
    assert cached(cache, "b")


async def test_a_read_that_raced_an_invalidation_is_not_kept() -> None:
    cache = listening()
    loaded = asyncio.Event()
    go = asyncio.Event()

    async def slow() -> UUID:
        loaded.set()
        await go.wait()
        return A  # an answer read before the commit below

    for stream, kept in ((models.stream_id(B), True), (models.stream_id(A), False)):
        loaded.clear()
        go.clear()
        read = asyncio.create_task(cache.get("a", slow, lambda found: model_tags(found, "c.s.a")))
        await loaded.wait()
        cache.committed(100 if kept else 101, [recorded(100, stream)])
        go.set()
        assert await read == A
        assert cached(cache, "a") is kept, stream
        cache.clear()


async def test_a_read_that_raced_a_clear_is_not_kept() -> None:
    cache = listening()
    loaded, go = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        loaded.set()
        await go.wait()

    read = asyncio.create_task(cache.get("x", slow, lambda _: model_tags(None, "c.s.x")))
    await loaded.wait()
    cache._notified("9")
    go.set()
    await read
    assert not cached(cache, "x")


async def test_many_invalidations_keep_the_bookkeeping_bounded() -> None:
    cache = listening()
    for position in range(1, 30_000):
        cache.committed(position, [recorded(position, models.stream_id(uuid4()))])
    assert len(cache._touched) <= 10_001 and len(cache._own) <= 1024
