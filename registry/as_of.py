"""Time travel: a model as it was at a log position or instant, by replaying its one stream."""

from datetime import datetime

import asyncpg

from .domain.errors import InvalidArgument
from .domain.models import Model
from .eventstore import head_position, position_at, read_stream
from .service import fold_model


async def resolve(db: asyncpg.Pool, as_of: str) -> int:
    """`as_of` is a log position (an integer) or an ISO-8601 instant; returns a position."""
    text = as_of.strip()
    if text.isdigit():
        return min(int(text), await head_position(db))
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"as_of must be a log position or an ISO-8601 time, not {as_of!r}", field="as_of"
        ) from None
    if at.tzinfo is None:
        raise InvalidArgument("as_of time needs a UTC offset, e.g. 2026-03-01T12:00:00Z",
                              field="as_of")
    return await position_at(db, at)


async def model_at(db: asyncpg.Pool, full_name: str, position: int) -> Model | None:
    """The model that bore `full_name` at `position`, folded from its events up to there."""
    model_id = await db.fetchval(
        "SELECT model_id FROM model_names WHERE full_name = $1 AND position <= $2 "
        "ORDER BY position DESC LIMIT 1", full_name, position)
    if model_id is None:
        return None
    model = fold_model(await read_stream(db, f"model:{model_id}", until_position=position))
    if model is None or model.deleted or model.full_name != full_name:
        return None
    return model
