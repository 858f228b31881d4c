"""Read model `model_versions`."""

from projections.runner import Projection, delete, insert, model_id, update
from registry.domain import events as ev
from registry.domain.models import FAILED, PENDING, READY

model_versions = Projection("model_versions", ("model_versions",))

_KEY = {"model_id": "uuid", "version": "int"}
_TOUCHED = {"updated_at": "timestamptz", "updated_by": "text"}

INSERT_VERSION = insert("model_versions", {
    **_KEY, "source": "text", "run_id": "text", "run_link": "text", "logged_model_id": "text",
    # status_message, NULL as its default would leave it: a SET_STATUS in the same batch folds
    # into this row only if the row holds every column it sets (registry/eventstore/statements.py).
    "description": "text", "status": "text", "status_message": "text", "storage_location": "text",
    "created_at": "timestamptz", "created_by": "text", **_TOUCHED})
SET_STATUS = update("model_versions", _KEY,
                    {"status": "text", "status_message": "text", **_TOUCHED})
DESCRIBE_VERSION = update("model_versions", _KEY, {"description": "text", **_TOUCHED})
SET_STAGE = update("model_versions", _KEY, {"stage": "text", **_TOUCHED})
TOUCH_VERSION = update("model_versions", _KEY, _TOUCHED)
DELETE_VERSION = delete("model_versions", _KEY)
DELETE_MODEL_VERSIONS = delete("model_versions", {"model_id": "uuid"})


@model_versions.on(ev.VersionRegistered)
def _registered(r, e: ev.VersionRegistered):
    yield INSERT_VERSION(model_id(r), e.version, e.source, e.run_id, e.run_link,
                         e.logged_model_id, e.description, PENDING, None, e.storage_location,
                         r.recorded_at, r.actor, r.recorded_at, r.actor)


@model_versions.on(ev.VersionReady)
def _ready(r, e: ev.VersionReady):
    yield SET_STATUS(model_id(r), e.version, READY, None, r.recorded_at, r.actor)


@model_versions.on(ev.VersionFailed)
def _failed(r, e: ev.VersionFailed):
    yield SET_STATUS(model_id(r), e.version, FAILED, e.status_message, r.recorded_at, r.actor)


@model_versions.on(ev.VersionDescriptionUpdated)
def _description(r, e: ev.VersionDescriptionUpdated):
    yield DESCRIBE_VERSION(model_id(r), e.version, e.description, r.recorded_at, r.actor)


@model_versions.on(ev.VersionStageTransitioned)
def _staged(r, e: ev.VersionStageTransitioned):
    yield SET_STAGE(model_id(r), e.version, e.stage, r.recorded_at, r.actor)


@model_versions.on(ev.VersionTagSet, ev.VersionTagDeleted, ev.StageTransitionRequested,
                   ev.StageTransitionApproved, ev.StageTransitionRejected,
                   ev.StageTransitionCancelled)
def _touched(r, e: ev.Event):
    yield TOUCH_VERSION(model_id(r), e.version, r.recorded_at, r.actor)


@model_versions.on(ev.VersionDeleted)
def _deleted(r, e: ev.VersionDeleted):
    yield DELETE_VERSION(model_id(r), e.version)


@model_versions.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield DELETE_MODEL_VERSIONS(model_id(r))
