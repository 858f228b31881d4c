"""Keeps the writer's in-memory state in step with other processes' commits, for the privilege
checks of reads.

Reads are checked against the write model's ACLs (registry/http/authorize.py), which this process
folds as its own writer commits. Another process's grant or revoke would otherwise reach them only
when this writer next decides something. So when the log head goes past what the writer knows
(PostgreSQL's 'modelog_appended_streams' notification, registry/eventstore/log_head.py), an empty
batch is submitted: the writer finds the head moved and catches up on the foreign events under its
lock, one by one. A read then sees another process's revoke within a notification's latency (and
10 ms at most, as commits in a stream are caught up on together) of its commit; writes never
depend on this, as the writer decides them on a head it has checked.

It also runs an empty batch when reads' lookups have made the write model outgrow its memory
budget: only the writer, between batches, may drop what the write model holds.
"""

import asyncio
import contextlib

import structlog

from registry.eventstore import EventStore, Tx
from registry.eventstore.log_head import LogHead
from registry.service.write_model import RegistryWriteModel

log = structlog.get_logger(__name__)
COALESCE_SECONDS = 0.01


class WriteModelSync:
    def __init__(self, store: EventStore, head: LogHead, write_model: RegistryWriteModel) -> None:
        self.store = store
        self.write_model = write_model
        self.head = head
        self.syncs = 0
        self._forgotten = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # A writer that lost step with the log (a failed batch) reset its model: reload it now,
        # not at the next write, since checks refuse non-admins until then.
        self.store.writer.on_forget.append(self._forgotten.set)
        self._task = asyncio.create_task(self._run(), name="modelog-write-model-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self.store.writer.on_forget.remove(self._forgotten.set)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        over_budget = self.write_model.over_budget
        while True:
            known = self.store.writer.head
            if known is not None and self.head.position <= known and not over_budget.is_set():
                self._forgotten.clear()  # the model is loaded: no reset is pending
                await self._wait_past(known)
                continue
            try:
                await self.store.transact(_nothing)
                self.syncs += 1
                # Under a stream of other processes' commits (`serve --workers`), catch up on
                # them together: a batch per commit would take the writer's time from writes.
                await asyncio.sleep(COALESCE_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("write model could not catch up with other processes' commits",
                            exc_info=True)
            if self.store.writer.head is None:
                await asyncio.sleep(1.0)  # the database is away; don't spin

    async def _wait_past(self, known: int) -> None:
        """Until the head moves past `known`, the writer forgets its model or its model outgrows
        its budget (or a while passes: a notification can be lost with its connection)."""
        waits = [asyncio.ensure_future(self.head.wait_past(known, 30.0)),
                 asyncio.ensure_future(self._forgotten.wait()),
                 asyncio.ensure_future(self.write_model.over_budget.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()


async def _nothing(tx: Tx) -> None:
    return None
