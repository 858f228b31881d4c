"""Read model `model_versions`."""

from registry.domain import events as ev
from registry.domain.models import FAILED, PENDING, READY

from .runner import Projection, Statement, model_id

model_versions = Projection("model_versions", ("model_versions",))


@model_versions.on(ev.VersionRegistered)
def _registered(r, e: ev.VersionRegistered):
    yield Statement("model_versions",
                    "INSERT INTO model_versions (model_id, version, source, run_id, run_link, "
                    "logged_model_id, description, status, storage_location, created_at, "
                    "created_by, updated_at, updated_by) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11)",
                    (model_id(r), e.version, e.source, e.run_id, e.run_link, e.logged_model_id,
                     e.description, PENDING, e.storage_location, r.recorded_at, r.actor))


def _update(r, version: int, **columns: object) -> Statement:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=5))
    return Statement("model_versions",
                     f"UPDATE model_versions SET updated_at = $3, updated_by = $4, {sets} "
                     "WHERE model_id = $1 AND version = $2",
                     (model_id(r), version, r.recorded_at, r.actor, *columns.values()))


@model_versions.on(ev.VersionReady)
def _ready(r, e: ev.VersionReady):
    yield _update(r, e.version, status=READY)


@model_versions.on(ev.VersionFailed)
def _failed(r, e: ev.VersionFailed):
    yield _update(r, e.version, status=FAILED, status_message=e.status_message)


@model_versions.on(ev.VersionDescriptionUpdated)
def _description(r, e: ev.VersionDescriptionUpdated):
    yield _update(r, e.version, description=e.description)


@model_versions.on(ev.VersionDeleted)
def _deleted(r, e: ev.VersionDeleted):
    yield Statement("model_versions",
                    "DELETE FROM model_versions WHERE model_id = $1 AND version = $2",
                    (model_id(r), e.version))


@model_versions.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield Statement("model_versions", "DELETE FROM model_versions WHERE model_id = $1",
                    (model_id(r),))
