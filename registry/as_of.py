"""Time travel: a model as it was at a log position or instant, by replaying its one stream."""

from datetime import UTC, datetime

import asyncpg

from .domain.errors import InvalidArgument
from .domain.models import Model
from .eventstore import head_position, position_at, read_stream
from .service import fold_model

MAX_POSITION = 2**63 - 1  # PostgreSQL bigint, the type of positions


def parse_point(text: str, field: str = "as_of") -> int | datetime:
    """A point in the log as given in `field`: a position (ASCII digits) or an ISO-8601 instant
    with a UTC offset (returned in UTC)."""
    text = text.strip()
    if text.isascii() and text.isdigit():  # isdigit alone also takes '²', which int() refuses
        digits = text.lstrip("0") or "0"
        # A huge number is never parsed (int() caps its digits): it is past any log's head.
        return MAX_POSITION if len(digits) > 18 else int(digits)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"{field} must be a log position or an ISO-8601 time, not {text!r}", field=field
        ) from None
    if at.tzinfo is None:
        raise InvalidArgument(f"{field} time needs a UTC offset, e.g. 2026-03-01T12:00:00Z",
                              field=field)
    try:
        return at.astimezone(UTC)  # e.g. 0001-01-01T00:00+01:00 is before the first datetime
    except OverflowError:
        raise InvalidArgument(f"{field} time {text!r} is out of range", field=field) from None


async def resolve(db: asyncpg.Pool, as_of: str) -> int:
    """`as_of` is a log position (an integer) or an ISO-8601 instant; returns a position."""
    point = parse_point(as_of)
    if isinstance(point, int):
        return min(point, await head_position(db))  # past the head is the head
    return await position_at(db, point)


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
