"""The write model: the domain fold the writer keeps in memory and in step with the log.

Catalogs and schemas (few) are loaded whole at start. Models are not: their index entries (name,
identity, ACL) are looked up in the read models when a command or a read check names them
(`know`, `know_under`), and their aggregates are restored when a command is decided on them
(`ensure_loaded`): a model from its latest snapshot and the events after it, a version of it from
that version's own events, so neither costs more with a longer history, and start-up does not
cost more with more models. A snapshot is taken as the event at a snapshot point is folded in, and
written with that event's batch (`plan`).

What is held is bounded in bytes (`budget`, estimated per entry): past it, once a batch has
committed (nothing pending then), the oldest entries and aggregates are dropped, to be looked up
again when next needed.

A lookup runs while the writer goes on (a read's, on the pool). Its answer is the committed state
when it ran; it is kept only for entries that are still not held and that no event observed since
it began has touched (`_touched`), so it never overwrites what the log has moved on from.
"""

import asyncio
from collections.abc import Collection, Hashable, Iterable, Sequence
from types import MappingProxyType
from uuid import UUID

import asyncpg

from registry.domain import RegistryState, snapshots, streams
from registry.domain import events as ev
from registry.domain import models as m
from registry.domain.catalogs import Catalog
from registry.domain.errors import Unavailable
from registry.domain.privileges import Acl, Privilege
from registry.domain.schemas import Schema
from registry.domain.state import METASTORE_STREAM
from registry.eventstore import RecordedEvent, Tx
from registry.eventstore import model_folds as folds
from registry.eventstore.domain_events import domain_event, stamp
from registry.eventstore.statements import Group

Db = asyncpg.Connection | asyncpg.Pool
DEFAULT_BUDGET = 256 << 20
# Estimated bytes held, as tracemalloc measures them (with room for names longer, and tags and
# grants more, than measured): an index entry (name, id and ACL: 540), a name known to be free
# (190), a model aggregate without versions (320), a held version (510). bench/memory.py compares
# the sum with the process's growth.
ENTRY_BYTES, FREE_BYTES, MODEL_BYTES, VERSION_BYTES = 700, 250, 600, 600
DECISION_BYTES = 250  # a read check remembered: (principal, securable) -> verdict
_TOUCHED_LIMIT = 50_000  # keys remembered as touched before starting afresh
_ATTEMPTS = 4  # lookups of a read, each racing commits that touched what it looked up

_GRANTS = ("coalesce((SELECT array_agg(g.principal || chr(31) || g.privilege) FROM grants g "
           "WHERE g.stream_id = 'model:' || m.id), '{}') AS grants")
_LOOKUP = (f"SELECT m.id, m.full_name, m.owner, {_GRANTS} FROM registered_models m "
           "WHERE m.full_name = ANY($1::text[]) OR m.id = ANY($2::uuid[])")
# Two statements: one with `$2 IS NULL OR ...` would be planned once for both, and badly.
_IN_CATALOG = (f"SELECT m.id, m.full_name, m.owner, {_GRANTS} FROM registered_models m "
               "WHERE m.catalog_name = $1")
_IN_SCHEMA = f"{_IN_CATALOG} AND m.schema_name = $2"


