"""Command handling: load the model's state, decide, append, all inside one write batch.

The writer runs `execute`'s job under the log's writer lock, against `RegistryWriteModel`, the
domain fold kept in memory and in step with the log. Version numbers are decided there, so
concurrent registrations on one model never conflict and never retry.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from registry.domain import authority, cascade, decide, renames, stream_of, streams
from registry.domain import commands as c
from registry.domain import models as m
from registry.domain.errors import AlreadyExists, InvalidArgument
from registry.domain.events import Event, VersionRegistered
from registry.domain.lookups import lookups
from registry.domain.principals import ADMIN, Principal
from registry.eventstore import EventStore, NewEvent, RecordedEvent, Tx
from registry.eventstore.domain_events import domain_event, stamp
from registry.service.write_model import RegistryWriteModel

DEFAULT_CATALOG = "unity"
DEFAULT_SCHEMA = "default"


@dataclass(frozen=True)
class Outcome:
    stream_id: str
    events: list[RecordedEvent]
    # The model as the command left it (model commands): what was committed, so a response
    # needs no read back.
    model: m.Model | None = None

    @property
    def registered(self) -> int | None:
        """The number of the version these events registered, if they registered one."""
        for e in self.events:
            if isinstance(event := domain_event(e), VersionRegistered):
                return event.version
        return None

    @property
    def version(self) -> int:
        """The number a RegisterVersion gave the new version."""
        if (number := self.registered) is None:
            raise ValueError(f"no version was registered on {self.stream_id}")
        return number


def _fingerprint(cmd: c.Command) -> str:
    """What the request asked for: the command without the ids the server made up for it."""
    made_up = {name for name, f in type(cmd).model_fields.items()
               if f.default_factory is not None and name not in cmd.model_fields_set}
    return hashlib.sha256(cmd.model_dump_json(exclude=made_up).encode()).hexdigest()[:32]


async def _repeat(earlier: list[RecordedEvent], request: str | None, key: str,
                  wm: RegistryWriteModel, tx: Tx) -> Outcome:
    """The outcome of a command sent again under its idempotency key: what it appended then."""
    if earlier[0].metadata.get("request") != request:
        raise InvalidArgument(f"Idempotency-Key {key!r} was used for a different request",
                              field="Idempotency-Key")
    stream = earlier[0].stream_id
    if not streams.is_model(stream):
        return Outcome(stream, earlier)
    # The version it registered then may be one a restored model does not hold yet.
    await wm.ensure_loaded(tx, stream, Outcome(stream, earlier).registered)
    return Outcome(stream, earlier, wm.model(stream))


def _new(e: Event) -> NewEvent:
    return NewEvent(e.type_name(), e.payload(), e.schema_version, e)


class RegistryService:
    def __init__(self, store: EventStore, write_model: RegistryWriteModel,
                 workspace: str | None = None) -> None:
        self.store = store
        self.write_model = write_model
        self.workspace = workspace  # MLflow's workspace schema, which may not be renamed

    async def execute(self, cmd: c.Command, actor: Principal | str,
                      idempotency_key: str | None = None, **metadata: Any) -> Outcome:
        """Decide `cmd` against the current state and append its events; raises a DomainError
        (and appends nothing) if the command cannot be carried out. A principal's privileges are
        checked here, in the writer, against the same state the command is decided on: a grant
        or revoke committed before, by this process or another, always counts. (A bare name is
        the server's own doing, e.g. its bootstrap, and is not checked.)

        With an idempotency key, a command the same principal already sent under that key is
        not carried out again: its outcome is the events it appended then. The check runs in
        the writer, so two copies racing each other append once."""
        wm = self.write_model
        principal = actor if isinstance(actor, Principal) else None
        name = actor.name if isinstance(actor, Principal) else actor
        request = _fingerprint(cmd) if idempotency_key is not None else None

        async def job(tx: Tx) -> Outcome:
            needed = lookups(cmd)
            await wm.know(tx.conn, needed.names)
            for prefix in needed.prefixes:
                await wm.know_under(tx.conn, prefix)
            if principal is not None:
                authority.check(principal, cmd, wm.state)
            renames.keep_workspace(cmd, self.workspace)
            if idempotency_key is not None:
                earlier = await tx.earlier(name, idempotency_key, type(cmd).__name__)
                if earlier:
                    return await _repeat(earlier, request, idempotency_key, wm, tx)
            meta = {"actor": name, "command": type(cmd).__name__,
                    **{k: v for k, v in metadata.items() if v is not None}}
            if idempotency_key is not None:
                meta |= {"idempotency_key": idempotency_key, "request": request}
            # A forced delete takes what is inside with it, and a rename carries it along, in
            # the same transaction: a refusal of any part appends nothing at all.
            for inner in cascade.contents(cmd, wm.state):
                await self._apply(tx, inner, name, meta)
            outcome = await self._apply(tx, cmd, name, meta)
            if outcome.events:
                for stream, event in renames.followers(cmd, wm.state):
                    await tx.append(stream, await tx.version(stream), [_new(event)], meta)
            return outcome

        return await self.store.transact(job)

    async def _apply(self, tx: Tx, cmd: c.Command, actor: str, meta: dict[str, Any]) -> Outcome:
        """Decide one command against the write model and append its events."""
        wm = self.write_model
        stream = stream_of(cmd, wm.state) or ""
        if streams.is_model(stream) and not isinstance(cmd, c.CreateModel):
            await wm.ensure_loaded(tx, stream, m.needs(cmd))
        stream, events = decide(cmd, wm.state, actor)
        before = wm.model(stream)
        if not events:
            return Outcome(stream, [], before)
        new = [_new(e) for e in events]
        recorded = await tx.append(stream, await tx.version(stream), new, meta)
        after = before
        if streams.is_model(stream):
            for e in recorded:
                after = m.evolve(after, e.event, stamp(e))
        return Outcome(stream, recorded, after)

    async def bootstrap(self) -> None:
        """The catalog `unity` and schema `unity.default` exist from the first start."""
        for cmd in (c.CreateCatalog(name=DEFAULT_CATALOG, comment="Default catalog"),
                    c.CreateSchema(catalog_name=DEFAULT_CATALOG, name=DEFAULT_SCHEMA,
                                   comment="Default schema")):
            try:
                await self.execute(cmd, ADMIN, request_id="bootstrap")
            except AlreadyExists:
                pass
