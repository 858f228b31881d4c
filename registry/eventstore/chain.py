"""Tamper evidence: walk the log's hash chain and report the first place it breaks.

Each event's hash covers its canonical form and the hash before it, so any change to the log shows
at the first event it touches: an altered event no longer matches its hash; a removed one leaves a
gap in positions; an inserted or reordered one breaks the chain where it stands. Publishing the
head hash this reports pins the whole history up to it.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from registry.eventstore import GENESIS_HASH, chain_hash, read_all

Progress = Callable[[int, int], None]  # (events checked, events in the log)
CHUNK = 10_000
_SLICE = 500


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int  # events checked
    head_position: int
    head_hash: str  # hex of the last good event's hash
    position: int | None = None  # where the chain breaks
    problem: str | None = None


async def verify(db: asyncpg.Pool | asyncpg.Connection, progress: Progress | None = None
                 ) -> Verdict:
    total = await db.fetchval("SELECT count(*) FROM events")
    expected_position, prev_hash, count = 1, GENESIS_HASH, 0
    while True:
        events = await read_all(db, after_position=expected_position - 1, limit=CHUNK)
        if not events:
            break
        for i, e in enumerate(events):
            if i % _SLICE == 0:
                await asyncio.sleep(0)  # hashing a chunk must not hold a server's event loop
            problem = None
            if e.position != expected_position:
                problem = (f"events {expected_position}..{e.position - 1} are missing"
                           if e.position > expected_position else "positions out of order")
            elif e.prev_hash != prev_hash:
                problem = "its link to the event before was changed (event removed, inserted "\
                          "or reordered)"
            elif e.hash != chain_hash(prev_hash, e):
                problem = "its content does not match its hash (event altered)"
            if problem is not None:
                return Verdict(False, count, expected_position - 1, prev_hash.hex(),
                               expected_position, problem)
            expected_position, prev_hash, count = e.position + 1, e.hash, count + 1
        if progress is not None:
            progress(count, total)
    if count != total:  # rows beyond a gap at the very end cannot be reached by position
        return Verdict(False, count, expected_position - 1, prev_hash.hex(), expected_position,
                       f"{total - count} event(s) stand after a gap in positions")
    return Verdict(True, count, expected_position - 1, prev_hash.hex())
