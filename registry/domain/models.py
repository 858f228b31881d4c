"""The registered-model aggregate: a model with its versions, tags and aliases, one stream each.

Cross-aggregate facts (does the target schema exist, is a name taken) are given to `decide` by the
caller as plain values, so this module stays pure.

A model may hold its versions only in part (`partial`, e.g. restored from a snapshot): what
`decide` needs of all of them is kept as counts and sets (`live_versions`, `staged`), and a command
on one version needs that version held (`needs` says which; the shell loads it with
`evolve_version` over that version's events and `holding`). So no fold copies a model's
history: versions live in a persistent map, updated in O(log n).
"""

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar
from uuid import UUID

from immutables import Map

from registry.domain import commands as c
from registry.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from registry.domain.events import (
    AliasDeleted,
    AliasSet,
    Event,
    ModelCreated,
    ModelDeleted,
    ModelDescriptionUpdated,
    ModelRenamed,
    ModelTagDeleted,
    ModelTagSet,
    OwnerChanged,
    StageTransitionApproved,
    StageTransitionCancelled,
    StageTransitionRejected,
    StageTransitionRequested,
    Stamp,
    VersionDeleted,
    VersionDescriptionUpdated,
    VersionFailed,
    VersionReady,
    VersionRegistered,
    VersionStageTransitioned,
    VersionTagDeleted,
    VersionTagSet,
)
from registry.domain.names import FullName

PENDING = "PENDING_REGISTRATION"
READY = "READY"
FAILED = "FAILED_REGISTRATION"

_EMPTY: Mapping = MappingProxyType({})
_NO_VERSIONS: Map[int, "ModelVersion"] = Map()
# The stages whose versions `archive_existing_versions` moves: `decide` needs them all, held or not.
ARCHIVABLE = ("Staging", "Production")
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class TransitionRequest:
    stage: str
    comment: str | None
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class ModelVersion:
    version: int
    source: str
    run_id: str | None
    run_link: str | None
    logged_model_id: str | None
    description: str | None
    storage_location: str | None
    status: str
    status_message: str | None
    tags: Mapping[str, str]
    stage: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    # Open stage transition requests, by target stage.
    requests: Mapping[str, TransitionRequest] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Model:
    id: UUID
    catalog_name: str
    schema_name: str
    name: str
    description: str | None
    owner: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # Live versions held: all of them, unless `partial`.
    versions: Map[int, ModelVersion] = field(default_factory=lambda: _NO_VERSIONS)
    aliases: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    next_version: int = 1  # numbers are never reused, even after a delete
    deleted: bool = False
    live_versions: int = 0  # held or not
    staged: Mapping[str, frozenset[int]] = field(default_factory=lambda: _EMPTY)  # ARCHIVABLE's
    partial: bool = False  # versions registered before this value was restored may be unheld
    gone: frozenset[int] = frozenset()  # of a partial value: versions known to be deleted

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.schema_name}.{self.name}"

    def version(self, number: int) -> ModelVersion:
        mv = self.versions.get(number)
        if mv is None:
            if self.partial and 1 <= number < self.next_version and number not in self.gone:
                raise VersionNotHeld(f"version {number} of {self.id} is not loaded")
            raise NotFound(f"model version {self.full_name} {number} does not exist",
                           model=self.full_name, version=number)
        return mv

    def holds(self, number: int) -> bool:
        """Whether this value knows version `number` (held, or known not to exist)."""
        return not self.partial or number in self.versions or number in self.gone \
            or not 1 <= number < self.next_version

    def holding(self, number: int, mv: "ModelVersion | None") -> "Model":
        """This value with version `number` as loaded from its own events (None: deleted)."""
        if mv is None:
            versions = self.versions.delete(number) if number in self.versions else self.versions
            return replace(self, versions=versions, gone=self.gone | {number})
        return replace(self, versions=self.versions.set(number, mv))

    def shell(self) -> "Model":
        """This value without its versions: what a snapshot keeps."""
        return replace(self, versions=_NO_VERSIONS, gone=frozenset(), partial=True)

    def aliases_of(self, number: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == number)


