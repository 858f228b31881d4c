"""A webhook registration as the log tells it: fold (`evolve`) and decisions, pure.

Changes to a registration are events on stream 'webhook:<id>', so who added, repointed or removed
a webhook is in the audit trail like any other change. A webhook speaks Modelog's events
(`flavor` 'modelog', the native API's) or MLflow's ('mlflow', MLflow's webhooks API: its event
names, rules and messages are registry/domain/mlflow_webhooks.py); one mechanism delivers both.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit
from uuid import UUID

from registry.domain import events as ev
from registry.domain import mlflow_webhooks as mlflow
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.webhook_events import WEBHOOK_EVENTS

MAX_URL = 2048
Flavor = Literal["modelog", "mlflow"]


@dataclass(frozen=True)
class Webhook:
    id: UUID
    url: str
    events: tuple[str, ...]
    description: str | None
    active: bool
    secret_id: UUID
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    flavor: Flavor = "modelog"
    name: str | None = None  # MLflow's name for it
    workspace: str | None = None  # the schema whose models an MLflow-flavoured one watches


def stream_id(webhook_id: UUID | str) -> str:
    return f"webhook:{webhook_id}"


def evolve(state: Webhook | None, e: ev.Event, stamp: ev.Stamp) -> Webhook | None:
    match e:
        case ev.WebhookCreated():
            return Webhook(e.webhook_id, e.url, tuple(e.events), e.description, e.active,
                           e.secret_id, stamp.at, stamp.actor, stamp.at, stamp.actor, e.flavor,
                           e.name, e.workspace)
        case ev.WebhookUpdated() if state is not None:
            changed = {k: v for k, v in e.model_dump().items() if v is not None}
            if "events" in changed:
                changed["events"] = tuple(changed["events"])
            return replace(state, **changed, updated_at=stamp.at, updated_by=stamp.actor)
        case ev.WebhookDeleted():
            return None
    return state


def check_url(url: str, flavor: Flavor = "modelog",
              urls: mlflow.UrlPolicy = mlflow.MLFLOW_DEFAULTS) -> str:
    if flavor == "mlflow":
        mlflow.url_host(url, urls)
        return url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise InvalidArgument(f"webhook url must be an absolute http:// or https:// URL, not {url!r}",
                              field="url")
    return url


def check_events(events: list[str], flavor: Flavor = "modelog") -> list[str]:
    if flavor == "mlflow":
        return mlflow.check_events(events)
    unknown = sorted(set(events) - WEBHOOK_EVENTS)
    if not events or unknown:
        raise InvalidArgument("webhook events must be a non-empty list of: "
                              + ", ".join(sorted(WEBHOOK_EVENTS)), field="events", unknown=unknown)
    return list(dict.fromkeys(events))


def check_secret(secret: str | None, flavor: Flavor = "modelog") -> str:
    """Modelog's webhooks sign every delivery; MLflow's only if given a secret (empty: unsigned)."""
    if flavor == "mlflow":
        return secret or ""
    if not secret or not secret.strip():
        raise InvalidArgument("a webhook needs a secret to sign its deliveries", field="secret")
    return secret


def create(webhook_id: UUID, url: str, events: list[str], secret_id: UUID,
           description: str | None = None, active: bool = True, *, flavor: Flavor = "modelog",
           name: str | None = None, workspace: str | None = None,
           urls: mlflow.UrlPolicy = mlflow.MLFLOW_DEFAULTS) -> ev.WebhookCreated:
    if flavor == "mlflow":
        mlflow.check_name(name)
        if not workspace:
            raise InvalidArgument("an MLflow webhook watches the models of a workspace schema",
                                  field="workspace")
    return ev.WebhookCreated(webhook_id=webhook_id, url=check_url(url, flavor, urls),
                             events=check_events(events, flavor), description=description,
                             active=active, secret_id=secret_id, flavor=flavor, name=name,
                             workspace=workspace if flavor == "mlflow" else None)


def update(state: Webhook | None, webhook_id: UUID, *, url: str | None = None,
           events: list[str] | None = None, description: str | None = None,
           active: bool | None = None, secret_id: UUID | None = None, name: str | None = None,
           urls: mlflow.UrlPolicy = mlflow.MLFLOW_DEFAULTS) -> ev.WebhookUpdated | None:
    """The event for the fields that change, or None if none does."""
    current = exists(state, webhook_id)
    flavor = current.flavor
    if name is not None and flavor != "mlflow":
        raise InvalidArgument("only MLflow's webhooks have a name", field="name")
    changes = ev.WebhookUpdated(
        url=None if url is None or url == current.url else check_url(url, flavor, urls),
        events=None if events is None or tuple(events) == current.events
        else check_events(events, flavor),
        description=None if description == current.description else description,
        active=None if active == current.active else active, secret_id=secret_id,
        name=None if name is None or name == current.name else mlflow.check_name(name))
    return changes if changes.model_dump(exclude_none=True) else None


def delete(state: Webhook | None, webhook_id: UUID) -> ev.WebhookDeleted:
    return ev.WebhookDeleted(webhook_id=exists(state, webhook_id).id)


def exists(state: Webhook | None, webhook_id: UUID) -> Webhook:
    if state is None:
        raise NotFound(f"webhook {webhook_id} does not exist", webhook_id=str(webhook_id))
    return state
