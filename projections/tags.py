"""Read models `model_tags` and `version_tags`."""

from registry.domain import events as ev

from .runner import Projection, Statement, model_id

model_tags = Projection("model_tags", ("model_tags",))
version_tags = Projection("version_tags", ("version_tags",))

_SET_MODEL_TAG = ("INSERT INTO model_tags (model_id, key, value) VALUES ($1, $2, $3) "
                  "ON CONFLICT (model_id, key) DO UPDATE SET value = EXCLUDED.value")
_SET_VERSION_TAG = ("INSERT INTO version_tags (model_id, version, key, value) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT (model_id, version, key) "
                    "DO UPDATE SET value = EXCLUDED.value")


@model_tags.on(ev.ModelCreated)
def _created(r, e: ev.ModelCreated):
    for key, value in e.tags.items():
        yield Statement("model_tags", _SET_MODEL_TAG, (e.model_id, key, value))


@model_tags.on(ev.ModelTagSet)
def _set(r, e: ev.ModelTagSet):
    yield Statement("model_tags", _SET_MODEL_TAG, (model_id(r), e.key, e.value))


@model_tags.on(ev.ModelTagDeleted)
def _deleted(r, e: ev.ModelTagDeleted):
    yield Statement("model_tags", "DELETE FROM model_tags WHERE model_id = $1 AND key = $2",
                    (model_id(r), e.key))


@model_tags.on(ev.ModelDeleted)
def _model_deleted(r, e: ev.ModelDeleted):
    yield Statement("model_tags", "DELETE FROM model_tags WHERE model_id = $1", (model_id(r),))


@version_tags.on(ev.VersionRegistered)
def _registered(r, e: ev.VersionRegistered):
    for key, value in e.tags.items():
        yield Statement("version_tags", _SET_VERSION_TAG, (model_id(r), e.version, key, value))


@version_tags.on(ev.VersionTagSet)
def _version_set(r, e: ev.VersionTagSet):
    yield Statement("version_tags", _SET_VERSION_TAG, (model_id(r), e.version, e.key, e.value))


@version_tags.on(ev.VersionTagDeleted)
def _version_deleted_tag(r, e: ev.VersionTagDeleted):
    yield Statement("version_tags",
                    "DELETE FROM version_tags WHERE model_id = $1 AND version = $2 AND key = $3",
                    (model_id(r), e.version, e.key))


@version_tags.on(ev.VersionDeleted)
def _version_deleted(r, e: ev.VersionDeleted):
    yield Statement("version_tags", "DELETE FROM version_tags WHERE model_id = $1 AND version = $2",
                    (model_id(r), e.version))


@version_tags.on(ev.ModelDeleted)
def _model_deleted_versions(r, e: ev.ModelDeleted):
    yield Statement("version_tags", "DELETE FROM version_tags WHERE model_id = $1", (model_id(r),))
