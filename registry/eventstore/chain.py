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


async def holds_published(db: asyncpg.Pool | asyncpg.Connection, head: str) -> str | None:
    """None if the log still holds a head published earlier (`POSITION:HASH`, or the hash alone),
    else what is wrong. A chain that verifies can still have lost its last events, or been
    rewritten from some event on, hashes and all; only a head noted down elsewhere shows it.
    (Events appended since it was published are the log growing, which is no problem.)"""
    position_text, _, hash_text = head.strip().rpartition(":")
    try:
        wanted = bytes.fromhex(hash_text)
        position = int(position_text) if position_text else None
    except ValueError:
        return f"not a published head: {head[:100]!r} (POSITION:HASH or HASH, as verify prints)"
    if position is None:
        found = await db.fetchval("SELECT position FROM events WHERE hash = $1 LIMIT 1", wanted)
        return None if found is not None else \
            f"no event has the published head hash {hash_text}: the log was cut or rewritten"
    held = await db.fetchval("SELECT hash FROM events WHERE position = $1", position)
    if held is None:
        last = await db.fetchval("SELECT coalesce(max(position), 0) FROM events")
        return f"the log ends at position {last}, before the published head {position}"
    if bytes(held) != wanted:
        return (f"event {position} has hash {bytes(held).hex()}, not the published "
                f"{hash_text}: the log was rewritten up to there")
    return None
