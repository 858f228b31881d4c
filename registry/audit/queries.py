"""Audit queries: the log's events filtered by actor, object, type and range, keyset-paged on
position, one SQL query per page.

An event's object is the name it bore at that event: a model's from `model_names` (the name it
held from the last position at or before the event, looked up per row with a LATERAL index
probe), a catalog's or a schema's from the event itself (each of their events names its object
as it was then: their streams are keyed by id, and they can be renamed). `object` matches
whole dotted segments: `prod` (or `prod.`) matches the catalog `prod` and everything in it,
`prod.fraud` the schema and its models, `prod.fraud.scorer` that model; `prod.fra` matches
nothing of those.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from registry.domain import names
from registry.domain.errors import InvalidArgument

Db = asyncpg.Pool | asyncpg.Connection
Point = int | datetime  # a log position or an instant, both inclusive as bounds


@dataclass(frozen=True)
class Filter:
    actor: str | None = None
    object: str | None = None  # a dotted-segment prefix, without a trailing dot
    types: tuple[str, ...] = ()
    since: Point | None = None
    until: Point | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    position: int
    type: str
    schema_version: int
    object: str | None
    stream_id: str
    stream_version: int
    data: dict[str, Any]
    actor: str | None
    command: str | None
    request_id: str | None
    recorded_at: datetime
    hash: bytes


def object_prefix(text: str) -> str:
    """A user's object filter as a dotted-segment prefix (a trailing dot after a catalog or a
    schema dropped; a model's own name may end in one)."""
    prefix = text.strip()
    if prefix.endswith(".") and len(names.levels(prefix[:-1])) < 3:
        prefix = prefix[:-1]
    if not prefix or "" in names.levels(prefix):
        raise InvalidArgument(f"object must be a full name or a dotted prefix such as prod or "
                              f"prod.fraud, without empty segments, not {text!r}", field="object")
    return prefix


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The object's name at the event. The CASE keeps the uuid cast away from catalog and schema ids.
_SELECT = """
SELECT e.position, e.type, e.schema_version,
       coalesce(n.full_name, CASE WHEN e.stream_id LIKE 'catalog:%' OR e.stream_id LIKE 'schema:%'
           THEN coalesce(e.data->>'full_name', (e.data->>'catalog_name') || '.' || (e.data->>'name'),
                         e.data->>'name') END,
                substr(e.stream_id, strpos(e.stream_id, ':') + 1)) AS object,
       e.stream_id, e.stream_version, e.data, e.metadata->>'actor' AS actor,
       e.metadata->>'command' AS command, e.metadata->>'request_id' AS request_id,
       e.recorded_at, e.hash
FROM events e
LEFT JOIN LATERAL (
    SELECT n.full_name FROM model_names n
    WHERE n.model_id = CASE WHEN e.stream_id LIKE 'model:%' THEN substr(e.stream_id, 7)::uuid END
      AND n.position <= e.position
    ORDER BY n.position DESC LIMIT 1
) n ON true
"""


def last_position_sql(op: str, at: str) -> str:
    """SQL for the last position whose recorded_at is `op` (`<=` or `<`) the parameter `at`, 0 if
    none (a binary search over the primary key: migrations/0009_position_at.sql). Times have
    microsecond resolution, so `< t` is `<= t - 1 microsecond`."""
    assert op in ("<=", "<")
    return (f"modelog_position_at({at}::timestamptz)" if op == "<=" else
            f"modelog_position_at({at}::timestamptz - interval '1 microsecond')")


# Up to this many model streams under an object are read stream by stream (an index lookup, then
# a sort); more are found by walking the log in position order, which a page's LIMIT cuts short.
NARROW = 64


def _object_sql(prefix: str, name: str, below: str, select: str, limit: str) -> str:
    """One page of the events of the streams an object prefix reaches: the model streams that
    ever bore a name under it (from the small `model_names`), the catalog or schema it names,
    and for a catalog prefix its schemas; then the object's name at each event decides.

    How they are read is decided in the query itself: a narrow prefix by stream, a broad one by
    walking the log in order. Each way is a UNION ALL branch with its own ORDER BY and LIMIT,
    so the walk stops at a page; the other branch's one-time filter is false and never runs."""
    models = (f"SELECT 'model:' || m.model_id FROM model_names m "
              f"WHERE m.full_name = {name} OR m.full_name LIKE {below}")

    def branch(streams: str) -> str:
        return (f"(SELECT * FROM ({select} AND {streams}) x "
                f"WHERE object = {name} OR object LIKE {below} ORDER BY position LIMIT {limit})")

    depth = len(names.levels(prefix))
    if depth == 1:  # a whole catalog: broad, walked; the object names at each event decide
        return branch(f"(e.stream_id IN ({models}) OR e.stream_id LIKE 'catalog:%' "
                      f"OR e.stream_id LIKE 'schema:%')")
    # The streams of the schemas that ever bore the name: each name a schema takes is in its
    # SchemaCreated or SchemaRenamed (its catalog's renames too), among the few namespace events.
    own = (f"(SELECT e.stream_id FROM events e WHERE e.stream_id NOT LIKE 'model:%' "
           f"AND e.stream_id LIKE 'schema:%' AND e.type IN ('SchemaCreated', 'SchemaRenamed') "
           f"AND (e.data->>'catalog_name') || '.' || (e.data->>'name') = {name})"
           ) if depth == 2 else "(SELECT NULL)"
    few = f"(SELECT count(*) FROM ({models}) c) <= {NARROW}"
    return (f"SELECT * FROM ({branch(f'{few} AND e.stream_id = ANY(ARRAY({models} UNION ALL {own[1:-1]}))')}"
            f" UNION ALL {branch(f'NOT {few} AND (e.stream_id IN ({models}) OR e.stream_id IN {own})')}"
            f") y ORDER BY position LIMIT {limit}")


def page_query(f: Filter, after: int, limit: int) -> tuple[str, list[Any]]:
    """The SQL and arguments of one page: events after position `after` matching `f`."""
    args: list[Any] = [after]
    where = ["e.position > $1"]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # Times become position bounds, computed once per page, so a page is a range of the
    # primary key.
    if isinstance(f.since, int):
        where.append(f"e.position >= {arg(f.since)}")
    elif f.since is not None:
        where.append(f"e.position > {last_position_sql('<', arg(f.since))}")
    if isinstance(f.until, int):
        where.append(f"e.position <= {arg(f.until)}")
    elif f.until is not None:
        where.append(f"e.position <= {last_position_sql('<=', arg(f.until))}")
    if f.actor is not None:
        where.append(f"e.metadata->>'actor' = {arg(f.actor)}")
    if f.types:
        where.append(f"e.type = ANY({arg(list(f.types))}::text[])")
    select = f"{_SELECT} WHERE {' AND '.join(where)}"
    if f.object is None:
        return f"{select} ORDER BY e.position LIMIT {arg(limit)}", args
    # A full model name has nothing below it, though its own name may hold dots.
    below_pattern = None if len(names.levels(f.object)) == 3 else like_escape(f.object) + ".%"
    name, below = arg(f.object), arg(below_pattern)
    return _object_sql(f.object, name, below, select, arg(limit)), args


async def fetch_page(db: Db, f: Filter, after: int, limit: int) -> list[AuditEvent]:
    sql, args = page_query(f, after, limit)
    return [AuditEvent(*r) for r in await db.fetch(sql, *args)]
