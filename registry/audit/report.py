"""The compliance report's shell: resolve the window, read the events of the models in scope and of
every catalog, schema and principal (few and small: access at the window's end needs the ACLs of
a model's parents wherever it was renamed to) in log order, page by page, into the pure
`ReportBuilder` (registry/audit/compliance.py); then the window's denied attempts from their table."""

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime

import asyncpg

from registry.audit.access import DeniedAttempt, denied_attempts
from registry.audit.compliance import Report, ReportBuilder, Window
from registry.audit.queries import Point, last_position_sql, like_escape
from registry.domain.errors import InvalidArgument
from registry.eventstore import head_position
from registry.eventstore.reads import COLUMNS, from_row

Db = asyncpg.Pool | asyncpg.Connection
Progress = Callable[[int, int], None]  # (position read up to, last position to read)
PAGE = 5000
_SLICE = 200  # events folded between two turns of the event loop
# One page: the models' events and the others' (on the partial index events_namespaces), merged.
_PAGE_SQL = f"""
SELECT * FROM (
    (SELECT {COLUMNS} FROM events WHERE position > $1 AND position <= $2
       AND stream_id LIKE 'model:%' AND ($3::text[] IS NULL OR stream_id = ANY($3))
     ORDER BY position LIMIT $4)
    UNION ALL
    (SELECT {COLUMNS} FROM events WHERE position > $1 AND position <= $2
       AND stream_id NOT LIKE 'model:%' AND (stream_id LIKE 'catalog:%'
         OR stream_id LIKE 'schema:%' OR stream_id LIKE 'principal:%')
     ORDER BY position LIMIT $4)
) x ORDER BY position LIMIT $4"""


async def window(db: Db, since: Point | None, until: Point | None, prefix: str | None,
                 now: datetime) -> Window:
    """Positions and axis times of the window; an open end is the log's start or now."""
    head = await head_position(db)
    if since is None:
        since_position = 1
    elif isinstance(since, int):
        since_position = max(since, 1)
    else:
        since_position = await db.fetchval(f"SELECT {last_position_sql('<', '$1')}", since) + 1
    if until is None:
        until_position = head
    elif isinstance(until, int):
        until_position = min(until, head)
    else:
        until_position = await db.fetchval(f"SELECT {last_position_sql('<=', '$1')}", until)

    async def time_of(position: int) -> datetime:
        return await db.fetchval("SELECT recorded_at FROM events WHERE position = $1",
                                 position) or now

    since_time = since if isinstance(since, datetime) else await time_of(since_position)
    if isinstance(until, datetime):
        until_time = until
    else:
        until_time = now if until is None else await time_of(until_position)
    if until_time < since_time:
        raise InvalidArgument(f"the window ends ({until_time.isoformat()}) before it starts "
                              f"({since_time.isoformat()})")
    return Window(since_time, until_time, since_position, until_position, prefix)


async def build(db: Db, w: Window, progress: Progress | None = None) -> Report:
    builder = ReportBuilder(w)
    streams = None
    if w.object is not None:  # the models that ever bore a name under the prefix
        streams = [r[0] for r in await db.fetch(
            "SELECT DISTINCT 'model:' || model_id FROM model_names "
            "WHERE full_name = $1 OR full_name LIKE $2", w.object, like_escape(w.object) + ".%")]
    after = 0
    while True:
        rows = await db.fetch(_PAGE_SQL, after, w.until_position, streams, PAGE)
        for i, r in enumerate(rows, 1):
            builder.add(from_row(r))
            if i % _SLICE == 0:
                await asyncio.sleep(0)  # a long history must not hold the event loop
        if progress is not None:
            progress(rows[-1]["position"] if len(rows) == PAGE else w.until_position,
                     w.until_position)
        if len(rows) < PAGE:
            break
        after = rows[-1]["position"]
    last_hash = await db.fetchval("SELECT hash FROM events WHERE position = $1", w.until_position)
    report = await asyncio.to_thread(builder.report, None if last_hash is None else last_hash.hex())
    return dataclasses.replace(report, denied_attempts=await denied(db, w))


async def denied(db: Db, w: Window) -> tuple[DeniedAttempt, ...]:
    """Refusals in the window's time span (they have no log position), in its scope."""
    rows = await db.fetch("SELECT * FROM denied_attempts WHERE at >= $1 AND at <= $2 ORDER BY id",
                          w.since, w.until)
    return denied_attempts(rows, w.object)
