"""A model's state from the log in time independent of its history: its latest snapshot up to a
position and the events after it (`restore`), and one version from that version's own events
(`versions`). The same answers as folding the whole stream, at a bounded cost.
"""

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

import asyncpg

from registry.domain import models as m
from registry.domain import privileges, snapshots
from registry.eventstore.domain_events import domain_event, stamp
from registry.eventstore.reads import COLUMNS, from_row
from registry.eventstore.records import RecordedEvent
from registry.eventstore.statements import insert

Db = asyncpg.Connection | asyncpg.Pool

SNAPSHOTS = insert("model_snapshots", {
    "stream_id": "text", "position": "bigint", "stream_version": "int",
    "schema_version": "smallint", "state": "jsonb"}, upsert_on=("stream_id", "position"))

# Per stream: its latest snapshot up to $3, and the stream version of the first one after it,
# which bounds the tail to read (a filter on position alone would scan the stream to its end).
_SNAPSHOTS_AT = (
    "SELECT s.stream_id, l.stream_version, l.position, l.state, n.stream_version AS bound "
    "FROM unnest($1::text[]) AS s(stream_id) "
    "LEFT JOIN LATERAL (SELECT stream_version, position, state FROM model_snapshots "
    "  WHERE stream_id = s.stream_id AND schema_version = $2 AND position <= $3 "
    "  ORDER BY position DESC LIMIT 1) l ON true "
    "LEFT JOIN LATERAL (SELECT stream_version FROM model_snapshots "
    "  WHERE stream_id = s.stream_id AND schema_version = $2 AND position > $3 "
    "  ORDER BY position LIMIT 1) n ON true")
_TAILS = (
    f"SELECT e.* FROM unnest($1::text[], $2::int[], $3::int[]) AS s(stream_id, after, bound) "
    f"CROSS JOIN LATERAL (SELECT {COLUMNS} FROM events WHERE stream_id = s.stream_id "
    "  AND stream_version > s.after AND stream_version <= coalesce(s.bound, 2147483647) "
    "  AND position <= $4 ORDER BY stream_version) e ORDER BY e.stream_id, e.stream_version")
# A version's own events: the partial index events_by_version (migration 0020) answers them.
_OF_VERSIONS = (f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 "
                "AND jsonb_typeof(data->'version') = 'number' "
                "AND (data->'version')::numeric = ANY($2::numeric[]) {until} ORDER BY position")
NOW = 2**63 - 1  # a position past any head: "as committed"


@dataclass(frozen=True, slots=True)
class Restored:
    model: m.Model | None  # None: the stream holds no model (yet) at that point
    acl: privileges.Acl | None
    stream_version: int  # of the last event folded in (0: none)
    position: int  # of that event (0: none)
    folded: int  # events folded on top of the snapshot


EMPTY = Restored(None, None, 0, 0, 0)


def fold(start: Restored, events: Iterable[RecordedEvent]) -> Restored:
    """`start` with `events` (of its stream, in order) folded on top."""
    model, acl, version, position, folded = (start.model, start.acl, start.stream_version,
                                             start.position, start.folded)
    for e in events:
        event = domain_event(e)
        model, acl = m.evolve(model, event, stamp(e)), privileges.evolve(acl, event)
        version, position, folded = e.stream_version, e.position, folded + 1
    return Restored(model, acl, version, position, folded)


async def restore(db: Db, stream: str, until_position: int = NOW,
                  pending: Iterable[RecordedEvent] = ()) -> Restored:
    """The model of `stream` as of `until_position` (by default as committed), then `pending`
    (this batch's own events). Versions registered before the snapshot used are not held."""
    return fold((await restore_many(db, [stream], until_position))[stream], pending)


async def restore_many(db: Db, streams: Sequence[str], until_position: int = NOW
                       ) -> dict[str, Restored]:
    """`restore` of several streams at one position, in two queries."""
    starts = {r["stream_id"]: r for r in await db.fetch(
        _SNAPSHOTS_AT, list(streams), snapshots.SCHEMA_VERSION, until_position)}
    restored = {}
    for stream in streams:
        r = starts[stream]
        restored[stream] = EMPTY if r["state"] is None else Restored(
            *snapshots.decode(r["state"]), r["stream_version"], r["position"], 0)
    rows = await db.fetch(_TAILS, list(streams), [restored[s].stream_version for s in streams],
                          [starts[s]["bound"] for s in streams], until_position)
    for stream, tail in groupby(map(from_row, rows), key=lambda e: e.stream_id):
        restored[stream] = fold(restored[stream], tail)
    return restored


async def versions(db: Db, stream: str, numbers: Sequence[int], until_position: int = NOW,
                   pending: Iterable[RecordedEvent] = ()) -> dict[int, m.ModelVersion | None]:
    """Each of `numbers` as its own events (up to `until_position`, then `pending`) make it;
    None for a version deleted or never registered by then."""
    until = "" if until_position == NOW else "AND position <= $3"
    args = (stream, list(numbers)) + (() if until_position == NOW else (until_position,))
    rows = await db.fetch(_OF_VERSIONS.format(until=until), *args)
    found: dict[int, m.ModelVersion | None] = dict.fromkeys(numbers)
    for e in [*map(from_row, rows), *pending]:
        number = e.data.get("version")
        if number in found:
            found[number] = m.evolve_version(found[number], domain_event(e), stamp(e))
    return found


def snapshot_row(stream: str, stream_version: int, position: int, model: m.Model,
                 acl: privileges.Acl | None) -> tuple:
    return (stream, position, stream_version, snapshots.SCHEMA_VERSION,
            snapshots.encode(model, acl))


async def check_snapshots(db: Db, progress: Callable[[int, int], None] | None = None
                          ) -> list[tuple[str, int]]:
    """The snapshots (stream, position) that do not hold what the fold of their stream gives at
    their event: the chain does not cover them, so `audit verify` refolds every stream that has
    one. Empty: every snapshot agrees with the log."""
    wrong: list[tuple[str, int]] = []
    streams = [r[0] for r in await db.fetch(
        "SELECT DISTINCT stream_id FROM model_snapshots WHERE schema_version = $1 "
        "ORDER BY stream_id", snapshots.SCHEMA_VERSION)]
    for done, stream in enumerate(streams, 1):
        rows = await db.fetch(
            "SELECT stream_version, position, state FROM model_snapshots WHERE stream_id = $1 "
            "AND schema_version = $2 ORDER BY stream_version", stream, snapshots.SCHEMA_VERSION)
        current = EMPTY
        for r in rows:
            while current.stream_version < r["stream_version"]:
                chunk = await db.fetch(
                    f"SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 "
                    "AND stream_version <= $3 ORDER BY stream_version LIMIT 500",
                    stream, current.stream_version, r["stream_version"])
                if not chunk:
                    break
                current = fold(current, map(from_row, chunk))
                await asyncio.sleep(0)  # a long history must not hold the event loop
            if current.model is None or current.stream_version != r["stream_version"] \
                    or current.position != r["position"] \
                    or snapshots.encode(current.model.shell(), current.acl) != r["state"]:
                wrong.append((stream, r["position"]))
        if progress is not None:
            progress(done, len(streams))
    return wrong
