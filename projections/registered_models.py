"""Read models `registered_models` and `model_names` (which model held a name from when)."""

from registry.domain import events as ev

from .runner import Projection, Statement, model_id

registered_models = Projection("registered_models", ("registered_models",))
model_names = Projection("model_names", ("model_names",))

_TOUCH = ("UPDATE registered_models SET updated_at = $2, updated_by = $3 WHERE id = $1")


@registered_models.on(ev.ModelCreated)
def _created(r, e: ev.ModelCreated):
    yield Statement("registered_models",
                    "INSERT INTO registered_models (id, catalog_name, schema_name, name, full_name, "
                    "description, owner, created_at, created_by, updated_at, updated_by) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9)",
                    (e.model_id, e.catalog_name, e.schema_name, e.name, e.full_name,
                     e.description, e.owner, r.recorded_at, r.actor))


@registered_models.on(ev.ModelRenamed)
def _renamed(r, e: ev.ModelRenamed):
    yield Statement("registered_models",
                    "UPDATE registered_models SET catalog_name = $2, schema_name = $3, name = $4, "
                    "full_name = $5, updated_at = $6, updated_by = $7 WHERE id = $1",
                    (model_id(r), e.catalog_name, e.schema_name, e.name, e.full_name,
                     r.recorded_at, r.actor))


@registered_models.on(ev.ModelDescriptionUpdated)
def _description(r, e: ev.ModelDescriptionUpdated):
    yield Statement("registered_models",
                    "UPDATE registered_models SET description = $2, updated_at = $3, "
                    "updated_by = $4 WHERE id = $1",
                    (model_id(r), e.description, r.recorded_at, r.actor))


@registered_models.on(ev.ModelDeleted)
def _deleted(r, e: ev.ModelDeleted):
    yield Statement("registered_models", "DELETE FROM registered_models WHERE id = $1",
                    (model_id(r),))


def _touch(r, e):
    """Any other change to a model or its versions makes the model 'last updated' now."""
    if r.stream_id.startswith("model:"):
        yield Statement("registered_models", _TOUCH, (model_id(r), r.recorded_at, r.actor))


registered_models.fallback = _touch


@model_names.on(ev.ModelCreated, ev.ModelRenamed)
def _named(r, e: ev.ModelCreated | ev.ModelRenamed):
    yield Statement("model_names",
                    "INSERT INTO model_names (full_name, position, model_id) VALUES ($1, $2, $3)",
                    (e.full_name, r.position, model_id(r)))
