"""Time travel: a model as it was at a log position or instant, by replaying its one stream."""

from datetime import UTC, datetime

import asyncpg

from .domain.errors import InvalidArgument
from .domain.models import Model
from .eventstore import head_position, position_at, read_stream
from .service import fold_model


async def resolve(db: asyncpg.Pool, as_of: str) -> int:
    """`as_of` is a log position (an integer) or an ISO-8601 instant; returns a position."""
    text = as_of.strip()
    if text.isascii() and text.isdigit():  # isdigit alone also takes '²', which int() refuses
        head = await head_position(db)
        digits = text.lstrip("0") or "0"
        # Past the head is the head; a huge number is never parsed (int() caps its digits).
        return head if len(digits) > 18 else min(int(digits), head)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"as_of must be a log position or an ISO-8601 time, not {as_of!r}", field="as_of"
        ) from None
    if at.tzinfo is None:
        raise InvalidArgument("as_of time needs a UTC offset, e.g. 2026-03-01T12:00:00Z",
                              field="as_of")
    try:
        at = at.astimezone(UTC)  # e.g. 0001-01-01T00:00+01:00 is before the first datetime
    except OverflowError:
        raise InvalidArgument(f"as_of time {as_of!r} is out of range", field="as_of") from None
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
