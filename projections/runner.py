"""Applies inline projections to a batch of events in the append's transaction.

Each projection turns an event into statements, and each statement writes exactly one table and
reads no other read-model table. So only the order of statements on the same table matters, and a
batch's statements can be grouped: a statement joins the latest group on its table when that group
has the same SQL, and each group runs as one pipelined `executemany`. A batch of 100 version
registrations costs a handful of round trips, not hundreds.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from registry.domain.events import EVENT_TYPES, Event, parse_event
from registry.eventstore import RecordedEvent


@dataclass(frozen=True, slots=True)
class Statement:
    table: str
    sql: str
    args: tuple[Any, ...]


Handler = Callable[[RecordedEvent, Any], Iterable[Statement]]


@dataclass
class Projection:
    """A read model: the tables it owns and, per event type, the statements an event becomes."""

    name: str
    tables: tuple[str, ...]
    handlers: dict[str, Handler] = field(default_factory=dict)
    fallback: Handler | None = None  # for event types without a handler of their own

    def on(self, *event_types: type[Event]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            for t in event_types:
                self.handlers[t.type_name()] = fn
            return fn

        return register

    def statements(self, event: RecordedEvent, parsed: Event) -> Iterable[Statement]:
        handler = self.handlers.get(event.type, self.fallback)
        return handler(event, parsed) if handler is not None else ()


@dataclass
class _Group:
    sql: str
    rows: list[tuple[Any, ...]]


class Projector:
    def __init__(self, projections: Sequence[Projection]) -> None:
        self.projections = list(projections)

    def plan(self, events: Sequence[RecordedEvent]) -> list[_Group]:
        groups: list[_Group] = []
        last_on_table: dict[str, _Group] = {}
        for event in events:
            # Types no projection knows (the store is generic) pass through unparsed.
            parsed = (parse_event(event.type, event.schema_version, event.data)
                      if event.type in EVENT_TYPES else None)
            for projection in self.projections:
                for st in projection.statements(event, parsed):
                    group = last_on_table.get(st.table)
                    if group is None or group.sql != st.sql:
                        group = _Group(st.sql, [])
                        groups.append(group)
                        last_on_table[st.table] = group
                    group.rows.append(st.args)
        return groups

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        for group in self.plan(events):
            if len(group.rows) == 1:
                await conn.execute(group.sql, *group.rows[0])
            else:
                await conn.executemany(group.sql, group.rows)


def model_id(event: RecordedEvent) -> UUID:
    return UUID(event.stream_id.partition(":")[2])
