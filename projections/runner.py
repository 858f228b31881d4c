"""Inline projections: events become rows for set-based statements, grouped per batch.

Each projection turns an event into rows for `insert`, `update` or `delete` statements
(registry/eventstore/statements.py). Every statement writes exactly one table and reads no other
read-model table, so only the order of statements on the same table matters: a batch's rows are
grouped per table and SQL, and groups on distinct tables run together as one statement. The
writer runs them in the statement that appends the events themselves.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from registry.domain import streams
from registry.domain.events import EVENT_TYPES, Event, parse_event
from registry.eventstore import RecordedEvent
from registry.eventstore.statements import Group, Planner, Sql, Statement, delete, execute, insert, update

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


class Projector:
    def __init__(self, projections: Sequence[Projection]) -> None:
        self.projections = list(projections)
        self._handlers: dict[str, list[Handler]] = {}

    def handlers(self, event_type: str) -> list[Handler]:
        """The handlers an event type reaches, in projection order (computed once per type)."""
        found = self._handlers.get(event_type)
        if found is None:
            found = [h for p in self.projections
                     if (h := p.handlers.get(event_type, p.fallback)) is not None]
            self._handlers[event_type] = found
        return found

    def statements(self, events: Sequence[RecordedEvent]) -> Iterator[Statement]:
        """What the events become, in order."""
        for event in events:
            # Types no projection knows (the store is generic) pass through unparsed.
            parsed = event.event
            if parsed is None and event.type in EVENT_TYPES:
                parsed = parse_event(event.type, event.schema_version, event.data)
            for handler in self.handlers(event.type):
                yield from handler(event, parsed)

    def plan(self, events: Sequence[RecordedEvent]) -> list[Group]:
        planner = Planner()
        for st in self.statements(events):
            planner.add(st)
        return planner.groups

    async def apply(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        await execute(conn, self.plan(events))


def model_id(event: RecordedEvent) -> str:
    """The model's id from its stream id (asyncpg takes the text form for a uuid column)."""
    return streams.parse(event.stream_id).key


__all__ = ["Group", "Projection", "Projector", "Sql", "Statement", "delete", "insert", "model_id",
           "update"]
