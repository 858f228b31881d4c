"""What the log holds: events about to be appended, events as recorded, and their hash chain."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS_HASH = bytes(32)

@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: its type, payload and the schema version of that payload."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1


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

    @property
    def actor(self) -> str:
        return str(self.metadata.get("actor", "unknown"))


def canonical(event: RecordedEvent) -> bytes:
    """The bytes a hash covers: every field but the hashes, in one stable JSON form."""
    return json.dumps(
        {
            "position": event.position,
            "stream_id": event.stream_id,
            "stream_version": event.stream_version,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": event.data,
            "metadata": event.metadata,
            "recorded_at": event.recorded_at.isoformat(timespec="microseconds"),
        },
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()


def chain_hash(prev_hash: bytes, event: RecordedEvent) -> bytes:
    return hashlib.sha256(prev_hash + canonical(event)).digest()