_S = TypeVar("_S", TransitionRequest, ModelVersion, Model)
_FIELDS: dict[type, tuple[operator.attrgetter, dict[str, int]]] = {}


def replace(obj: _S, **changes: Any) -> _S:
    """`dataclasses.replace` for these plain frozen dataclasses (every field in __init__, no
    __post_init__), in half its time: a write evolves a model several times."""
    cls = type(obj)
    if cls not in _FIELDS:
        names = tuple(f.name for f in fields(cls))
        _FIELDS[cls] = operator.attrgetter(*names), {n: i for i, n in enumerate(names)}
    get, index = _FIELDS[cls]
    values = list(get(obj))
    for name, value in changes.items():
        values[index[name]] = value  # KeyError: no such field
    return cls(*values)


class VersionNotHeld(LookupError):
    """A command was decided on a version the shell did not load first: a bug, never an answer."""


def needs(cmd: c.Command) -> int | None:
    """The version a command is decided on, which a partial model must hold first."""
    return cmd.version if isinstance(cmd, c.VersionCommand | c.SetAlias) else None


def stream_id(model_id: UUID) -> str:
    return f"model:{model_id}"


def model_location(storage_root: str, model_id: UUID) -> str:
    """A model's folder under the storage root, keyed by its id: a rename leaves it where it is,
    and a model re-created under a deleted one's name gets a folder of its own."""
    return f"{storage_root.rstrip('/')}/models/{model_id}"


