"""Alias and stage timelines from the `alias_history` projection: index lookups, not replays.

The projection follows the log behind the writers; where a question reaches past its checkpoint
(it lags, or is being rebuilt), the answer comes from folding the model's stream instead, so it
is exact either way.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from projections import alias_history
from projections.alias_history import ALIAS, NAME, plan
from projections.catch_up import checkpoint

from .as_of import model_at
from .eventstore import read_stream


@dataclass(frozen=True)
class Period:
    kind: str
    lane: str
    version: int
    valid_from_position: int
    valid_from: datetime
    set_by: str
    valid_to_position: int | None
    valid_to: datetime | None
    ended_by: str | None


def from_plan(p: alias_history.Period) -> Period:
    return Period(p.kind, p.lane, p.version, p.from_position, p.from_at, p.set_by, p.to_position,
                  p.to_at, p.ended_by)


_COLUMNS = ("kind, lane, version, valid_from_position, valid_from, set_by, valid_to_position, "
            "valid_to, ended_by")


async def model_id_at(db: asyncpg.Pool, full_name: str, position: int) -> UUID | None:
    """The model that bore `full_name` at `position` (deleted or not)."""
    return await db.fetchval(
        "SELECT model_id FROM model_names WHERE full_name = $1 AND position <= $2 "
        "ORDER BY position DESC LIMIT 1", full_name, position)


async def alias_at(db: asyncpg.Pool, full_name: str, alias: str, position: int) -> Period | None:
    """The period of `alias` of the model named `full_name` that covers `position`, if any."""
    async with db.acquire() as conn:
        row = await conn.fetchrow(
            f"WITH m AS (SELECT model_id FROM model_names WHERE full_name = $1 AND position <= $3 "
            f"           ORDER BY position DESC LIMIT 1) "
            f"SELECT (SELECT position FROM projection_checkpoints WHERE name = '{NAME}') AS caught, "
            f"       h.* FROM (SELECT 1) one LEFT JOIN LATERAL ("
            f"  SELECT {_COLUMNS} FROM alias_history WHERE model_id = (SELECT model_id FROM m) "
            f"  AND kind = '{ALIAS}' AND lane = $2 AND valid_from_position <= $3 "
            f"  ORDER BY valid_from_position DESC LIMIT 1) h ON true",
            full_name, alias, position)
        if row["caught"] is not None and row["caught"] >= position:
            if row["kind"] is None or (row["valid_to_position"] is not None
                                       and row["valid_to_position"] <= position):
                return None
            return Period(*list(row.values())[1:])
    # The projection has not reached `position`: fold the model's stream up to there.
    model = await model_at(db, full_name, position)
    if model is None or alias not in model.aliases:
        return None
    return await _period_from_fold(db, model.id, alias, position)


async def _period_from_fold(db: asyncpg.Pool, model_id: UUID, alias: str,
                            position: int) -> Period | None:
    events = await read_stream(db, f"model:{model_id}", until_position=position)
    periods = [p for p in plan(events).periods
               if p.kind == ALIAS and p.lane == alias and p.to_position is None]
    if not periods:
        return None
    return from_plan(periods[-1])


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
