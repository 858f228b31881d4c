"""The event store: append to a stream with an expected version, read a stream, read the log.

Appends go through the batching `Writer`; reads go straight to the database. Every recorded
event is hash-chained to the one before it in log order.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from registry.eventstore.reads import head_position, position_at, read_all, read_stream, stream_version
from registry.eventstore.records import GENESIS_HASH, NewEvent, RecordedEvent, canonical, chain_hash, iso_time
from registry.eventstore.writer import Projector, Tx, WriteModel, Writer, WriterStopped

T = TypeVar("T")


class EventStore:
    """Appends through one batching writer per process; reads from the pool."""

    def __init__(
        self, pool: asyncpg.Pool, projector: Projector | None = None,
        write_model: WriteModel | None = None, max_batch: int = 512, always_locked: bool = False,
        version_cache: int = 32 << 20,
    ) -> None:
        self.pool = pool
        self.writer = Writer(pool, projector, write_model, max_batch=max_batch,
                             always_locked=always_locked, version_cache=version_cache)

    async def start(self) -> None:
        await self.writer.start()

    async def close(self) -> None:
        await self.writer.stop()

    async def transact(self, job: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `job` inside the next write batch, under the writer lock; its appends commit
        together with the inline projections, or not at all."""
        return await self.writer.submit(job)

    async def append(
        self, stream_id: str, expected_version: int | None, events: Sequence[NewEvent],
        metadata: dict[str, Any] | None = None,
    ) -> list[RecordedEvent]:
        """Append `events` to `stream_id` if its version is `expected_version` (0: the stream must
        not exist; None: any). Raises `Conflict` and appends nothing otherwise."""

        async def job(tx: Tx) -> list[RecordedEvent]:
            return await tx.append(stream_id, expected_version, events, metadata or {})

        return await self.writer.submit(job)

    async def read_stream(self, stream_id: str, **kwargs: Any) -> list[RecordedEvent]:
        return await read_stream(self.pool, stream_id, **kwargs)

    async def read_all(self, **kwargs: Any) -> list[RecordedEvent]:
        return await read_all(self.pool, **kwargs)


__all__ = [
    "GENESIS_HASH", "EventStore", "NewEvent", "Projector", "RecordedEvent", "Tx", "WriteModel",
    "WriterStopped", "canonical", "chain_hash", "head_position", "iso_time", "position_at",
    "read_all", "read_stream", "stream_version",
]
