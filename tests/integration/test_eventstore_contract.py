"""The event store's contract (tests/support/eventstore_contract.py), run against real PostgreSQL
in every writer mode."""

import asyncpg

from registry.eventstore import EventStore, Projector, WriteModel
from tests.support.eventstore_contract import EventStoreContract, SharedLogContract


class TestBatchingWriter(SharedLogContract):
    """Concurrent appends share one transaction, up to 512 of them: the default, which servers
    run, so several of them on one log too."""

    def build(self, pool: asyncpg.Pool, projector: Projector,
              write_model: WriteModel | None = None) -> EventStore:
        return EventStore(pool, projector, write_model, max_batch=512)


class TestUnbatchedWriter(EventStoreContract):
    """One append per transaction, one writer on the log. (Not SharedLogContract: several such
    writers on one log give up with Conflict "other writers kept appending under this batch".)"""

    def build(self, pool: asyncpg.Pool, projector: Projector,
              write_model: WriteModel | None = None) -> EventStore:
        return EventStore(pool, projector, write_model, max_batch=1)


class TestLockedWriter(SharedLogContract):
    """Every batch under the log's lock (`serve --workers`): writers that know they share the log
    never collide."""

    def build(self, pool: asyncpg.Pool, projector: Projector,
              write_model: WriteModel | None = None) -> EventStore:
        return EventStore(pool, projector, write_model, always_locked=True)


class TestLockedUnbatchedWriter(SharedLogContract):
    """One append per locked transaction: unlike unbatched optimistic writers, several of them
    share a log, since none appends without holding the lock."""

    def build(self, pool: asyncpg.Pool, projector: Projector,
              write_model: WriteModel | None = None) -> EventStore:
        return EventStore(pool, projector, write_model, max_batch=1, always_locked=True)
