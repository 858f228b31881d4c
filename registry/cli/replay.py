"""`modelog replay --as-of T`: the registry (or one model) as it was, folded from the log, with
who held which privileges on each object then."""

from collections.abc import Callable
from typing import Any

import asyncpg

from registry.domain.catalogs import stream_id as catalog_stream
from registry.domain.models import stream_id
from registry.domain.privileges import Acl, Securable, SecurableType
from registry.domain.schemas import stream_id as schema_stream
from registry.domain.state import RegistryState
from registry.eventstore import read_all
from registry.eventstore.domain_events import domain_event, stamp
from registry.http.native.shapes import catalog_json, model_json, schema_json, version_json
from registry.http.permissions import permissions_list
from registry.reads import as_of

CHUNK = 10_000
Progress = Callable[[int, int], None]  # (position reached, position replayed to)


async def registry_at(db: asyncpg.Pool, position: int,
                      progress: Progress | None = None) -> RegistryState:
    """Every catalog, schema and model at `position`: a fold of the whole log up to there."""
    state, reached = RegistryState(), 0
    while reached < position:
        events = await read_all(db, after_position=reached, until_position=position, limit=CHUNK)
        if not events:
            break
        for e in events:
            state.apply(e.stream_id, domain_event(e), stamp(e))
        reached = events[-1].position
        if progress is not None:
            progress(reached, position)
    return state


def model_document(model: Any, acl: Acl | None) -> dict[str, Any]:
    return {**model_json(model), **_grants(acl),
            "versions": [version_json(model, mv) for _, mv in sorted(model.versions.items())]}


def _grants(acl: Acl | None) -> dict[str, Any]:
    """Who held what on the object then (its owner is in its own document)."""
    return permissions_list([acl] if acl is not None else [Acl("")], None)


def registry_document(state: RegistryState) -> dict[str, Any]:
    live = sorted((m for m in state.models.values() if not m.deleted), key=lambda m: m.full_name)
    return {
        "catalogs": [{**catalog_json(c), **_grants(state.acls.get(catalog_stream(n)))}
                     for n, c in sorted(state.catalogs.items())],
        "schemas": [{**schema_json(s), **_grants(state.acls.get(schema_stream(*key)))}
                    for key, s in sorted(state.schemas.items())],
        "models": [model_document(m, state.acls.get(stream_id(m.id))) for m in live],
    }


async def replay(db: asyncpg.Pool, when: str, model: str | None = None,
                 progress: Progress | None = None) -> dict[str, Any] | None:
    """The document `modelog replay` prints; None if `model` did not exist at `when`."""
    position = await as_of.resolve(db, when)
    recorded_at = await db.fetchval("SELECT recorded_at FROM events WHERE position = $1", position)
    header = {"as_of": {"position": position,
                        "recorded_at": None if recorded_at is None else recorded_at.isoformat()}}
    if model is not None:
        found = await as_of.model_at(db, model, position)
        if found is None:
            return None
        chain, _ = await as_of.chain_at(
            db, Securable(SecurableType.REGISTERED_MODEL, model), position)
        return {**header, "model": model_document(found, chain[-1] if chain else None)}
    return {**header, **registry_document(await registry_at(db, position, progress))}