def version_location(storage_root: str, model_id: UUID, number: int) -> str:
    # Numbers are never reused within a model, so (model id, number) names one version for good.
    return f"{model_location(storage_root, model_id)}/versions/{number}"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a create or rename would put the model: facts from outside this aggregate."""

    schema_exists: bool
    name_taken: bool
    catalog_exists: bool = True  # a missing catalog is named as such (Unity Catalog's answer)


def decide(
    cmd: c.ModelCommand, state: Model | None, actor: str, placement: Placement | None = None
) -> list[Event]:
    if isinstance(cmd, c.CreateModel):
        return _create(cmd, state, actor, placement)
    if state is None or state.deleted:
        raise NotFound(f"registered model {cmd.full_name!r} does not exist", model=cmd.full_name)
    match cmd:
        case c.RenameModel():
            return _rename(cmd, state, placement)
        case c.UpdateModelDescription():
            if cmd.description == state.description:
                return []
            return [ModelDescriptionUpdated(description=cmd.description)]
        case c.SetModelTag():
            if state.tags.get(cmd.key) == cmd.value:
                return []
            return [ModelTagSet(key=cmd.key, value=cmd.value)]
        case c.DeleteModelTag():
            if cmd.key not in state.tags:
                raise NotFound(f"registered model {state.full_name!r} has no tag {cmd.key!r}",
                               model=state.full_name, key=cmd.key)
            return [ModelTagDeleted(key=cmd.key)]
        case c.DeleteModel():
            if state.live_versions and not cmd.force:
                raise FailedPrecondition(
                    f"registered model {state.full_name!r} has {state.live_versions} version(s); "
                    "delete them first or pass force", model=state.full_name,
                    versions=state.live_versions,
                )
            return [ModelDeleted(full_name=state.full_name)]
        case c.RegisterVersion():
            number = state.next_version
            registered = VersionRegistered(
                version=number, source=cmd.source, run_id=cmd.run_id,
                run_link=cmd.run_link, logged_model_id=cmd.logged_model_id,
                description=cmd.description, tags=cmd.tags,
                storage_location=cmd.files_at if cmd.storage_root is None else
                version_location(cmd.storage_root, state.id, number),
            )
            return [registered, VersionReady(version=registered.version)] if cmd.ready else [
                registered]
        case c.VersionCommand():
            return _decide_version(cmd, state, state.version(cmd.version))
        case c.SetAlias():
            state.version(cmd.version)
            previous = state.aliases.get(cmd.alias)
            if previous == cmd.version:
                return []
            return [AliasSet(alias=cmd.alias, version=cmd.version, previous_version=previous)]
        case c.DeleteAlias():
            if cmd.alias not in state.aliases:
                raise NotFound(f"registered model {state.full_name!r} has no alias {cmd.alias!r}",
                               model=state.full_name, alias=cmd.alias)
            return [AliasDeleted(alias=cmd.alias, version=state.aliases[cmd.alias])]
    raise TypeError(f"not a model command: {cmd!r}")


def _require_schema(name: FullName, placement: Placement | None) -> None:
    if placement is not None and not placement.catalog_exists:
        raise NotFound(f"catalog {name.catalog!r} does not exist", catalog=name.catalog)
    if placement is None or not placement.schema_exists:
        raise NotFound(f"schema {name.schema_full_name!r} does not exist",
                       schema=name.schema_full_name)


def _create(
    cmd: c.CreateModel, state: Model | None, actor: str, placement: Placement | None
) -> list[Event]:
    name = FullName.parse(cmd.full_name)
    _require_schema(name, placement)
    if placement.name_taken or (state is not None and not state.deleted):
        raise AlreadyExists(f"registered model {cmd.full_name!r} already exists",
                            model=cmd.full_name)
    return [ModelCreated(
        model_id=cmd.model_id, catalog_name=name.catalog, schema_name=name.schema,
        name=name.name, description=cmd.description, owner=actor, tags=cmd.tags,
    )]


def _rename(cmd: c.RenameModel, state: Model, placement: Placement | None) -> list[Event]:
    if cmd.new_full_name == state.full_name:
        return []
    new = FullName.parse(cmd.new_full_name)
    _require_schema(new, placement)
    if placement.name_taken:
        raise AlreadyExists(f"registered model {cmd.new_full_name!r} already exists",
                            model=cmd.new_full_name)
    return [ModelRenamed(from_full_name=state.full_name, catalog_name=new.catalog,
                         schema_name=new.schema, name=new.name)]


def _decide_version(cmd: c.VersionCommand, state: Model, mv: ModelVersion) -> list[Event]:
    match cmd:
        case c.FinalizeVersion():
            if mv.status != PENDING:
                if mv.status == cmd.status:
                    return []  # finalizing twice is harmless; clients retry
                raise FailedPrecondition(
                    f"model version {state.full_name} {mv.version} is already {mv.status}",
                    model=state.full_name, version=mv.version, status=mv.status,
                )
            if cmd.status == READY:
                return [VersionReady(version=mv.version)]
            return [VersionFailed(version=mv.version, status_message=cmd.status_message)]
        case c.UpdateVersionDescription():
            if cmd.description == mv.description:
                return []
            return [VersionDescriptionUpdated(version=mv.version, description=cmd.description)]
        case c.SetVersionTag():
            if mv.tags.get(cmd.key) == cmd.value:
                return []
            return [VersionTagSet(version=mv.version, key=cmd.key, value=cmd.value)]
        case c.DeleteVersionTag():
            if cmd.key not in mv.tags:
                raise NotFound(
                    f"model version {state.full_name} {mv.version} has no tag {cmd.key!r}",
                    model=state.full_name, version=mv.version, key=cmd.key,
                )
            return [VersionTagDeleted(version=mv.version, key=cmd.key)]
        case c.TransitionStage():
            return _transition(cmd, state, mv)
        case c.TransitionRequestCommand():
            return _decide_request(cmd, state, mv)
        case c.DeleteVersion():
            # An alias never points at a deleted version: drop the ones that do, as events.
            dropped: list[Event] = [AliasDeleted(alias=a, version=mv.version)
                                    for a in state.aliases_of(mv.version)]
            return [*dropped, VersionDeleted(version=mv.version)]
    raise InvalidArgument(f"unsupported version command {type(cmd).__name__}")


def _transition(cmd: c.TransitionStage | c.ApproveTransition, state: Model,
                mv: ModelVersion) -> list[Event]:
    if cmd.archive_existing_versions and cmd.stage not in ("Staging", "Production"):
        raise InvalidArgument(
            f"archive_existing_versions is only for the Staging and Production stages, not "
            f"{cmd.stage}", field="archive_existing_versions")
    events: list[Event] = []
    if mv.stage != cmd.stage:
        events.append(VersionStageTransitioned(version=mv.version, stage=cmd.stage,
                                               previous_stage=mv.stage))
    if cmd.archive_existing_versions:
        events += [VersionStageTransitioned(version=other, stage="Archived",
                                            previous_stage=cmd.stage)
                   for other in sorted(state.staged.get(cmd.stage, ()))
                   if other != mv.version]
    return events


def _decide_request(cmd: c.TransitionRequestCommand, state: Model, mv: ModelVersion
                    ) -> list[Event]:
    where = f"model version {state.full_name} {mv.version}"
    if isinstance(cmd, c.RequestTransition):
        if cmd.stage in mv.requests:
            raise AlreadyExists(f"{where} already has an open request to move to {cmd.stage}",
                                model=state.full_name, version=mv.version, stage=cmd.stage)
        if cmd.stage == mv.stage:
            raise FailedPrecondition(f"{where} is already in {cmd.stage}",
                                     model=state.full_name, version=mv.version)
        return [StageTransitionRequested(version=mv.version, stage=cmd.stage,
                                         comment=cmd.comment)]
    if cmd.stage not in mv.requests:
        raise NotFound(f"{where} has no open request to move to {cmd.stage}",
                       model=state.full_name, version=mv.version, stage=cmd.stage)
    match cmd:
        case c.ApproveTransition():
            return [StageTransitionApproved(
                version=mv.version, stage=cmd.stage, comment=cmd.comment,
                archive_existing_versions=cmd.archive_existing_versions,
            ), *_transition(cmd, state, mv)]
        case c.RejectTransition():
            return [StageTransitionRejected(version=mv.version, stage=cmd.stage,
                                            comment=cmd.comment)]
        case c.CancelTransition():
            return [StageTransitionCancelled(version=mv.version, stage=cmd.stage,
                                             comment=cmd.comment)]
    raise InvalidArgument(f"unsupported transition request command {type(cmd).__name__}")


def evolve(state: Model | None, event: Event, stamp: Stamp) -> Model | None:
    if isinstance(event, ModelCreated):
        return Model(
            id=event.model_id, catalog_name=event.catalog_name, schema_name=event.schema_name,
            name=event.name, description=event.description, owner=event.owner,
            created_at=stamp.at, created_by=stamp.actor, updated_at=stamp.at,
            updated_by=stamp.actor, tags=MappingProxyType(dict(event.tags)),
        )
    if state is None:
        return None
    if isinstance(event, VersionEvent):
        return _on_version(state, event, stamp)
    touched = {"updated_at": stamp.at, "updated_by": stamp.actor}
    match event:
        case ModelRenamed():
            return replace(state, catalog_name=event.catalog_name, schema_name=event.schema_name,
                           name=event.name, **touched)
        case ModelDescriptionUpdated():
            return replace(state, description=event.description, **touched)
        case OwnerChanged():
            return replace(state, owner=event.owner, **touched)
        case ModelTagSet():
            return replace(state, tags=_with(state.tags, event.key, event.value), **touched)
        case ModelTagDeleted():
            return replace(state, tags=_without(state.tags, event.key), **touched)
        case ModelDeleted():
            return replace(state, deleted=True, **touched)
        case AliasSet():
            return replace(state, aliases=_with(state.aliases, event.alias, event.version),
                           **touched)
        case AliasDeleted():
            return replace(state, aliases=_without(state.aliases, event.alias), **touched)
    return state


VersionEvent = (VersionRegistered | VersionReady | VersionFailed | VersionDescriptionUpdated
                | VersionTagSet | VersionTagDeleted | VersionStageTransitioned
                | StageTransitionRequested | StageTransitionApproved | StageTransitionRejected
                | StageTransitionCancelled | VersionDeleted)


def _on_version(state: Model, event: VersionEvent, stamp: Stamp) -> Model:
    """A version's event: the version itself if held, and what the model keeps of all of them."""
    number = event.version
    changes: dict[str, object] = {"updated_at": stamp.at, "updated_by": stamp.actor}
    held = state.versions.get(number)
    if held is not None or isinstance(event, VersionRegistered):
        mv = evolve_version(held, event, stamp)
        changes["versions"] = state.versions.set(number, mv) if mv is not None else \
            state.versions.delete(number)
    match event:
        case VersionRegistered():
            changes |= {"next_version": max(state.next_version, number + 1),
                        "live_versions": state.live_versions + 1}
        case VersionDeleted():
            changes |= {"live_versions": state.live_versions - 1,
                        "staged": _staged(state.staged, number, None)}
            if state.partial:
                changes["gone"] = state.gone | {number}
        case VersionStageTransitioned():
            changes["staged"] = _staged(state.staged, number, event.stage)
    return replace(state, **changes)  # type: ignore[arg-type]


