"""Read models `registered_models` and `model_names` (which model held a name from when)."""

from projections.runner import Projection, delete, insert, model_id, update
from registry.domain import events as ev
from registry.domain import streams

registered_models = Projection("registered_models", ("registered_models",))
model_names = Projection("model_names", ("model_names",))

_ID = {"id": "uuid"}
_TOUCHED = {"updated_at": "timestamptz", "updated_by": "text"}
_NAME = {"catalog_name": "text", "schema_name": "text", "name": "text", "full_name": "text"}

INSERT_MODEL = insert("registered_models", {
    **_ID, **_NAME, "description": "text", "owner": "text", "created_at": "timestamptz",
    "created_by": "text", **_TOUCHED})
RENAME_MODEL = update("registered_models", _ID, {**_NAME, **_TOUCHED})
DESCRIBE_MODEL = update("registered_models", _ID, {"description": "text", **_TOUCHED})
OWN_MODEL = update("registered_models", _ID, {"owner": "text", **_TOUCHED})
TOUCH_MODEL = update("registered_models", _ID, _TOUCHED)
DELETE_MODEL = delete("registered_models", _ID)
INSERT_NAME = insert("model_names", {"full_name": "text", "position": "bigint", "model_id": "uuid"})


@registered_models.on(ev.ModelCreated)
def _created(r, e: ev.ModelCreated):
    yield INSERT_MODEL(e.model_id, e.catalog_name, e.schema_name, e.name, e.full_name,
                       e.description, e.owner, r.recorded_at, r.actor, r.recorded_at, r.actor)


@registered_models.on(ev.ModelRenamed)
def _renamed(r, e: ev.ModelRenamed):
    yield RENAME_MODEL(model_id(r), e.catalog_name, e.schema_name, e.name, e.full_name,
                       r.recorded_at, r.actor)


@registered_models.on(ev.ModelDescriptionUpdated)
def _description(r, e: ev.ModelDescriptionUpdated):
    yield DESCRIBE_MODEL(model_id(r), e.description, r.recorded_at, r.actor)


@registered_models.on(ev.ModelDeleted)
def _deleted(r, e: ev.ModelDeleted):
    yield DELETE_MODEL(model_id(r))


def _touch(r, e):
    """Any other change to a model or its versions makes the model 'last updated' now."""
    if streams.is_model(r.stream_id):
        yield TOUCH_MODEL(model_id(r), r.recorded_at, r.actor)


registered_models.fallback = _touch


@model_names.on(ev.ModelCreated, ev.ModelRenamed)
def _named(r, e: ev.ModelCreated | ev.ModelRenamed):
    yield INSERT_NAME(e.full_name, r.position, model_id(r))


@registered_models.on(ev.OwnerChanged)
def _owner(r, e: ev.OwnerChanged):
    if e.securable_type == "registered_model":
        yield OWN_MODEL(model_id(r), e.owner, r.recorded_at, r.actor)


@registered_models.on(ev.PrivilegesChanged)
def _grants(r, e: ev.PrivilegesChanged):
    return ()  # who may use a model is not a change to the model: no 'last updated' (projections/grants.py)
