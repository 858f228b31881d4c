"""Alias and stage timelines from the `alias_history` projection: index lookups, not replays.

The projection follows the log behind the writers; where a question reaches past its checkpoint
(it lags, or is being rebuilt), the answer comes from folding the model's stream instead, so it
is exact either way.
"""

import asyncio
from uuid import UUID

import asyncpg

from projections.alias_history import ALIAS, NAME
from projections.catch_up import checkpoint
from registry.domain.models import stream_id
from registry.eventstore import read_stream
from registry.reads.as_of import NAME_HOLDER, model_id_at
from registry.timeline.periods import Period, fold

_COLUMNS = ("kind, lane, version, valid_from_position, valid_from, set_by, valid_to_position, "
            "valid_to, ended_by")


async def alias_at(db: asyncpg.Pool, full_name: str, alias: str, position: int) -> Period | None:
    """The period of `alias` of the model named `full_name` that covers `position`, if any."""
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            f"WITH m AS ({NAME_HOLDER}) "
            f"SELECT (SELECT position FROM projection_checkpoints WHERE name = '{NAME}') AS caught, "
            f"       h.* FROM (SELECT 1) one LEFT JOIN LATERAL ("
            f"  SELECT {_COLUMNS} FROM alias_history WHERE model_id = (SELECT model_id FROM m) "
            f"  AND kind = '{ALIAS}' AND lane = $3 AND valid_from_position <= $2 "
            f"  ORDER BY valid_from_position DESC LIMIT 1) h ON true",
            full_name, position, alias)
        if row["caught"] is not None and row["caught"] >= position:
            if row["kind"] is None or (row["valid_to_position"] is not None
                                       and row["valid_to_position"] <= position):
                return None
            return Period(*list(row.values())[1:])
    # The projection has not reached `position`: plan the model's stream up to there instead.
    model_id = await model_id_at(db, full_name, position)
    if model_id is None:
        return None
    open_ = [p for p in await folded(db, model_id, position)
             if p.kind == ALIAS and p.lane == alias and p.valid_to_position is None]
    return open_[-1] if open_ else None


async def folded(db: asyncpg.Pool, model_id: UUID, until: int | None = None) -> list[Period]:
    """The periods of a model's stream (up to `until`) folded here, for when the projection lags:
    read a chunk at a time and planned off the event loop, since a history may be long."""
    events, after = [], 0
    while True:
        chunk = await read_stream(db, stream_id(model_id), after_version=after,
                                  until_position=until, limit=_CHUNK)
        events += chunk
        if len(chunk) < _CHUNK:
            return await asyncio.to_thread(fold, events)
        after = chunk[-1].stream_version


_CHUNK = 5000


async def lanes(db: asyncpg.Pool, model_id: UUID, *, kind: str | None = None,
                lane: str | None = None, after: int = 0, limit: int = 1000) -> list[Period]:
    """Periods of a model's aliases and stages (or one kind or lane), oldest first, keyset-paged
    on `valid_from_position`."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM alias_history WHERE model_id = $1 "
        f"AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR lane = $3) "
        f"AND valid_from_position > $4 ORDER BY valid_from_position, kind, lane, version "
        f"LIMIT $5", model_id, kind, lane, after, limit)
    return [Period(*r.values()) for r in rows]


async def caught_up_to(db: asyncpg.Pool) -> int:
    return await checkpoint(db, NAME)
