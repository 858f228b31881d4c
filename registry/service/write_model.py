"""The write model: the domain fold the writer keeps in memory and in step with the log, loaded
from the read models at start and folded forward as events commit."""

from collections.abc import Hashable, Sequence
from types import MappingProxyType

import asyncpg

from registry.domain import RegistryState, streams
from registry.domain import models as m
from registry.domain.catalogs import Catalog
from registry.domain.privileges import Acl, Privilege
from registry.domain.schemas import Schema
from registry.eventstore import RecordedEvent, Tx
from registry.eventstore.domain_events import domain_event, fold_model, stamp

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

    def reset(self) -> None:
        self.state = RegistryState()
        self.decisions.clear()
        self.loaded = False

    def model(self, stream: str) -> m.Model | None:
        """The loaded model aggregate of a model stream, if that is what `stream` is."""
        model_id = streams.model_id(stream)
        return None if model_id is None else self.state.models.get(model_id)

    async def ensure_loaded(self, tx: Tx, stream: str) -> None:
        """Load a model aggregate from its stream before a command is decided on it."""
        model_id = streams.model_id(stream)
        if model_id is None or model_id in self.state.models:
            return
        models = self.state.models
        if len(models) >= MODEL_CACHE_SIZE:
            for key in list(models)[: MODEL_CACHE_SIZE // 10]:
                del models[key]
        model = fold_model(await tx.read_stream(stream))
        if model is not None:
            models[model_id] = model
