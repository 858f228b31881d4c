"""The pure domain: commands, events, states, and decide/evolve. No I/O lives here."""

from registry.domain.decider import decide, stream_of
from registry.domain.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from registry.domain.events import Event, Stamp, parse_event
from registry.domain.state import RegistryState

__all__ = [
    "AlreadyExists", "Conflict", "DomainError", "Event", "FailedPrecondition", "InvalidArgument",
    "NotFound", "RegistryState", "Stamp", "decide", "parse_event", "stream_of",
]
