"""The registry's events: explicit, versioned pydantic models. Once written, never changed.

A payload's shape is identified by (type, schema_version). When a type's shape changes, bump
`schema_version` and register an upcaster from the old version; `parse_event` applies the chain,
so every reader (API, replay, projections) sees the current shape.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from registry.domain.errors import InvalidArgument


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


EVENT_TYPES: dict[str, type[Event]] = {}
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def event(cls: type[Event]) -> type[Event]:
    EVENT_TYPES[cls.__name__] = cls
    return cls


def upcaster(type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning a `from_version` payload into the `from_version + 1` shape."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(type_name, from_version)] = fn
        return fn

    return register


def parse_event(type_name: str, schema_version: int, data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise InvalidArgument(f"unknown event type {type_name!r}")
    while schema_version < cls.schema_version:
        upcast = UPCASTERS.get((type_name, schema_version))
        if upcast is None:  # a shape change without its upcaster: a bug, not bad input
            raise LookupError(f"no upcaster for {type_name} schema version {schema_version}")
        data = upcast(data)
        schema_version += 1
    return cls.model_validate(data)


# --- catalogs and schemas -------------------------------------------------------------------


@event
class CatalogCreated(Event):
    schema_version: ClassVar[int] = 2  # 2: properties
    catalog_id: UUID
    name: str
    comment: str | None = None
    owner: str
    properties: dict[str, str] = {}


@event
class CatalogUpdated(Event):
    """The catalog's comment and properties after the update (both, whichever changed)."""

    schema_version: ClassVar[int] = 2  # 2: properties
    name: str
    comment: str | None = None
    properties: dict[str, str] = {}


@event
class CatalogRenamed(Event):
    from_name: str
    name: str


@event
class CatalogDeleted(Event):
    name: str


@event
class SchemaCreated(Event):
    schema_version: ClassVar[int] = 2  # 2: properties
    schema_id: UUID
    catalog_name: str
    name: str
    comment: str | None = None
    owner: str
    properties: dict[str, str] = {}


@event
class SchemaUpdated(Event):
    """The schema's comment and properties after the update (both, whichever changed)."""

    schema_version: ClassVar[int] = 2  # 2: properties
    catalog_name: str
    name: str
    comment: str | None = None
    properties: dict[str, str] = {}


def _without_properties(data: dict[str, Any]) -> dict[str, Any]:
    # Before version 2 there were no properties: every catalog and schema had none.
    return {**data, "properties": {}}


for _type in ("CatalogCreated", "CatalogUpdated", "SchemaCreated", "SchemaUpdated"):
    upcaster(_type, 1)(_without_properties)


@event
class SchemaRenamed(Event):
    """A schema's new full name: its own rename, or its catalog's (then `name` is unchanged)."""

    from_full_name: str
    catalog_name: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.name}"


@event
class SchemaDeleted(Event):
    catalog_name: str
    name: str


# --- registered models ----------------------------------------------------------------------


@event
class ModelCreated(Event):
    model_id: UUID
    catalog_name: str
    schema_name: str
    name: str
    description: str | None = None
    owner: str
    tags: dict[str, str] = {}

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.schema_name}.{self.name}"


@event
class ModelRenamed(Event):
    from_full_name: str
    catalog_name: str
    schema_name: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.schema_name}.{self.name}"


@event
class ModelDescriptionUpdated(Event):
    description: str | None = None


@event
class ModelTagSet(Event):
    key: str
    value: str


@event
class ModelTagDeleted(Event):
    key: str


@event
class ModelDeleted(Event):
    full_name: str


# --- model versions -------------------------------------------------------------------------


@event
class VersionRegistered(Event):
    version: int
    source: str
    run_id: str | None = None
    run_link: str | None = None
    logged_model_id: str | None = None
    description: str | None = None
    storage_location: str | None = None
    tags: dict[str, str] = {}


@event
class VersionReady(Event):
    version: int


@event
class VersionFailed(Event):
    version: int
    status_message: str | None = None


@event
class VersionDescriptionUpdated(Event):
    version: int
    description: str | None = None


@event
class VersionTagSet(Event):
    version: int
    key: str
    value: str


@event
class VersionTagDeleted(Event):
    version: int
    key: str


@event
class VersionDeleted(Event):
    version: int


@event
class VersionStageTransitioned(Event):
    version: int
    stage: str
    previous_stage: str


@event
class StageTransitionRequested(Event):
    version: int
    stage: str
    comment: str | None = None


@event
class StageTransitionApproved(Event):
    version: int
    stage: str
    comment: str | None = None
    archive_existing_versions: bool = False


@event
class StageTransitionRejected(Event):
    version: int
    stage: str
    comment: str | None = None


@event
class StageTransitionCancelled(Event):
    version: int
    stage: str
    comment: str | None = None


# --- aliases ---------------------------------------------------------------------------------


@event
class AliasSet(Event):
    alias: str
    version: int
    previous_version: int | None = None


@event
class AliasDeleted(Event):
    alias: str
    version: int


# --- webhooks (stream 'webhook:<id>') ----------------------------------------------------------
# The signing secret itself stays out of the log (table webhook_secrets): events name it by id.


@event
class WebhookCreated(Event):
    webhook_id: UUID
    url: str
    events: list[str]
    description: str | None = None
    active: bool = True
    secret_id: UUID
    # Optional, so that the events written before them read as they did: which API registered
    # the webhook, and so which events, payloads and headers it gets. 'mlflow': MLflow's webhooks
    # API, its events named 'entity.action', with MLflow's `name` for the webhook and the
    # `workspace` schema whose models it watches (the server's default schema then).
    flavor: Literal["modelog", "mlflow"] = "modelog"
    name: str | None = None
    workspace: str | None = None


@event
class WebhookUpdated(Event):
    """Only the fields given changed."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    active: bool | None = None
    secret_id: UUID | None = None
    name: str | None = None


@event
class WebhookDeleted(Event):
    webhook_id: UUID


# --- principals and tokens (streams 'principal:<name>', 'token:<id>') --------------------------
# Who could act, from when to when. A token's secret and its hash stay out of the log (table
# auth_tokens): the log is streamed to subscribers and can never be withdrawn from.


@event
class PrincipalCreated(Event):
    name: str
    admin: bool = False


@event
class PrincipalAdminSet(Event):
    admin: bool


@event
class TokenIssued(Event):
    token_id: str
    principal: str
    expires_at: datetime | None = None


@event
class TokenRevoked(Event):
    token_id: str


# --- privileges (on the securable's own stream: 'catalog:<id>', 'schema:<id>', 'model:<id>'; a
# catalog or schema created before renames existed keeps its 'catalog:<name>' or 'schema:<c>.<s>')
# Grants belong to the object, not to its name: they follow it through renames and end with it,
# so a new object under an old name starts with no grants.


class PrivilegeChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    principal: str
    add: list[str] = []
    remove: list[str] = []


@event
class PrivilegesChanged(Event):
    """Only what changed: privileges added that were not held, removed that were."""

    securable_type: str
    full_name: str
    changes: list[PrivilegeChange]


@event
class OwnerChanged(Event):
    securable_type: str
    full_name: str
    owner: str
    previous_owner: str


# --- who and when -----------------------------------------------------------------------------


class Stamp(BaseModel):
    """Who recorded an event and when (the server's clock): what `evolve` needs beside the event."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
