"""Stream ids, `<kind>:<key>`: one stream per catalog, schema, model, principal, token and webhook.
Each aggregate's module builds its own (`models.stream_id(model_id)`, ...); this is where they
are taken apart again."""

from typing import NamedTuple
from uuid import UUID

MODEL = "model"


class StreamId(NamedTuple):
    kind: str  # catalog, schema, model, principal, token, webhook
    key: str  # a name, a catalog.schema name, or an id


def parse(stream_id: str) -> StreamId:
    kind, _, key = stream_id.partition(":")
    return StreamId(kind, key)


def model_id(stream_id: str) -> UUID | None:
    """The model a stream is of; None for any other kind of stream."""
    kind, key = parse(stream_id)
    return UUID(key) if kind == MODEL else None


def is_model(stream_id: str) -> bool:
    return stream_id.startswith(f"{MODEL}:")
