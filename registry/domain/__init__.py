"""The pure domain: commands, events, states, and decide/evolve. No I/O lives here."""

from .decider import decide, stream_of
from .errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from .events import Event, Stamp, parse_event
from .state import RegistryState

__all__ = [
    "AlreadyExists", "Conflict", "DomainError", "Event", "FailedPrecondition", "InvalidArgument",
    "NotFound", "RegistryState", "Stamp", "decide", "parse_event", "stream_of",
]
