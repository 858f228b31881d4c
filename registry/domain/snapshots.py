"""A model's snapshot: its state without its versions, and its ACL, as JSON.

A snapshot is a cache of the fold of the model's stream up to one of its events, never the truth:
the fold from the snapshot on equals the fold from the first event (tests prove it), so a model of
any history is restored from one small row and at most `EVERY` events. Versions are not kept in it
(a model may have 100k); whoever needs one folds that version's own events (`models.needs`).
"""

from datetime import datetime
from types import MappingProxyType
from typing import Any
from uuid import UUID

from registry.domain.models import Model
from registry.domain.privileges import Acl, Privilege

SCHEMA_VERSION = 1  # of the JSON below; a snapshot of another shape is ignored and re-made
EVERY = 100  # events of a model's stream between two snapshots


def due(before: int, after: int) -> bool:
    """Whether a stream that went from version `before` to `after` passed a snapshot point."""
    return after // EVERY > before // EVERY


def encode(model: Model, acl: Acl | None) -> dict[str, Any]:
    return {
        "id": str(model.id), "catalog_name": model.catalog_name,
        "schema_name": model.schema_name, "name": model.name, "description": model.description,
        "owner": model.owner, "created_at": model.created_at.isoformat(),
        "created_by": model.created_by, "updated_at": model.updated_at.isoformat(),
        "updated_by": model.updated_by, "tags": dict(model.tags), "aliases": dict(model.aliases),
        "next_version": model.next_version, "deleted": model.deleted,
        "live_versions": model.live_versions,
        "staged": {stage: sorted(members) for stage, members in model.staged.items()},
        "acl": None if acl is None else {
            "owner": acl.owner,
            "grants": {p: sorted(held) for p, held in sorted(acl.grants.items())}},
    }


def decode(data: dict[str, Any]) -> tuple[Model, Acl | None]:
    """The model as the snapshot has it (partial: its versions are not held) and its ACL."""
    model = Model(
        id=UUID(data["id"]), catalog_name=data["catalog_name"], schema_name=data["schema_name"],
        name=data["name"], description=data["description"], owner=data["owner"],
        created_at=datetime.fromisoformat(data["created_at"]), created_by=data["created_by"],
        updated_at=datetime.fromisoformat(data["updated_at"]), updated_by=data["updated_by"],
        tags=MappingProxyType(data["tags"]),
        aliases=MappingProxyType({a: int(v) for a, v in data["aliases"].items()}),
        next_version=data["next_version"], deleted=data["deleted"],
        live_versions=data["live_versions"],
        staged=MappingProxyType({s: frozenset(m) for s, m in data["staged"].items()}),
        partial=True,
    )
    acl = data["acl"]
    return model, None if acl is None else Acl(acl["owner"], MappingProxyType(
        {p: frozenset(Privilege(x) for x in held) for p, held in acl["grants"].items()}))