class RegistryWriteModel:
    """The domain fold the writer keeps current (see eventstore.writer.WriteModel)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        # Of `budget`: an eighth for the read checks remembered, an eighth for the writer's
        # cache of stream versions (registry/bootstrap.py), the rest for models held.
        self.budget = budget - budget // 4
        self.max_decisions = max(1_000, budget // 8 // DECISION_BYTES)
        self.state = RegistryState(complete=False)
        # False from a reset (the writer lost step with the log) until the next load: an empty
        # state would show no object, so privilege checks must not trust it meanwhile.
        self.loaded = False
        # Privilege checks of reads decided on this state, kept until it changes: a read checked
        # afresh walks the ACL chain, a quarter of a cached read's CPU.
        self.decisions: dict[Hashable, bool | None] = {}
        # Of each loaded model's stream: the (stream version, position) folded up to.
        self._folded: dict[str, tuple[int, int]] = {}
        self._snapshots: list[tuple] = []  # taken since the last batch was planned
        self._tick = 0  # counts observed batches of events
        self._floor = 0  # lookups begun before this tick keep their answers to themselves
        self._touched: dict[Hashable, int] = {}  # model name, id or stream -> tick last touched
        self._held_versions = 0  # estimated, of the aggregates held
        # Set when lookups outgrew the budget: only the writer may drop what is held, once its
        # batch has committed, so it is asked to run one (registry/service/write_model_sync.py).
        self.over_budget = asyncio.Event()

    async def load(self, conn: asyncpg.Connection) -> None:
        state = RegistryState(complete=False)
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
        held: dict[str, list[tuple[str, str]]] = {}
        for r in await conn.fetch(
                "SELECT g.stream_id, g.principal, g.privilege FROM grants g WHERE g.stream_id = "
                "ANY(SELECT stream_id FROM catalogs UNION ALL SELECT stream_id FROM schemas "
                "UNION ALL SELECT $1)", METASTORE_STREAM):
            held.setdefault(r["stream_id"], []).append((r["principal"], r["privilege"]))
        for stream, pairs in held.items():
            state.acls[stream] = _acl(state.acls[stream].owner, pairs)
        self.state = state
        self.decisions.clear()
        self._forget_lookups()
        self.loaded = True

    async def know(self, db: Db, names: Iterable[str] = (), ids: Iterable[UUID] = ()) -> None:
        """Look up the models named `names` or identified by `ids` that the index does not hold
        yet: then `state` answers for each (held, or known to be no live model's) until the next
        await."""
        names, ids = list(names), list(ids)
        for attempt in range(_ATTEMPTS):
            state = self.state
            names = [n for n in names if n not in state.model_ids and n not in state.free_names]
            ids = [i for i in ids if i not in state.model_names and i not in state.gone_ids]
            if not names and not ids:
                return
            if attempt == _ATTEMPTS - 1:
                break
            began = self._tick
            rows = await db.fetch(_LOOKUP, names, ids)
            self._index(began, rows, names, ids)
            if self.held_bytes() > self.budget:
                self.over_budget.set()
        # Only a read's lookup can lose its answer this way (the writer's own run in its task).
        raise Unavailable("the registry changed under each lookup of these models; retry")

    async def know_under(self, conn: asyncpg.Connection, prefix: str) -> None:
        """Look up every model under `prefix` (`catalog.` or `catalog.schema.`)."""
        catalog, _, schema = prefix.rstrip(".").partition(".")
        began = self._tick
        async with conn.transaction():
            # Planned for its values: a catalog's share of every model varies too much for one
            # plan. (Rare, so planning each time costs nothing much.)
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            rows = await (conn.fetch(_IN_SCHEMA, catalog, schema) if schema
                          else conn.fetch(_IN_CATALOG, catalog))
        self._index(began, rows, (), ())

    def _index(self, began: int, rows: Sequence[asyncpg.Record], names: Collection[str],
               ids: Collection[UUID]) -> None:
        if began < self._floor:
            return  # dropped or reset since: the answer may be older than what was dropped
        state, touched = self.state, self._touched
        found_names, found_ids = set(), set()
        for r in rows:
            name, model_id = r["full_name"], r["id"]
            found_names.add(name)
            found_ids.add(model_id)
            stream = m.stream_id(model_id)
            # Touched at `began` or before: observed before the lookup ran, and committed then
            # (the writer's own pending events touch only entries it holds).
            if max(touched.get(name, -1), touched.get(model_id, -1), touched.get(stream, -1)) \
                    > began or name in state.model_ids or name in state.free_names \
                    or model_id in state.model_names or model_id in state.gone_ids:
                continue  # the log has moved on, or the index holds it exactly already
            state.model_ids[name] = model_id
            state.model_names[model_id] = name
            state.acls[stream] = _acl(r["owner"], (
                held.rpartition(chr(31))[::2] for held in r["grants"]))
        for name in names:
            if name not in found_names and touched.get(name, -1) <= began \
                    and name not in state.model_ids:
                state.free_names.add(name)
        for model_id in ids:
            if model_id not in found_ids and touched.get(model_id, -1) <= began \
                    and model_id not in state.model_names:
                state.gone_ids.add(model_id)

    def committed(self) -> None:
        """Nothing is pending: while over the budget, drop the oldest of what is held, down to
        half the budget (so that shedding is rare)."""
        state = self.state
        self.over_budget.clear()
        if self.held_bytes() <= self.budget:
            return
        self._forget_lookups()  # before: a lookup running now may have read what is dropped
        state.free_names.clear()
        state.gone_ids.clear()
        target = self.budget // 2
        entries = list(state.model_names.items())
        keep = min(len(entries) // 2, target // ENTRY_BYTES)
        for model_id, name in entries[: len(entries) - keep]:
            del state.model_names[model_id]
            state.model_ids.pop(name, None)
            state.acls.pop(m.stream_id(model_id), None)
        models = state.models
        while models and self.held_bytes() > target:
            for model_id in list(models)[: max(1, len(models) // 10)]:
                del models[model_id]
                self._folded.pop(m.stream_id(model_id), None)
            self._held_versions = sum(len(x.versions) for x in models.values())
        self.decisions.clear()

    def held_bytes(self) -> int:
        """What the write model holds, estimated (see ENTRY_BYTES)."""
        state = self.state
        return (len(state.model_names) * ENTRY_BYTES
                + (len(state.free_names) + len(state.gone_ids)) * FREE_BYTES
                + len(state.models) * MODEL_BYTES + self._held_versions * VERSION_BYTES)

    def _forget_lookups(self) -> None:
        self._tick += 1
        self._floor = self._tick
        self._touched.clear()

    def observe(self, events: Sequence[RecordedEvent]) -> None:
        if not events:
            return
        self.decisions.clear()
        self._tick += 1
        touched = self._touched
        if len(touched) > _TOUCHED_LIMIT:
            self._forget_lookups()
        for e in events:
            event = domain_event(e)
            self.state.apply(e.stream_id, event, stamp(e))
            model_id = streams.model_id(e.stream_id)
            if model_id is None:
                continue
            touched[e.stream_id] = touched[model_id] = self._tick
            if isinstance(event, ev.ModelCreated | ev.ModelRenamed | ev.ModelDeleted):
                touched[event.full_name] = self._tick
                if isinstance(event, ev.ModelRenamed):
                    touched[event.from_full_name] = self._tick
            if e.stream_id in self._folded or model_id in self.state.models:
                self._folded[e.stream_id] = (e.stream_version, e.position)
                self._held_versions += isinstance(event, ev.VersionRegistered)
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
        self.state = RegistryState(complete=False)
        self.decisions.clear()
        self._folded.clear()
        self._snapshots.clear()
        self._forget_lookups()
        self._held_versions = 0
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
            restored = await folds.restore(tx.conn, stream, pending=_of(tx, stream))
            if restored.model is None:
                return
            models[model_id] = restored.model
            self._held_versions += len(restored.model.versions)
            self._folded[stream] = (restored.stream_version, restored.position)
            if restored.folded > snapshots.EVERY:  # no snapshot yet (e.g. an older database)
                self._snapshot(stream)
        model = models[model_id]
        if version is not None and not model.holds(version):
            found = await folds.versions(tx.conn, stream, [version], pending=_of(tx, stream))
            models[model_id] = model.holding(version, found[version])
            self._held_versions += 1


def _acl(owner: str, grants: Iterable[tuple[str, str]]) -> Acl:
    """An ACL from the grants table's (principal, privilege) rows."""
    held: dict[str, set[Privilege]] = {}
    for principal, privilege in grants:
        held.setdefault(principal, set()).add(Privilege(privilege))
    return Acl(owner, MappingProxyType({p: frozenset(v) for p, v in held.items()}))


def _of(tx: Tx, stream: str) -> list[RecordedEvent]:
    """This batch's events of `stream`, not yet committed."""
    return [e for e in tx.pending if e.stream_id == stream]
