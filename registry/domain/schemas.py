"""The schema aggregate: the middle level, `catalog.schema`, that holds registered models."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from registry.domain.catalogs import Catalog, updated
from registry.domain.commands import CreateSchema, DeleteSchema, RenameSchema, UpdateSchema
from registry.domain.errors import AlreadyExists, FailedPrecondition, NotFound
from registry.domain.events import (
    Event,
    OwnerChanged,
    SchemaCreated,
    SchemaDeleted,
    SchemaRenamed,
    SchemaUpdated,
    Stamp,
)


@dataclass(frozen=True, slots=True)
class Schema:
    id: UUID
    catalog_name: str
    name: str
    comment: str | None
    owner: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.name}"


def stream_id(schema_id: UUID) -> str:
    """A schema's stream, keyed by its id so that it keeps it through renames (its own and its
    catalog's). Schemas created before renames existed keep theirs, `schema:<catalog>.<name>`
    as they were created: the state finds every schema's stream by its current name."""
    return f"schema:{schema_id}"


SchemaCommand = CreateSchema | UpdateSchema | RenameSchema | DeleteSchema


def decide(
    cmd: SchemaCommand, state: Schema | None, catalog: Catalog | None, model_count: int, actor: str,
    name_taken: bool = False,
) -> list[Event]:
    """`name_taken`: a schema of the catalog already bears a rename's new name."""
    full = f"{cmd.catalog_name}.{cmd.name}"
    if catalog is None:
        raise NotFound(f"catalog {cmd.catalog_name!r} does not exist", catalog=cmd.catalog_name)
    match cmd:
        case CreateSchema():
            if state is not None:
                raise AlreadyExists(f"schema {full!r} already exists", schema=full)
            return [SchemaCreated(schema_id=cmd.schema_id, catalog_name=cmd.catalog_name,
                                  name=cmd.name, comment=cmd.comment, owner=actor,
                                  properties=cmd.properties)]
        case _ if state is None:
            raise NotFound(f"schema {full!r} does not exist", schema=full)
        case UpdateSchema():
            after = updated(cmd, state.comment, state.properties)
            return [] if after is None else [
                SchemaUpdated(catalog_name=cmd.catalog_name, name=cmd.name, comment=after[0],
                              properties=after[1])
            ]
        case RenameSchema():
            # As Unity Catalog: a name already borne, the schema's own included, is refused.
            if name_taken or cmd.new_name == cmd.name:
                new = f"{cmd.catalog_name}.{cmd.new_name}"
                raise AlreadyExists(f"schema {new!r} already exists", schema=new)
            return [SchemaRenamed(from_full_name=full, catalog_name=cmd.catalog_name,
                                  name=cmd.new_name)]
        case DeleteSchema():
            if model_count and not cmd.force:
                raise FailedPrecondition(
                    f"schema {full!r} is not empty: it has {model_count} registered model(s); "
                    "delete them first", schema=full, models=model_count,
                )
            return [SchemaDeleted(catalog_name=cmd.catalog_name, name=cmd.name)]
    raise TypeError(f"not a schema command: {cmd!r}")


def evolve(state: Schema | None, event: Event, stamp: Stamp) -> Schema | None:
    match event:
        case SchemaCreated():
            return Schema(event.schema_id, event.catalog_name, event.name, event.comment,
                          event.owner, stamp.at, stamp.actor, stamp.at, stamp.actor,
                          event.properties)
        case SchemaUpdated() if state is not None:
            return replace(state, comment=event.comment, properties=event.properties,
                           updated_at=stamp.at, updated_by=stamp.actor)
        case SchemaRenamed() if state is not None:
            return replace(state, catalog_name=event.catalog_name, name=event.name,
                           updated_at=stamp.at, updated_by=stamp.actor)
        case OwnerChanged() if state is not None:
            return replace(state, owner=event.owner, updated_at=stamp.at, updated_by=stamp.actor)
        case SchemaDeleted():
            return None
    return state
