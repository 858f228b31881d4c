"""MLflow's webhooks as MLflow's server takes them: its events (`entity.action`, on the wire
`{"entity": "MODEL_VERSION", "action": "CREATED"}`), its rules for names and URLs, and its
messages word for word, so that its client sees the errors it expects. Pure: whether a host
resolves to public addresses is the shell's (registry/webhooks/addresses.py).
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from registry.domain.errors import InvalidArgument

# MLflow's valid (entity, action) pairs (mlflow/entities/webhook.py), in its proto enums' order:
# entities are numbered 1.. in this order, actions 1.. in ACTIONS' order.
ENTITY_ACTIONS: dict[str, tuple[str, ...]] = {
    "registered_model": ("created",),
    "model_version": ("created",),
    "model_version_tag": ("set", "deleted"),
    "model_version_alias": ("created", "deleted"),
    "prompt": ("created",),
    "prompt_version": ("created",),
    "prompt_tag": ("set", "deleted"),
    "prompt_version_tag": ("set", "deleted"),
    "prompt_alias": ("created", "deleted"),
    "budget_policy": ("exceeded",),
}
ACTIONS = ("created", "updated", "deleted", "set", "exceeded")
EVENTS = frozenset(f"{e}.{a}" for e, actions in ENTITY_ACTIONS.items() for a in actions)
STATUSES = ("ACTIVE", "DISABLED")  # numbered 1, 2
MAX_URL = 2048

_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class UrlPolicy:
    """Where MLflow-flavoured webhooks may point: MLflow's MLFLOW_WEBHOOK_ALLOWED_SCHEMES (default
    https only) and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS (default no: hosts must resolve to public
    addresses, checked on registration and again at each connection)."""

    schemes: tuple[str, ...] = ("https",)
    allow_private: bool = False


MLFLOW_DEFAULTS = UrlPolicy()


def _enum(value: Any, names: tuple[str, ...], what: str) -> str:
    """A proto enum value as JSON carries it, its name (upper case) or number, as our lower-case
    name. MLflow's server answers a 500 for an unknown one; this is a 400."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(names):
        return names[value - 1]
    if isinstance(value, str) and value.lower() in names and value == value.upper():
        return value.lower()
    raise InvalidArgument(f"Invalid webhook event {what} {value!r}. Valid values are: "
                          + ", ".join(n.upper() for n in names), field="events")


def event_from_wire(entity: Any, action: Any) -> str:
    """`entity.action` for a wire event, refused as MLflow refuses a pair that does not go."""
    e = _enum(entity, tuple(ENTITY_ACTIONS), "entity")
    a = _enum(action, ACTIONS, "action")
    if a not in ENTITY_ACTIONS[e]:
        raise InvalidArgument(f"Invalid action '{a}' for entity '{e}'. Valid actions are: "
                              f"{sorted(ENTITY_ACTIONS[e])}", field="events")
    return f"{e}.{a}"


def event_to_wire(event: str) -> dict[str, str]:
    entity, _, action = event.partition(".")
    return {"entity": entity.upper(), "action": action.upper()}


def status_from_wire(value: Any) -> bool:
    """ACTIVE (True) or DISABLED (False), by name or number."""
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, 2):
        return value == 1
    if value in STATUSES:
        return value == "ACTIVE"
    raise InvalidArgument(f"Invalid value {value!r} for parameter 'status'. Valid values are: "
                          "ACTIVE, DISABLED", field="status")


def check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidArgument(f"Webhook name must be a string, got {type(name).__name__!r}",
                              field="name")
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, be "
            "less than 63 characters long, and contain only letters, digits, dots (.), "
            "underscores (_), and hyphens (-).", field="name")
    return name


def check_events(events: list[str]) -> list[str]:
    """Names already checked one by one (`event_from_wire`); there must be some. Once each."""
    if not events:
        raise InvalidArgument(
            f"Webhook events must be a non-empty list of WebhookEvent objects: {events}.",
            field="events")
    unknown = sorted(set(events) - EVENTS)
    if unknown:
        raise InvalidArgument(f"Invalid webhook events {unknown}: valid events are "
                              + ", ".join(sorted(EVENTS)), field="events", unknown=unknown)
    return list(dict.fromkeys(events))


def url_host(url: Any, policy: UrlPolicy) -> str:
    """The URL's host, once its form and scheme pass; whether the host may be reached is the
    shell's to find out (unless the policy allows private addresses)."""
    if not isinstance(url, str):
        raise InvalidArgument(f"Webhook URL must be a string, got {type(url).__name__!r}",
                              field="url")
    if not url.strip():
        raise InvalidArgument(f"Webhook URL cannot be empty or just whitespace: {url!r}",
                              field="url")
    if len(url) > MAX_URL:
        raise InvalidArgument(f"Webhook URL is longer than {MAX_URL} characters", field="url")
    try:
        parts = urlparse(url)
        host = parts.hostname
    except ValueError as exc:
        raise InvalidArgument(f"Invalid webhook URL {url!r}: {exc!r}", field="url") from None
    if parts.scheme not in policy.schemes:
        raise InvalidArgument(f"Invalid webhook URL scheme: {parts.scheme!r}. "
                              f"Allowed schemes are: {', '.join(policy.schemes)}.", field="url")
    if not host:
        raise InvalidArgument(f"Webhook URL must include a hostname: {url!r}", field="url")
    return host


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable, looking through the IPv6 forms that carry an IPv4 address (mapped,
    6to4, NAT64), so a wrapped private address does not pass for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            ip = inner
    return ip.is_global


def refuse_private(host: str, addresses: list[str]) -> None:
    """MLflow's check of what a webhook host resolved to: every address must be public."""
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError as exc:
            raise InvalidArgument(f"Webhook URL hostname {host!r} resolved to an invalid IP "
                                  f"address: {exc}", field="url") from None
        if not is_public(ip):
            raise InvalidArgument("Webhook URL must not resolve to a non-public IP address. "
                                  f"{host!r} resolves to {ip}.", field="url")
