"""A webhook registration as the log tells it: fold (`evolve`) and decisions, pure.

Changes to a registration are events on stream 'webhook:<id>', so who added, repointed or removed
a webhook is in the audit trail like any other change.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from registry.domain import events as ev
from registry.domain.errors import InvalidArgument, NotFound
from registry.domain.webhook_events import WEBHOOK_EVENTS

MAX_URL = 2048


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


def stream_id(webhook_id: UUID | str) -> str:
    return f"webhook:{webhook_id}"


def evolve(state: Webhook | None, e: ev.Event, stamp: ev.Stamp) -> Webhook | None:
    match e:
        case ev.WebhookCreated():
            return Webhook(e.webhook_id, e.url, tuple(e.events), e.description, e.active,
                           e.secret_id, stamp.at, stamp.actor, stamp.at, stamp.actor)
        case ev.WebhookUpdated() if state is not None:
            changed = {k: v for k, v in e.model_dump().items() if v is not None}
            if "events" in changed:
                changed["events"] = tuple(changed["events"])
            return replace(state, **changed, updated_at=stamp.at, updated_by=stamp.actor)
        case ev.WebhookDeleted():
            return None
    return state


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise InvalidArgument(f"webhook url must be an absolute http:// or https:// URL, not {url!r}",
                              field="url")
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - WEBHOOK_EVENTS)
    if not events or unknown:
        raise InvalidArgument("webhook events must be a non-empty list of: "
                              + ", ".join(sorted(WEBHOOK_EVENTS)), field="events", unknown=unknown)
    return list(dict.fromkeys(events))


def check_secret(secret: str | None) -> str:
    if not secret or not secret.strip():
        raise InvalidArgument("a webhook needs a secret to sign its deliveries", field="secret")
    return secret


def create(webhook_id: UUID, url: str, events: list[str], secret_id: UUID,
           description: str | None = None, active: bool = True) -> ev.WebhookCreated:
    return ev.WebhookCreated(webhook_id=webhook_id, url=check_url(url), events=check_events(events),
                             description=description, active=active, secret_id=secret_id)


def update(state: Webhook | None, webhook_id: UUID, *, url: str | None = None,
           events: list[str] | None = None, description: str | None = None,
           active: bool | None = None, secret_id: UUID | None = None) -> ev.WebhookUpdated | None:
    """The event for the fields that change, or None if none does."""
    current = exists(state, webhook_id)
    changes = ev.WebhookUpdated(
        url=None if url is None or url == current.url else check_url(url),
        events=None if events is None or tuple(events) == current.events else check_events(events),
        description=None if description == current.description else description,
        active=None if active == current.active else active, secret_id=secret_id)
    return changes if changes.model_dump(exclude_none=True) else None


def delete(state: Webhook | None, webhook_id: UUID) -> ev.WebhookDeleted:
    return ev.WebhookDeleted(webhook_id=exists(state, webhook_id).id)


def exists(state: Webhook | None, webhook_id: UUID) -> Webhook:
    if state is None:
        raise NotFound(f"webhook {webhook_id} does not exist", webhook_id=str(webhook_id))
    return state
