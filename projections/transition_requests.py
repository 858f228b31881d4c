"""Read model `transition_requests`: the open requests to move a version to a stage."""

from projections.runner import Projection, delete, insert, model_id
from registry.domain import events as ev

transition_requests = Projection("transition_requests", ("transition_requests",))

_KEY = {"model_id": "uuid", "version": "int", "stage": "text"}
OPEN_REQUEST = insert("transition_requests", {**_KEY, "comment": "text", "requested_by": "text",
                                              "requested_at": "timestamptz"})
CLOSE_REQUEST = delete("transition_requests", _KEY)
DELETE_VERSION_REQUESTS = delete("transition_requests", {"model_id": "uuid", "version": "int"})
DELETE_MODEL_REQUESTS = delete("transition_requests", {"model_id": "uuid"})


@transition_requests.on(ev.StageTransitionRequested)
def _requested(r, e: ev.StageTransitionRequested):
    yield OPEN_REQUEST(model_id(r), e.version, e.stage, e.comment, r.actor, r.recorded_at)


@transition_requests.on(ev.StageTransitionApproved, ev.StageTransitionRejected,
                        ev.StageTransitionCancelled)
def _closed(r, e: ev.StageTransitionApproved | ev.StageTransitionRejected
            | ev.StageTransitionCancelled):
    yield CLOSE_REQUEST(model_id(r), e.version, e.stage)


@transition_requests.on(ev.VersionDeleted)
def _version_deleted(r, e: ev.VersionDeleted):
    yield DELETE_VERSION_REQUESTS(model_id(r), e.version)


@transition_requests.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield DELETE_MODEL_REQUESTS(model_id(r))
