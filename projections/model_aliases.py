"""Read model `model_aliases`: the current alias map of every model."""

from registry.domain import events as ev

from .runner import Projection, Statement, model_id

model_aliases = Projection("model_aliases", ("model_aliases",))


@model_aliases.on(ev.AliasSet)
def _set(r, e: ev.AliasSet):
    yield Statement("model_aliases",
                    "INSERT INTO model_aliases (model_id, alias, version, updated_at, updated_by) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_id, alias) DO UPDATE SET "
                    "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, "
                    "updated_by = EXCLUDED.updated_by",
                    (model_id(r), e.alias, e.version, r.recorded_at, r.actor))


@model_aliases.on(ev.AliasDeleted)
def _deleted(r, e: ev.AliasDeleted):
    yield Statement("model_aliases", "DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2",
                    (model_id(r), e.alias))


@model_aliases.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield Statement("model_aliases", "DELETE FROM model_aliases WHERE model_id = $1",
                    (model_id(r),))
