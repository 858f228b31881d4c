"""Compliance report data: a pure fold of the log into what happened to each model in a window
(who registered which version from where, who moved which alias and stage, who requested and who
decided each transition), the alias and stage timelines a chart draws, and access: grants and
ownership changes, catalog and schema events, and who could read or modify each model at the
window's end (registry/audit/access.py).

No I/O. The shell (registry/audit/report.py) feeds every event of the models in question and
of all catalogs, schemas and principals in log order, from the log's start to the window's end:
events before the window only set the state the window starts from (e.g. where `champion`
pointed, and since when, by whom; who held which grant).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from projections import alias_history
from registry.audit.access import (
    DeniedAttempt,
    ModelAccess,
    Namespaces,
    PermissionChange,
    SecurableChange,
    model_access,
    permission_changes,
)
from registry.domain import events as ev
from registry.domain import streams
from registry.domain.events import Event, parse_event
from registry.domain.names import within
from registry.domain.privileges import Acl, evolve
from registry.eventstore.records import RecordedEvent
from registry.timeline import chart
from registry.timeline.periods import fold


@dataclass(frozen=True)
class Window:
    since: datetime  # the chart's time axis
    until: datetime
    since_position: int  # the events reported, both inclusive
    until_position: int
    object: str | None = None  # a dotted-segment prefix of the models' names


@dataclass(frozen=True)
class Change:
    """One line of a model's audit trail."""

    position: int
    at: datetime
    actor: str
    request_id: str | None
    kind: str  # model, version, tag, alias, stage, request
    action: str  # created, renamed, registered, set, moved, deleted, requested, approved, ...
    version: int | None = None
    subject: str | None = None  # the alias, tag key or requested stage
    before: str | None = None
    after: str | None = None
    detail: str | None = None  # a comment, a run id, a status message


@dataclass(frozen=True)
class VersionRecord:
    version: int
    registered_by: str
    registered_at: datetime
    source: str
    run_id: str | None
    status: str  # PENDING_REGISTRATION, READY, FAILED_REGISTRATION or DELETED, at the window's end


@dataclass(frozen=True)
class RequestRecord:
    version: int
    stage: str
    requested_by: str
    requested_at: datetime
    comment: str | None
    outcome: str = "open"  # approved, rejected, cancelled or still open at the window's end
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None


@dataclass(frozen=True)
class ModelSection:
    model_id: str
    full_name: str  # its last name in the window
    names: tuple[str, ...]  # every name it bore in the window, in order
    events: int
    changes: tuple[Change, ...]
    versions: tuple[VersionRecord, ...]
    requests: tuple[RequestRecord, ...]
    lanes: tuple[chart.Lane, ...]  # the alias and stage periods in the window, as charted


@dataclass(frozen=True)
class Report:
    window: Window
    models: tuple[ModelSection, ...]
    actors: tuple[str, ...]
    last_hash: str | None  # the hash of the window's last event: pins the history reported
    permission_changes: tuple[PermissionChange, ...] = ()
    securable_changes: tuple[SecurableChange, ...] = ()  # catalogs' and schemas' own events
    access: tuple[ModelAccess, ...] = ()  # at the window's end, of the models alive then
    denied_attempts: tuple[DeniedAttempt, ...] = ()  # from their table, not the log


def counts(changes: Iterable[Change]) -> dict[str, int]:
    found = list(changes)
    return {
        "versions_registered": sum(c.action == "registered" for c in found),
        "alias_changes": sum(c.kind == "alias" for c in found),
        "stage_changes": sum(c.kind == "stage" for c in found),
        "transition_requests": sum(c.kind == "request" and c.action == "requested" for c in found),
    }


def summary(report: Report) -> dict[str, int]:
    return {"models": len(report.models), "events": sum(m.events for m in report.models),
            **counts(c for m in report.models for c in m.changes),
            "permission_changes": len(report.permission_changes),
            "catalog_and_schema_changes": len(report.securable_changes),
            "denied_attempts": len(report.denied_attempts), "actors": len(report.actors)}


