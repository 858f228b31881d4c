"""A period in which an alias or a stage of a model pointed at a version: as the `alias_history`
projection stores it, and as a fold of a model's events gives it (the projection's own `plan`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from projections import alias_history
from registry.eventstore import RecordedEvent


@dataclass(frozen=True)
class Period:
    kind: str  # alias or stage
    lane: str  # the alias's name, or the stage
    version: int
    valid_from_position: int
    valid_from: datetime
    set_by: str
    valid_to_position: int | None  # None: still so
    valid_to: datetime | None
    ended_by: str | None


def from_plan(p: alias_history.Period) -> Period:
    return Period(p.kind, p.lane, p.version, p.from_position, p.from_at, p.set_by, p.to_position,
                  p.to_at, p.ended_by)


def fold(events: Sequence[RecordedEvent]) -> list[Period]:
    """The periods of a model's events (from its stream's start), oldest first."""
    return [from_plan(p) for p in alias_history.plan(events).periods]
