"""The catalog aggregate: the top level of the three-level namespace."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from registry.domain.commands import CreateCatalog, DeleteCatalog, RenameCatalog, UpdateCatalog, UpdateSchema
from registry.domain.errors import AlreadyExists, FailedPrecondition, NotFound
from registry.domain.events import (
    CatalogCreated,
    CatalogDeleted,
    CatalogRenamed,
    CatalogUpdated,
    Event,
    OwnerChanged,
    Stamp,
)


@dataclass(frozen=True, slots=True)
class Catalog:
    id: UUID
    name: str
    comment: str | None
    owner: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    properties: Mapping[str, str] = field(default_factory=dict)


def updated(cmd: UpdateCatalog | UpdateSchema, comment: str | None,
            properties: Mapping[str, str]) -> tuple[str | None, dict[str, str]] | None:
    """The comment and properties after `cmd`, which changes only the fields it was given; None
    if nothing changes."""
    sent = cmd.model_fields_set
    after = (cmd.comment if "comment" in sent else comment,
             dict(cmd.properties) if "properties" in sent else dict(properties))
    return None if after == (comment, dict(properties)) else after


def stream_id(catalog_id: UUID) -> str:
    """A catalog's stream, keyed by its id so that it keeps it through renames. (Catalogs created
    before renames existed keep theirs, keyed by the name they were created with: the state
    finds every catalog's stream by its current name, `RegistryState.catalog_streams`.)"""
    return f"catalog:{catalog_id}"


CatalogCommand = CreateCatalog | UpdateCatalog | RenameCatalog | DeleteCatalog


def decide(cmd: CatalogCommand, state: Catalog | None, schema_count: int, actor: str,
           name_taken: bool = False) -> list[Event]:
    """`name_taken`: a catalog already bears a rename's new name."""
    match cmd:
        case CreateCatalog():
            if state is not None:
                raise AlreadyExists(f"catalog {cmd.name!r} already exists", catalog=cmd.name)
            return [
                CatalogCreated(catalog_id=cmd.catalog_id, name=cmd.name, comment=cmd.comment,
                               owner=actor, properties=cmd.properties)
            ]
        case _ if state is None:
            raise NotFound(f"catalog {cmd.name!r} does not exist", catalog=cmd.name)
        case UpdateCatalog():
            after = updated(cmd, state.comment, state.properties)
            return [] if after is None else [
                CatalogUpdated(name=cmd.name, comment=after[0], properties=after[1])
            ]
        case RenameCatalog():
            # As Unity Catalog: a name already borne, the catalog's own included, is refused.
            if name_taken or cmd.new_name == cmd.name:
                raise AlreadyExists(f"catalog {cmd.new_name!r} already exists",
                                    catalog=cmd.new_name)
            return [CatalogRenamed(from_name=cmd.name, name=cmd.new_name)]
        case DeleteCatalog():
            if schema_count and not cmd.force:
                raise FailedPrecondition(
                    f"catalog {cmd.name!r} is not empty: it has {schema_count} schema(s); "
                    "delete them first", catalog=cmd.name, schemas=schema_count,
                )
            return [CatalogDeleted(name=cmd.name)]
    raise TypeError(f"not a catalog command: {cmd!r}")


def evolve(state: Catalog | None, event: Event, stamp: Stamp) -> Catalog | None:
    match event:
        case CatalogCreated():
            return Catalog(event.catalog_id, event.name, event.comment, event.owner,
                           stamp.at, stamp.actor, stamp.at, stamp.actor, event.properties)
        case CatalogUpdated() if state is not None:
            return replace(state, comment=event.comment, properties=event.properties,
                           updated_at=stamp.at, updated_by=stamp.actor)
        case CatalogRenamed() if state is not None:
            return replace(state, name=event.name, updated_at=stamp.at, updated_by=stamp.actor)
        case OwnerChanged() if state is not None:
            return replace(state, owner=event.owner, updated_at=stamp.at, updated_by=stamp.actor)
        case CatalogDeleted():
            return None
    return state