def evolve_version(mv: ModelVersion | None, event: Event, stamp: Stamp) -> ModelVersion | None:
    """One version from its own events (those naming its number); other events leave it be."""
    if isinstance(event, VersionRegistered):
        return ModelVersion(
            version=event.version, source=event.source, run_id=event.run_id,
            run_link=event.run_link, logged_model_id=event.logged_model_id,
            description=event.description, storage_location=event.storage_location,
            status=PENDING, status_message=None, tags=MappingProxyType(dict(event.tags)),
            stage="None", created_at=stamp.at, created_by=stamp.actor, updated_at=stamp.at,
            updated_by=stamp.actor,
        )
    if mv is None:
        return None
    touched = {"updated_at": stamp.at, "updated_by": stamp.actor}
    match event:
        case VersionReady():
            return replace(mv, status=READY, **touched)
        case VersionFailed():
            return replace(mv, status=FAILED, status_message=event.status_message, **touched)
        case VersionDescriptionUpdated():
            return replace(mv, description=event.description, **touched)
        case VersionTagSet():
            return replace(mv, tags=_with(mv.tags, event.key, event.value), **touched)
        case VersionTagDeleted():
            return replace(mv, tags=_without(mv.tags, event.key), **touched)
        case VersionStageTransitioned():
            return replace(mv, stage=event.stage, **touched)
        case StageTransitionRequested():
            request = TransitionRequest(event.stage, event.comment, stamp.actor, stamp.at)
            return replace(mv, requests=_with(mv.requests, event.stage, request), **touched)
        case StageTransitionApproved() | StageTransitionRejected() | StageTransitionCancelled():
            return replace(mv, requests=_without(mv.requests, event.stage), **touched)
        case VersionDeleted():
            return None
    return mv


def _staged(staged: Mapping[str, frozenset[int]], number: int, stage: str | None
            ) -> Mapping[str, frozenset[int]]:
    """`staged` with version `number` in `stage` now (None: in no archivable stage)."""
    out = {s: members - {number} if number in members else members
           for s, members in staged.items()}
    if stage in ARCHIVABLE:
        out[stage] = out.get(stage, frozenset()) | {number}
    return MappingProxyType({s: members for s, members in out.items() if members})


def _with(mapping: Mapping[K, V], key: K, value: V) -> Mapping[K, V]:
    return MappingProxyType({**mapping, key: value})


def _without(mapping: Mapping[K, V], key: K) -> Mapping[K, V]:
    return MappingProxyType({k: v for k, v in mapping.items() if k != key})
