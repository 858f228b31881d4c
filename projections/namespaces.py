"""Read models `catalogs` and `schemas`."""

from registry.domain import events as ev

from .runner import Projection, Statement

catalogs = Projection("catalogs", ("catalogs",))
schemas = Projection("schemas", ("schemas",))


@catalogs.on(ev.CatalogCreated)
def _catalog_created(r, e: ev.CatalogCreated):
    yield Statement("catalogs",
                    "INSERT INTO catalogs (name, id, comment, owner, created_at, created_by, "
                    "updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $5, $6)",
                    (e.name, e.catalog_id, e.comment, e.owner, r.recorded_at, r.actor))


@catalogs.on(ev.CatalogUpdated)
def _catalog_updated(r, e: ev.CatalogUpdated):
    yield Statement("catalogs",
                    "UPDATE catalogs SET comment = $2, updated_at = $3, updated_by = $4 "
                    "WHERE name = $1", (e.name, e.comment, r.recorded_at, r.actor))


@catalogs.on(ev.CatalogDeleted)
def _catalog_deleted(r, e: ev.CatalogDeleted):
    yield Statement("catalogs", "DELETE FROM catalogs WHERE name = $1", (e.name,))


@schemas.on(ev.SchemaCreated)
def _schema_created(r, e: ev.SchemaCreated):
    yield Statement("schemas",
                    "INSERT INTO schemas (catalog_name, name, id, comment, owner, created_at, "
                    "created_by, updated_at, updated_by) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7)",
                    (e.catalog_name, e.name, e.schema_id, e.comment, e.owner, r.recorded_at,
                     r.actor))


@schemas.on(ev.SchemaUpdated)
def _schema_updated(r, e: ev.SchemaUpdated):
    yield Statement("schemas",
                    "UPDATE schemas SET comment = $3, updated_at = $4, updated_by = $5 "
                    "WHERE catalog_name = $1 AND name = $2",
                    (e.catalog_name, e.name, e.comment, r.recorded_at, r.actor))


@schemas.on(ev.SchemaDeleted)
def _schema_deleted(r, e: ev.SchemaDeleted):
    yield Statement("schemas", "DELETE FROM schemas WHERE catalog_name = $1 AND name = $2",
                    (e.catalog_name, e.name))
