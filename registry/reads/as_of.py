"""Time travel: the registry as it was at a log position or instant.

Nothing here replays the whole log, nor a model's whole history. A model is its latest snapshot
up to the position and the events after it (found by name through `model_names`); a version is its
own events up to there; catalogs and schemas are the few namespace events (a partial index finds
them among the model events); a list of models is the names held at the position, then the
candidates restored in two queries per page.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from registry.domain.errors import InvalidArgument
from registry.domain.models import Model, ModelVersion, stream_id
from registry.domain.privileges import Chain, Securable, SecurableType
from registry.domain.state import RegistryState
from registry.eventstore import head_position, model_folds, position_at
from registry.eventstore.domain_events import domain_event, stamp
from registry.eventstore.reads import COLUMNS, from_row
from registry.reads.queries import like_pattern

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


# The model that bore name $1 at position $2: the last to take the name by then, unless it was
# renamed away again by then (its own later row in model_names). Deleted models are not told
# apart here: their folds and projections say so.
NAME_HOLDER = (
    "SELECT n.model_id FROM model_names n WHERE n.full_name = $1 AND n.position <= $2 "
    "AND NOT EXISTS (SELECT 1 FROM model_names r WHERE r.model_id = n.model_id "
    "                AND r.position > n.position AND r.position <= $2) "
    "ORDER BY n.position DESC LIMIT 1")


async def model_id_at(db: asyncpg.Pool, full_name: str, position: int) -> UUID | None:
    return await db.fetchval(NAME_HOLDER, full_name, position)


async def model_at(db: asyncpg.Pool, full_name: str, position: int) -> Model | None:
    """The model that bore `full_name` at `position`, restored up to there (its versions are
    read with `version_at` and `versions_at`)."""
    model_id = await model_id_at(db, full_name, position)
    if model_id is None:
        return None
    model = (await model_folds.restore(db, stream_id(model_id), position)).model
    if model is None or model.deleted or model.full_name != full_name:
        return None
    return model


async def version_at(db: asyncpg.Pool, model: Model, number: int, position: int
                     ) -> ModelVersion | None:
    """Version `number` of `model` (as `model_at` returned it at `position`) as it was then."""
    if model.holds(number):
        return model.versions.get(number)
    return (await model_folds.versions(db, stream_id(model.id), [number], position))[number]


async def versions_at(db: asyncpg.Pool, model: Model, position: int, after: int | None,
                      limit: int) -> list[ModelVersion]:
    """Up to `limit` live versions of `model` (as `model_at` returned it at `position`) as they
    were then, by number after `after`. Numbers are given in order, so the candidates are those
    below the model's next number then, read a window at a time."""
    found: list[ModelVersion] = []
    start, window = (after or 0) + 1, limit
    while len(found) < limit and start < model.next_version:
        numbers = range(start, min(start + window, model.next_version))
        unheld = [n for n in numbers if not model.holds(n)]
        loaded = await model_folds.versions(db, stream_id(model.id), unheld, position) \
            if unheld else {}
        for n in numbers:
            mv = model.versions.get(n) or loaded.get(n)
            if mv is not None:
                found.append(mv)
        start, window = numbers.stop, min(window * 2, 4096)  # deleted ones: widen the window
    return found[:limit]


async def namespaces_at(db: asyncpg.Pool, position: int) -> RegistryState:
    """Catalogs and schemas as they were at `position` (in `.catalogs` and `.schemas`)."""
    rows = await db.fetch(f"SELECT {COLUMNS} FROM events WHERE stream_id NOT LIKE 'model:%' "
                          "AND position <= $1 ORDER BY position", position)
    state = RegistryState()
    for e in map(from_row, rows):
        state.apply(e.stream_id, domain_event(e), stamp(e))
    return state


async def models_at(db: asyncpg.Pool, position: int, *, catalog: str | None = None,
                    schema: str | None = None, name_pattern: str | None = None,
                    ignore_case: bool = False, keep: Callable[[Model], bool] = lambda _: True,
                    after: str | None = None, limit: int = 100) -> list[Model]:
    """Up to `limit` models that existed at `position` (and that `keep` keeps), by full name
    after `after`."""
    found: list[Model] = []
    while len(found) < limit:
        # The name each model bore at `position`, walked in name order from `after` along the
        # table's key (a model's later name by then rules an earlier row out); models deleted by
        # then drop out when restored. No scan of every model's names.
        names = await db.fetch(
            "SELECT n.model_id, n.full_name FROM model_names n "
            "WHERE n.full_name > $5 AND n.position <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM model_names r WHERE r.model_id = n.model_id "
            "                AND r.position > n.position AND r.position <= $1) "
            "AND ($2::text IS NULL OR split_part(n.full_name, '.', 1) = $2) "
            "AND ($3::text IS NULL OR split_part(n.full_name, '.', 2) = $3) "
            f"AND ($4::text IS NULL OR split_part(n.full_name, '.', 3) "
            f"{'ILIKE' if ignore_case else 'LIKE'} $4) "
            "ORDER BY n.full_name, n.position DESC LIMIT $6",
            position, catalog, schema, None if name_pattern is None else like_pattern(name_pattern),
            after or "", limit)
        if not names:
            break
        restored = await model_folds.restore_many(
            db, [stream_id(r["model_id"]) for r in names], position)
        for r in names:
            model = restored[stream_id(r["model_id"])].model
            if model is not None and not model.deleted and model.full_name == r["full_name"] \
                    and keep(model):
                found.append(model)
        after = names[-1]["full_name"]
        if len(names) < limit:
            break
    return found[:limit]


async def chain_at(db: asyncpg.Pool, securable: Securable, position: int
                   ) -> tuple[Chain | None, UUID | None]:
    """The ACLs from the catalog down to `securable` as they were at `position` (None if any did
    not exist then), and for a model the id of the one that bore the name then."""
    state = await namespaces_at(db, position)
    model_id = None
    if securable.type is SecurableType.REGISTERED_MODEL:
        model_id = await model_id_at(db, securable.full_name, position)
        if model_id is None:
            return None, None
        stream = stream_id(model_id)
        restored = await model_folds.restore(db, stream, position)
        if restored.model is None or restored.acl is None:
            return None, model_id
        state.models[model_id] = restored.model
        state.model_ids[restored.model.full_name] = model_id
        state.acls[stream] = restored.acl
    return state.chain(securable), model_id
