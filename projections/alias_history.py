"""Catch-up projection `alias_history`: each period in which an alias or a stage of a model pointed
at a version, who began it and who ended it.

`plan` is pure: a chunk of events in, the rows to insert and the open periods to close out. A
period opened and closed within one chunk is inserted closed; periods opened before the chunk are
closed by UPDATEs run before the inserts, in event order by kind (an alias or stage lane, then a
deleted version's stages, then a deleted model's everything), each touching only still-open rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from registry.domain import events as ev
from registry.domain import streams
from registry.domain.events import EVENT_TYPES, parse_event
from registry.eventstore import RecordedEvent

NAME = "alias_history"
ALIAS, STAGE = "alias", "stage"
NO_STAGE = "None"

Key = tuple[str, str, str, int | None]  # model id, kind, lane, version (None: any version)


@dataclass
class Period:
    model_id: str
    kind: str
    lane: str
    version: int
    from_position: int
    from_at: datetime
    set_by: str
    to_position: int | None = None
    to_at: datetime | None = None
    ended_by: str | None = None

    def end(self, r: RecordedEvent) -> None:
        self.to_position, self.to_at, self.ended_by = r.position, r.recorded_at, r.actor


@dataclass
class Plan:
    periods: list[Period]
    close_lanes: list[tuple]  # (model id, kind, lane, version or None, position, at, actor)
    close_versions: list[tuple]  # (model id, version, position, at, actor): a deleted version
    close_models: list[tuple]  # (model id, position, at, actor): a deleted model


def plan(events: Sequence[RecordedEvent]) -> Plan:
    out = Plan([], [], [], [])
    open_: dict[Key, Period] = {}  # periods opened in this chunk and still open
    closed_before: set[Key] = set()  # lanes whose period from before the chunk is closed already

    def end(key: Key, r: RecordedEvent) -> None:
        period = open_.pop(key, None)
        if period is not None:
            period.end(r)
        elif key not in closed_before:
            closed_before.add(key)
            out.close_lanes.append((*key, r.position, r.recorded_at, r.actor))

    def begin(key: Key, version: int, r: RecordedEvent) -> None:
        model_id, kind, lane, _ = key
        period = Period(model_id, kind, lane, version, r.position, r.recorded_at, r.actor)
        open_[key] = period
        out.periods.append(period)

    for r in events:
        kind, model_id = streams.parse(r.stream_id)
        if kind != streams.MODEL or r.type not in TYPES:
            continue
        e = r.event or parse_event(r.type, r.schema_version, r.data)
        match e:
            case ev.AliasSet():
                key = (model_id, ALIAS, e.alias, None)
                end(key, r)
                begin(key, e.version, r)
            case ev.AliasDeleted():
                end((model_id, ALIAS, e.alias, None), r)
            case ev.VersionStageTransitioned():
                if e.previous_stage != NO_STAGE:
                    end((model_id, STAGE, e.previous_stage, e.version), r)
                if e.stage != NO_STAGE:
                    begin((model_id, STAGE, e.stage, e.version), e.version, r)
            case ev.VersionDeleted():
                for key in [k for k in open_ if k[0] == model_id and k[1] == STAGE
                            and k[3] == e.version]:
                    open_.pop(key).end(r)
                out.close_versions.append((model_id, e.version, r.position, r.recorded_at,
                                           r.actor))
            case ev.ModelDeleted():
                for key in [k for k in open_ if k[0] == model_id]:
                    open_.pop(key).end(r)
                out.close_models.append((model_id, r.position, r.recorded_at, r.actor))
    return out


TYPES = {t.type_name() for t in (ev.AliasSet, ev.AliasDeleted, ev.VersionStageTransitioned,
                                  ev.VersionDeleted, ev.ModelDeleted)}
assert TYPES <= set(EVENT_TYPES)

_CLOSE = ("UPDATE alias_history t SET valid_to_position = u.position, valid_to = u.at, "
          "ended_by = u.actor FROM unnest({arrays}) AS u({columns}) "
          "WHERE t.valid_to_position IS NULL AND {match}")
CLOSE_LANES = _CLOSE.format(
    arrays="$1::uuid[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::timestamptz[], "
           "$7::text[]",
    columns="model_id, kind, lane, version, position, at, actor",
    match="t.model_id = u.model_id AND t.kind = u.kind AND t.lane = u.lane "
          "AND (u.version IS NULL OR t.version = u.version)")
CLOSE_VERSIONS = _CLOSE.format(
    arrays="$1::uuid[], $2::int[], $3::bigint[], $4::timestamptz[], $5::text[]",
    columns="model_id, version, position, at, actor",
    match=f"t.model_id = u.model_id AND t.kind = '{STAGE}' AND t.version = u.version")
CLOSE_MODELS = _CLOSE.format(
    arrays="$1::uuid[], $2::bigint[], $3::timestamptz[], $4::text[]",
    columns="model_id, position, at, actor", match="t.model_id = u.model_id")
INSERT = (
    "INSERT INTO alias_history (model_id, kind, lane, version, valid_from_position, valid_from, "
    "set_by, valid_to_position, valid_to, ended_by) SELECT * FROM unnest($1::uuid[], $2::text[], "
    "$3::text[], $4::int[], $5::bigint[], $6::timestamptz[], $7::text[], $8::bigint[], "
    "$9::timestamptz[], $10::text[])")


def _columns(rows: Sequence[tuple]) -> list[list]:
    return [list(c) for c in zip(*rows, strict=True)]


class AliasHistory:
    """The projection as the catch-up runner sees it (projections/catch_up.py)."""

    name = NAME
    tables = ("alias_history",)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        p = plan(events)
        for sql, rows in ((CLOSE_LANES, p.close_lanes), (CLOSE_VERSIONS, p.close_versions),
                          (CLOSE_MODELS, p.close_models)):
            if rows:
                await conn.execute(sql, *_columns(rows))
        if p.periods:
            await conn.execute(INSERT, *_columns([
                (x.model_id, x.kind, x.lane, x.version, x.from_position, x.from_at, x.set_by,
                 x.to_position, x.to_at, x.ended_by) for x in p.periods]))

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute("TRUNCATE alias_history")