@dataclass
class _Model:
    """One model's running state and what has been recorded of it so far."""

    id: str
    name: str = ""
    names: list[str] = field(default_factory=list)
    alive: bool = False
    seen_alive: bool = False  # alive at some point in the window
    tags: dict[str, str] = field(default_factory=dict)
    version_tags: dict[int, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    # The events that begin or end alias and stage periods (projections/alias_history.py).
    history: list[RecordedEvent] = field(default_factory=list)
    open_requests: dict[tuple[int, str], RequestRecord] = field(default_factory=dict)
    events: int = 0
    actors: set[str] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    versions: dict[int, VersionRecord] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    acl: Acl | None = None  # owner and grants, as of the last event fed
    permissions: list[PermissionChange] = field(default_factory=list)


class ReportBuilder:
    """Feed events in log order with `add`, then take the `report`."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self.models: dict[str, _Model] = {}
        self.namespaces = Namespaces(window.object, window.since_position)

    def add(self, e: RecordedEvent) -> None:
        if e.position > self.window.until_position:
            return
        if not streams.is_model(e.stream_id):
            self.namespaces.add(e, parse_event(e.type, e.schema_version, e.data))
            return
        m = self.models.setdefault(e.stream_id, _Model(streams.parse(e.stream_id).key))
        inside = e.position >= self.window.since_position
        if inside and m.alive and not m.seen_alive:  # the window opens on a live model
            m.seen_alive = True
            m.names.append(m.name)
        d = parse_event(e.type, e.schema_version, e.data)
        log = _Log(self.window, m, e) if inside else None
        if inside:
            m.permissions += permission_changes(e, d, m.acl)
        m.acl = evolve(m.acl, d)
        _apply(m, d, e, log)
        if e.type in alias_history.TYPES:
            m.history.append(e)
        if inside:
            m.events += 1
            m.actors.add(e.actor)

    def report(self, last_hash: str | None = None) -> Report:
        w = self.window
        sections, access, permissions = [], [], list(self.namespaces.permissions)
        actors: set[str] = set(self.namespaces.actors)
        admins = self.namespaces.admins
        for m in self.models.values():
            if m.alive and not m.seen_alive:  # alive all through the window, no event in it
                m.seen_alive = True
                m.names.append(m.name)
            if not m.seen_alive or not any(within(n, w.object) for n in m.names):
                continue
            # Periods that ended before the window are not its concern.
            periods = [p for p in fold(m.history)
                       if p.valid_to_position is None or p.valid_to_position >= w.since_position]
            requests = [*m.requests, *m.open_requests.values()]
            sections.append(ModelSection(
                m.id, m.name, tuple(m.names), m.events, tuple(m.changes),
                tuple(sorted(m.versions.values(), key=lambda v: v.version)),
                tuple(sorted(requests, key=lambda r: r.requested_at)),
                tuple(chart.lanes(periods, w.until, since=w.since))))
            actors |= m.actors
            permissions += m.permissions
            chain = None if m.acl is None else self.namespaces.chain(m.name, m.acl)
            if chain is not None:
                access.append(model_access(m.id, m.name, chain, admins))
        sections.sort(key=lambda s: (s.full_name, s.model_id))
        access.sort(key=lambda a: (a.full_name, a.model_id))
        return Report(w, tuple(sections), tuple(sorted(actors)), last_hash,
                      tuple(sorted(permissions, key=lambda p: p.position)),
                      tuple(self.namespaces.changes), tuple(access))


@dataclass
class _Log:
    """Records a window event's changes on its model."""

    window: Window
    model: _Model
    event: RecordedEvent

    def __call__(self, kind: str, action: str, **fields: Any) -> None:
        e = self.event
        self.model.changes.append(Change(e.position, e.recorded_at, e.actor,
                                         e.metadata.get("request_id"), kind, action, **fields))


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _apply(m: _Model, d: Event, e: RecordedEvent, log: _Log | None) -> None:
    """Fold `d` into `m`; `log` records it when the event is inside the window."""
    at, by = e.recorded_at, e.actor
    note = log or (lambda *a, **k: None)
    match d:
        case ev.ModelCreated() | ev.ModelRenamed():
            before, m.name, m.alive = m.name, d.full_name, True
            if log is not None:
                m.seen_alive = True
                m.names.append(d.full_name)
            if isinstance(d, ev.ModelCreated):
                m.tags = dict(d.tags)
                note("model", "created", after=d.full_name, detail=d.description)
                for key, value in sorted(d.tags.items()):
                    note("tag", "set", subject=key, after=value)
            else:
                note("model", "renamed", before=before, after=d.full_name)
        case ev.ModelDescriptionUpdated():
            note("model", "description updated", after=d.description)
        case ev.ModelTagSet():
            note("tag", "set", subject=d.key, before=m.tags.get(d.key), after=d.value)
            m.tags[d.key] = d.value
        case ev.ModelTagDeleted():
            note("tag", "deleted", subject=d.key, before=m.tags.pop(d.key, None))
        case ev.ModelDeleted():
            note("model", "deleted", before=m.name)
            m.alive = False
        case ev.VersionRegistered():
            m.version_tags[d.version] = dict(d.tags)
            if log is not None:
                m.versions[d.version] = VersionRecord(d.version, by, at, d.source, d.run_id,
                                                      "PENDING_REGISTRATION")
            note("version", "registered", version=d.version, after=d.source,
                 detail=None if d.run_id is None else f"run {d.run_id}")
            for key, value in sorted(d.tags.items()):
                note("tag", "set", version=d.version, subject=key, after=value)
        case ev.VersionReady() | ev.VersionFailed():
            status = "READY" if isinstance(d, ev.VersionReady) else "FAILED_REGISTRATION"
            _status(m, d.version, status)
            note("version", status.lower(), version=d.version,
                 detail=getattr(d, "status_message", None))
        case ev.VersionDescriptionUpdated():
            note("version", "description updated", version=d.version, after=d.description)
        case ev.VersionTagSet():
            tags = m.version_tags[d.version]
            note("tag", "set", version=d.version, subject=d.key, before=tags.get(d.key),
                 after=d.value)
            tags[d.key] = d.value
        case ev.VersionTagDeleted():
            note("tag", "deleted", version=d.version, subject=d.key,
                 before=m.version_tags[d.version].pop(d.key, None))
        case ev.VersionDeleted():
            _status(m, d.version, "DELETED")
            note("version", "deleted", version=d.version)
        case ev.VersionStageTransitioned():
            note("stage", "transitioned", version=d.version, before=d.previous_stage,
                 after=d.stage)
        case ev.StageTransitionRequested():
            m.open_requests[(d.version, d.stage)] = RequestRecord(d.version, d.stage, by, at,
                                                                  d.comment)
            note("request", "requested", version=d.version, subject=d.stage, detail=d.comment)
        case ev.StageTransitionApproved() | ev.StageTransitionRejected() | \
                ev.StageTransitionCancelled():
            outcome = {ev.StageTransitionApproved: "approved", ev.StageTransitionRejected:
                       "rejected", ev.StageTransitionCancelled: "cancelled"}[type(d)]
            opened = m.open_requests.pop((d.version, d.stage), None)
            if log is not None and opened is not None:
                m.requests.append(RequestRecord(
                    d.version, d.stage, opened.requested_by, opened.requested_at, opened.comment,
                    outcome, by, at, d.comment))
            note("request", outcome, version=d.version, subject=d.stage, detail=d.comment)
        case ev.AliasSet():
            note("alias", "set" if d.previous_version is None else "moved", subject=d.alias,
                 before=_str(d.previous_version), after=str(d.version))
        case ev.AliasDeleted():
            note("alias", "deleted", subject=d.alias, before=str(d.version))


def _status(m: _Model, version: int, status: str) -> None:
    if version in m.versions:
        r = m.versions[version]
        m.versions[version] = VersionRecord(r.version, r.registered_by, r.registered_at,
                                            r.source, r.run_id, status)
