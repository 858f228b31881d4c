"""What the log holds: events about to be appended, events as recorded, and their hash chain."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

GENESIS_HASH = bytes(32)

@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: its type, payload and the schema version of that payload."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1
    event: Any = None  # the domain event `data` was dumped from, if any: spares a re-parse


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    prev_hash: bytes = field(repr=False)
    hash: bytes = field(repr=False)
    event: Any = field(default=None, repr=False, compare=False)  # parsed payload, if known

    @property
    def actor(self) -> str:
        return str(self.metadata.get("actor", "unknown"))


def iso_time(t: datetime) -> str:
    """Times as the log writes them: ISO-8601 with microseconds. A time read anywhere (e.g. an
    event's recorded_at) and passed back as `as_of` must cover that event, which a truncated time
    would miss."""
    return t.isoformat(timespec="microseconds")


def canonical(event: RecordedEvent) -> bytes:
    """The bytes a hash covers: every field but the hashes, in one stable JSON form (sorted keys,
    no spaces, UTF-8). Verification must serialize exactly so: keep it orjson."""
    return orjson.dumps(
        {
            "position": event.position,
            "stream_id": event.stream_id,
            "stream_version": event.stream_version,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": event.data,
            "metadata": event.metadata,
            "recorded_at": iso_time(event.recorded_at),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def chain_hash(prev_hash: bytes, event: RecordedEvent) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event)).digest()


def sealed(event: RecordedEvent) -> RecordedEvent:
    """`event` with its hash filled in, chained to its `prev_hash`."""
    # Set in place on the freshly built, not yet shared record: a copy per event costs more.
    object.__setattr__(event, "hash", chain_hash(event.prev_hash, event))
    return event
