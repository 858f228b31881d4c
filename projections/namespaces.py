"""Read models `catalogs` and `schemas`."""

from projections.runner import Projection, delete, insert, update
from registry.domain import events as ev

catalogs = Projection("catalogs", ("catalogs",))
schemas = Projection("schemas", ("schemas",))

_AUDIT = {"created_at": "timestamptz", "created_by": "text", "updated_at": "timestamptz",
          "updated_by": "text"}
_TOUCHED = {"updated_at": "timestamptz", "updated_by": "text"}

INSERT_CATALOG = insert("catalogs", {"name": "text", "id": "uuid", "comment": "text",
                                     "owner": "text", "properties": "jsonb", **_AUDIT,
                                     "stream_id": "text"})
# A rename is found by stream: the stream stays the object's, whatever its name.
RENAME_CATALOG = update("catalogs", {"stream_id": "text"}, {"name": "text", **_TOUCHED})
UPDATE_CATALOG = update("catalogs", {"name": "text"}, {"comment": "text", "properties": "jsonb",
                                                       **_TOUCHED})
OWN_CATALOG = update("catalogs", {"name": "text"}, {"owner": "text", **_TOUCHED})
DELETE_CATALOG = delete("catalogs", {"name": "text"})

_SCHEMA_KEY = {"catalog_name": "text", "name": "text"}
INSERT_SCHEMA = insert("schemas", {**_SCHEMA_KEY, "id": "uuid", "comment": "text", "owner": "text",
                                   "properties": "jsonb", **_AUDIT, "stream_id": "text"})
RENAME_SCHEMA = update("schemas", {"stream_id": "text"}, {**_SCHEMA_KEY, **_TOUCHED})
UPDATE_SCHEMA = update("schemas", _SCHEMA_KEY, {"comment": "text", "properties": "jsonb",
                                               **_TOUCHED})
OWN_SCHEMA = update("schemas", _SCHEMA_KEY, {"owner": "text", **_TOUCHED})
DELETE_SCHEMA = delete("schemas", _SCHEMA_KEY)


@catalogs.on(ev.CatalogCreated)
def _catalog_created(r, e: ev.CatalogCreated):
    yield INSERT_CATALOG(e.name, e.catalog_id, e.comment, e.owner, e.properties, r.recorded_at,
                         r.actor, r.recorded_at, r.actor, r.stream_id)


@catalogs.on(ev.CatalogRenamed)
def _catalog_renamed(r, e: ev.CatalogRenamed):
    yield RENAME_CATALOG(r.stream_id, e.name, r.recorded_at, r.actor)


@catalogs.on(ev.CatalogUpdated)
def _catalog_updated(r, e: ev.CatalogUpdated):
    yield UPDATE_CATALOG(e.name, e.comment, e.properties, r.recorded_at, r.actor)


@catalogs.on(ev.CatalogDeleted)
def _catalog_deleted(r, e: ev.CatalogDeleted):
    yield DELETE_CATALOG(e.name)


@schemas.on(ev.SchemaCreated)
def _schema_created(r, e: ev.SchemaCreated):
    yield INSERT_SCHEMA(e.catalog_name, e.name, e.schema_id, e.comment, e.owner, e.properties,
                        r.recorded_at, r.actor, r.recorded_at, r.actor, r.stream_id)


@schemas.on(ev.SchemaRenamed)
def _schema_renamed(r, e: ev.SchemaRenamed):
    yield RENAME_SCHEMA(r.stream_id, e.catalog_name, e.name, r.recorded_at, r.actor)


@schemas.on(ev.SchemaUpdated)
def _schema_updated(r, e: ev.SchemaUpdated):
    yield UPDATE_SCHEMA(e.catalog_name, e.name, e.comment, e.properties, r.recorded_at, r.actor)


@schemas.on(ev.SchemaDeleted)
def _schema_deleted(r, e: ev.SchemaDeleted):
    yield DELETE_SCHEMA(e.catalog_name, e.name)


@catalogs.on(ev.OwnerChanged)
def _catalog_owner(r, e: ev.OwnerChanged):
    if e.securable_type == "catalog":
        yield OWN_CATALOG(e.full_name, e.owner, r.recorded_at, r.actor)


@schemas.on(ev.OwnerChanged)
def _schema_owner(r, e: ev.OwnerChanged):
    if e.securable_type == "schema":
        catalog, _, name = e.full_name.partition(".")
        yield OWN_SCHEMA(catalog, name, e.owner, r.recorded_at, r.actor)
