"""Read model `model_aliases`: the current alias map of every model."""

from projections.runner import Projection, delete, insert, model_id
from registry.domain import events as ev

model_aliases = Projection("model_aliases", ("model_aliases",))

_KEY = {"model_id": "uuid", "alias": "text"}
SET_ALIAS = insert("model_aliases", {**_KEY, "version": "int", "updated_at": "timestamptz",
                                     "updated_by": "text"}, upsert_on=tuple(_KEY))
DELETE_ALIAS = delete("model_aliases", _KEY)
DELETE_MODEL_ALIASES = delete("model_aliases", {"model_id": "uuid"})


@model_aliases.on(ev.AliasSet)
def _set(r, e: ev.AliasSet):
    yield SET_ALIAS(model_id(r), e.alias, e.version, r.recorded_at, r.actor)


@model_aliases.on(ev.AliasDeleted)
def _deleted(r, e: ev.AliasDeleted):
    yield DELETE_ALIAS(model_id(r), e.alias)


@model_aliases.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield DELETE_MODEL_ALIASES(model_id(r))
