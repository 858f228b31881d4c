"""The write model: the domain fold the writer keeps in memory and in step with the log, loaded
from the read models at start and folded forward as events commit.

A model is loaded on demand from its latest snapshot and the events after it, and a version of it
from that version's own events, so neither costs more with a longer history. A snapshot is taken
as the event at a snapshot point is folded in, and written with that event's batch (`plan`).
"""

from collections.abc import Hashable, Sequence
from types import MappingProxyType

import asyncpg

from registry.domain import RegistryState, snapshots, streams
from registry.domain import models as m
from registry.domain.catalogs import Catalog
from registry.domain.privileges import Acl, Privilege
from registry.domain.schemas import Schema
from registry.eventstore import RecordedEvent, Tx
from registry.eventstore import model_folds as folds
from registry.eventstore.domain_events import domain_event, stamp
from registry.eventstore.statements import Group

# Loaded model aggregates kept in memory; past this the oldest are dropped and reloaded on demand.
MODEL_CACHE_SIZE = 20_000


class RegistryWriteModel:
    """The domain fold the writer keeps current (see eventstore.writer.WriteModel)."""

    def __init__(self) -> None:
        self.state = RegistryState()
        # False from a reset (the writer lost step with the log) until the next load: an empty
        # state would show no object, so privilege checks must not trust it meanwhile.
        self.loaded = False
        # Privilege checks of reads decided on this state, kept until it changes: a read checked
        # afresh walks the ACL chain, a quarter of a cached read's CPU.
        self.decisions: dict[Hashable, bool | None] = {}
        # Of each loaded model's stream: the (stream version, position) folded up to.
        self._folded: dict[str, tuple[int, int]] = {}
        self._snapshots: list[tuple] = []  # taken since the last batch was planned

    async def load(self, conn: asyncpg.Connection) -> None:
        state = RegistryState()
        for r in await conn.fetch("SELECT * FROM catalogs"):
            state.add_catalog(r["stream_id"], Catalog(
                r["id"], r["name"], r["comment"], r["owner"], r["created_at"], r["created_by"],
                r["updated_at"], r["updated_by"], r["properties"]))
            state.acls[r["stream_id"]] = Acl(r["owner"])
        for r in await conn.fetch("SELECT * FROM schemas"):
            state.add_schema(r["stream_id"], Schema(
                r["id"], r["catalog_name"], r["name"], r["comment"], r["owner"], r["created_at"],
                r["created_by"], r["updated_at"], r["updated_by"], r["properties"]))
            state.acls[r["stream_id"]] = Acl(r["owner"])
        for r in await conn.fetch(
                "SELECT id, full_name, catalog_name, schema_name, owner FROM registered_models"):
            state.model_ids[r["full_name"]] = r["id"]
            state.model_names[r["id"]] = r["full_name"]
            state.model_counts[(r["catalog_name"], r["schema_name"])] += 1
            state.acls[m.stream_id(r["id"])] = Acl(r["owner"])
        held: dict[str, dict[str, set[Privilege]]] = {}
        for r in await conn.fetch("SELECT stream_id, principal, privilege FROM grants"):
            held.setdefault(r["stream_id"], {}).setdefault(r["principal"], set()).add(
                Privilege(r["privilege"]))
        for stream, grants in held.items():
            state.acls[stream] = Acl(state.acls[stream].owner,
                                     MappingProxyType({p: frozenset(v) for p, v in grants.items()}))
        self.state = state
        self.decisions.clear()
        self.loaded = True

    def observe(self, events: Sequence[RecordedEvent]) -> None:
        if events:
            self.decisions.clear()
        for e in events:
            self.state.apply(e.stream_id, domain_event(e), stamp(e))
            if e.stream_id in self._folded or self.model(e.stream_id) is not None:
                self._folded[e.stream_id] = (e.stream_version, e.position)
                if snapshots.due(e.stream_version - 1, e.stream_version):
                    self._snapshot(e.stream_id)

    def _snapshot(self, stream: str) -> None:
        model = self.model(stream)
        if model is not None:
            self._snapshots.append(folds.snapshot_row(
                stream, *self._folded[stream], model.shell(), self.state.acls.get(stream)))

    def plan(self) -> list[Group]:
        """The snapshots taken while the batch was decided, to commit with its events."""
        group = Group(folds.SNAPSHOTS)
        for row in self._snapshots:
            group.add(row)
        self._snapshots.clear()
        return [group] if group.rows else []

    def reset(self) -> None:
        self.state = RegistryState()
        self.decisions.clear()
        self._folded.clear()
        self._snapshots.clear()
        self.loaded = False

    def model(self, stream: str) -> m.Model | None:
        """The loaded model aggregate of a model stream, if that is what `stream` is."""
        model_id = streams.model_id(stream)
        return None if model_id is None else self.state.models.get(model_id)

    async def ensure_loaded(self, tx: Tx, stream: str, version: int | None = None) -> None:
        """Load a model aggregate (and `version` of it) before a command is decided on it."""
        model_id = streams.model_id(stream)
        if model_id is None:
            return
        models = self.state.models
        if model_id not in models:
            if len(models) >= MODEL_CACHE_SIZE:
                for key in list(models)[: MODEL_CACHE_SIZE // 10]:
                    del models[key]
                    self._folded.pop(m.stream_id(key), None)
            restored = await folds.restore(tx.conn, stream, pending=_of(tx, stream))
            if restored.model is None:
                return
            models[model_id] = restored.model
            self._folded[stream] = (restored.stream_version, restored.position)
            if restored.folded > snapshots.EVERY:  # no snapshot yet (e.g. an older database)
                self._snapshot(stream)
        model = models[model_id]
        if version is not None and not model.holds(version):
            found = await folds.versions(tx.conn, stream, [version], pending=_of(tx, stream))
            models[model_id] = model.holding(version, found[version])


def _of(tx: Tx, stream: str) -> list[RecordedEvent]:
    """This batch's events of `stream`, not yet committed."""
    return [e for e in tx.pending if e.stream_id == stream]
