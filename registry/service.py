"""Command handling: load the model's state, decide, append, all inside one write batch.

The writer runs `execute`'s job under the log's writer lock, against `RegistryWriteModel`, the
domain fold kept in memory and in step with the log. Version numbers are decided there, so
concurrent registrations on one model never conflict and never retry.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from .domain import Event, RegistryState, Stamp, authority, decide, parse_event, stream_of
from .domain import commands as c
from .domain import models as m
from .domain.catalogs import Catalog
from .domain.catalogs import stream_id as catalog_stream
from .domain.errors import AlreadyExists
from .domain.principals import Principal
from .domain.privileges import Acl, Privilege
from .domain.schemas import Schema
from .domain.schemas import stream_id as schema_stream
from .eventstore import EventStore, NewEvent, RecordedEvent, Tx

log = structlog.get_logger(__name__)

ADMIN = "admin"  # the server's own principal: owns the bootstrap catalog and schema
DEFAULT_CATALOG = "unity"
DEFAULT_SCHEMA = "default"
# Loaded model aggregates kept in memory; past this the oldest are dropped and reloaded on demand.
MODEL_CACHE_SIZE = 20_000


def domain_event(e: RecordedEvent) -> Event:
    """The recorded event as a domain event (upcast to the current shape), parsed once."""
    return e.event if e.event is not None else parse_event(e.type, e.schema_version, e.data)


def fold_model(events: Sequence[RecordedEvent]) -> m.Model | None:
    state = None
    for e in events:
        state = m.evolve(state, domain_event(e), stamp(e))
    return state


def stamp(e: RecordedEvent) -> Stamp:
    return Stamp(at=e.recorded_at, actor=e.actor)


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
            state.catalogs[r["name"]] = Catalog(
                r["id"], r["name"], r["comment"], r["owner"], r["created_at"], r["created_by"],
                r["updated_at"], r["updated_by"])
        for r in await conn.fetch("SELECT * FROM schemas"):
            state.schemas[(r["catalog_name"], r["name"])] = Schema(
                r["id"], r["catalog_name"], r["name"], r["comment"], r["owner"], r["created_at"],
                r["created_by"], r["updated_at"], r["updated_by"])
            state.schema_counts[r["catalog_name"]] += 1
        for r in await conn.fetch(
                "SELECT id, full_name, catalog_name, schema_name, owner FROM registered_models"):
            state.model_ids[r["full_name"]] = r["id"]
            state.model_names[r["id"]] = r["full_name"]
            state.model_counts[(r["catalog_name"], r["schema_name"])] += 1
            state.acls[m.stream_id(r["id"])] = Acl(r["owner"])
        for cat in state.catalogs.values():
            state.acls[catalog_stream(cat.name)] = Acl(cat.owner)
        for sc in state.schemas.values():
            state.acls[schema_stream(sc.catalog_name, sc.name)] = Acl(sc.owner)
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
        if not stream.startswith("model:"):
            return None
        return self.state.models.get(UUID(stream.partition(":")[2]))

    async def ensure_loaded(self, tx: Tx, stream: str) -> None:
        """Load a model aggregate from its stream before a command is decided on it."""
        model_id = UUID(stream.partition(":")[2])
        if model_id in self.state.models:
            return
        models = self.state.models
        if len(models) >= MODEL_CACHE_SIZE:
            for key in list(models)[: MODEL_CACHE_SIZE // 10]:
                del models[key]
        model = fold_model(await tx.read_stream(stream))
        if model is not None:
            models[model_id] = model


@dataclass(frozen=True)
class Outcome:
    stream_id: str
    events: list[RecordedEvent]
    # The model as the command left it (model commands): what was committed, so a response
    # needs no read back.
    model: m.Model | None = None


class RegistryService:
    def __init__(self, store: EventStore, write_model: RegistryWriteModel) -> None:
        self.store = store
        self.write_model = write_model

    async def execute(self, cmd: c.Command, actor: Principal | str, **metadata: Any) -> Outcome:
        """Decide `cmd` against the current state and append its events; raises a DomainError
        (and appends nothing) if the command cannot be carried out. A principal's privileges are
        checked here, in the writer, against the same state the command is decided on: a grant
        or revoke committed before, by this process or another, always counts. (A bare name is
        the server's own doing, e.g. its bootstrap, and is not checked.)"""
        wm = self.write_model
        principal = actor if isinstance(actor, Principal) else None
        name = actor.name if isinstance(actor, Principal) else actor

        async def job(tx: Tx) -> Outcome:
            if principal is not None:
                authority.check(principal, cmd, wm.state)
            stream = stream_of(cmd, wm.state) or ""
            if stream.startswith("model:") and not isinstance(cmd, c.CreateModel):
                await wm.ensure_loaded(tx, stream)
            stream, events = decide(cmd, wm.state, name)
            before = wm.model(stream)
            if not events:
                return Outcome(stream, [], before)
            new = [NewEvent(e.type_name(), e.payload(), e.schema_version, e) for e in events]
            meta = {"actor": name, "command": type(cmd).__name__,
                    **{k: v for k, v in metadata.items() if v is not None}}
            recorded = await tx.append(stream, await tx.version(stream), new, meta)
            after = before
            if stream.startswith("model:"):
                for e in recorded:
                    after = m.evolve(after, e.event, stamp(e))
            return Outcome(stream, recorded, after)

        return await self.store.transact(job)

    async def bootstrap(self) -> None:
        """The catalog `unity` and schema `unity.default` exist from the first start."""
        for cmd in (c.CreateCatalog(name=DEFAULT_CATALOG, comment="Default catalog"),
                    c.CreateSchema(catalog_name=DEFAULT_CATALOG, name=DEFAULT_SCHEMA,
                                   comment="Default schema")):
            try:
                await self.execute(cmd, ADMIN, request_id="bootstrap")
            except AlreadyExists:
                pass
