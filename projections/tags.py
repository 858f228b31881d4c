"""Read models `model_tags` and `version_tags`."""

from projections.runner import Projection, delete, insert, model_id
from registry.domain import events as ev

model_tags = Projection("model_tags", ("model_tags",))
version_tags = Projection("version_tags", ("version_tags",))

_MODEL_TAG = {"model_id": "uuid", "key": "text"}
_VERSION_TAG = {"model_id": "uuid", "version": "int", "key": "text"}
_MODEL = {"model_id": "uuid"}

SET_MODEL_TAG = insert("model_tags", {**_MODEL_TAG, "value": "text"}, upsert_on=tuple(_MODEL_TAG))
DELETE_MODEL_TAG = delete("model_tags", _MODEL_TAG)
DELETE_MODEL_TAGS = delete("model_tags", _MODEL)
SET_VERSION_TAG = insert("version_tags", {**_VERSION_TAG, "value": "text"},
                         upsert_on=tuple(_VERSION_TAG))
DELETE_VERSION_TAG = delete("version_tags", _VERSION_TAG)
DELETE_VERSION_TAGS = delete("version_tags", {"model_id": "uuid", "version": "int"})
DELETE_MODEL_VERSION_TAGS = delete("version_tags", _MODEL)


@model_tags.on(ev.ModelCreated)
def _created(r, e: ev.ModelCreated):
    for key, value in e.tags.items():
        yield SET_MODEL_TAG(e.model_id, key, value)


@model_tags.on(ev.ModelTagSet)
def _set(r, e: ev.ModelTagSet):
    yield SET_MODEL_TAG(model_id(r), e.key, e.value)


@model_tags.on(ev.ModelTagDeleted)
def _deleted(r, e: ev.ModelTagDeleted):
    yield DELETE_MODEL_TAG(model_id(r), e.key)


@model_tags.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield DELETE_MODEL_TAGS(model_id(r))


@version_tags.on(ev.VersionRegistered)
def _registered(r, e: ev.VersionRegistered):
    for key, value in e.tags.items():
        yield SET_VERSION_TAG(model_id(r), e.version, key, value)


@version_tags.on(ev.VersionTagSet)
def _version_set(r, e: ev.VersionTagSet):
    yield SET_VERSION_TAG(model_id(r), e.version, e.key, e.value)


@version_tags.on(ev.VersionTagDeleted)
def _version_tag_deleted(r, e: ev.VersionTagDeleted):
    yield DELETE_VERSION_TAG(model_id(r), e.version, e.key)


@version_tags.on(ev.VersionDeleted)
def _version_deleted(r, e: ev.VersionDeleted):
    yield DELETE_VERSION_TAGS(model_id(r), e.version)


@version_tags.on(ev.ModelDeleted)
def _model_deleted_versions(r, e: ev.ModelDeleted):
    yield DELETE_MODEL_VERSION_TAGS(model_id(r))
