"""Events as subscribers see them (the live feed, webhooks): with the full name their object bore
when they happened, and filters on type and object.

`object_name` and `matches` are pure; `resolve` looks the model names up in `model_names`, which
the writer fills in the same statement as the events, so every visible event's name is there.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from registry.domain import streams
from registry.domain.names import within
from registry.eventstore import RecordedEvent, iso_time
from registry.eventstore.database import READ_MODEL_SCHEMA

Names = dict[str, list[tuple[int, str]]]  # model id -> (position, full name) in position order


@dataclass(frozen=True, slots=True)
class FeedEvent:
    event: RecordedEvent
    object: str | None  # full name: 'cat', 'cat.schema', 'cat.schema.model'; None for webhooks


def object_name(e: RecordedEvent, names: Names) -> str | None:
    kind, key = streams.parse(e.stream_id)
    if kind in ("catalog", "schema"):
        # Their streams are keyed by id and they can be renamed: each of their events names
        # its object as it was then (a grant or owner change as full_name).
        d = e.data
        if "full_name" in d:
            return d["full_name"]
        return f"{d['catalog_name']}.{d['name']}" if "catalog_name" in d else d.get("name", key)
    if kind != "model":
        return None
    if e.type == "ModelDeleted":
        return e.data["full_name"]
    held = names.get(key, [])
    i = bisect.bisect_right(held, e.position, key=lambda row: row[0])
    return held[i - 1][1] if i else None


def matches(fe: FeedEvent, types: frozenset[str] | None, prefix: str | None) -> bool:
    """`prefix` is a full name or a dotted prefix of one ('unity' matches 'unity.default.m')."""
    if types is not None and fe.event.type not in types:
        return False
    return within(fe.object, prefix)


async def model_names(conn: asyncpg.Connection | asyncpg.Pool, model_ids: Iterable[str],
                      until: int) -> Names:
    rows = await conn.fetch(
        f"SELECT model_id::text, position, full_name FROM {READ_MODEL_SCHEMA}.model_names "
        "WHERE model_id = ANY($1::uuid[]) AND position <= $2 ORDER BY model_id, position",
        list(model_ids), until)
    names: Names = {}
    for r in rows:
        names.setdefault(r["model_id"], []).append((r["position"], r["full_name"]))
    return names


async def resolve(conn: asyncpg.Connection | asyncpg.Pool,
                  events: Sequence[RecordedEvent]) -> list[FeedEvent]:
    ids = {str(m) for e in events if (m := streams.model_id(e.stream_id)) is not None}
    names = await model_names(conn, ids, events[-1].position) if ids else {}
    return [FeedEvent(e, object_name(e, names)) for e in events]


def feed_json(fe: FeedEvent) -> dict[str, Any]:
    e = fe.event
    return {"position": e.position, "type": e.type, "object": fe.object, "stream_id": e.stream_id,
            "data": e.data, "actor": e.actor, "recorded_at": iso_time(e.recorded_at),
            "hash": e.hash.hex()}
