"""Recorded events as the domain sees them: upcast domain events with their stamps."""


from registry.domain import Event, Stamp, parse_event
from registry.eventstore.records import RecordedEvent


def domain_event(e: RecordedEvent) -> Event:
    """The recorded event as a domain event (upcast to the current shape), parsed once."""
    return e.event if e.event is not None else parse_event(e.type, e.schema_version, e.data)


def stamp(e: RecordedEvent) -> Stamp:
    return Stamp(at=e.recorded_at, actor=e.actor)
