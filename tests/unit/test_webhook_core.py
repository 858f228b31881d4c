"""The pure parts of webhooks: signatures, backoff, names, and the outbox plan."""

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from projections.webhook_outbox import delivery_id, plan
from registry.domain import events as ev
from registry.domain.webhook_events import MLFLOW_NAMES, WEBHOOK_EVENTS, WEBHOOK_NAMES
from registry.eventstore import RecordedEvent
from registry.eventstore.feed import FeedEvent
from registry.webhooks import signing
from registry.webhooks.dispatcher import retry_delay


def test_signature_verifies_as_the_readme_shows() -> None:
    body = b'{"event": "PING"}'
    header = signing.signature("s3cret", 1_700_000_000, body)
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert parts == {"t": "1700000000", "v1": expected}
    assert signing.verify("s3cret", header, body, now=1_700_000_100)
    assert not signing.verify("other", header, body, now=1_700_000_100)
    assert not signing.verify("s3cret", header, body + b" ", now=1_700_000_100)
    assert not signing.verify("s3cret", header, body, now=1_700_001_000)  # too old: a replay
    assert not signing.verify("s3cret", "garbage", body, now=1_700_000_000)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    assert [retry_delay(n, 2.0, 600, 1.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert [retry_delay(n, 2.0, 600, 0.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert retry_delay(30, 2.0, 600, 1.0) == 600


def test_names_follow_mlflow_and_cover_every_registry_event() -> None:
    assert set(MLFLOW_NAMES.values()) == {
        "REGISTERED_MODEL_CREATED", "MODEL_VERSION_CREATED", "MODEL_VERSION_TAG_SET",
        "MODEL_VERSION_TAG_DELETED", "MODEL_VERSION_ALIAS_CREATED", "MODEL_VERSION_ALIAS_DELETED"}
    registry_types = {t for t in ev.EVENT_TYPES if not t.startswith("Webhook")}
    assert set(WEBHOOK_NAMES) == registry_types and len(WEBHOOK_EVENTS) == len(registry_types)


def _recorded(position: int, stream: str, e: ev.Event) -> FeedEvent:
    r = RecordedEvent(position, stream, 1, e.type_name(), 1, e.payload(), {"actor": "ann"},
                      datetime(2026, 1, 1, tzinfo=UTC), b"", b"", e)
    return FeedEvent(r, "unity.default.m" if stream.startswith("model:") else None)


def test_the_outbox_sends_each_event_to_the_webhooks_subscribed_at_its_position() -> None:
    w, m = str(uuid.uuid4()), f"model:{uuid.uuid4()}"
    feed = [
        _recorded(1, m, ev.AliasSet(alias="a", version=1)),  # before the webhook: not sent
        _recorded(2, f"webhook:{w}", ev.WebhookCreated(
            webhook_id=w, url="http://h/", events=["MODEL_VERSION_ALIAS_CREATED"],
            secret_id=uuid.uuid4())),
        _recorded(3, m, ev.AliasSet(alias="a", version=2)),
        _recorded(4, m, ev.AliasDeleted(alias="a", version=2)),  # not subscribed
        _recorded(5, f"webhook:{w}", ev.WebhookUpdated(active=False)),
        _recorded(6, m, ev.AliasSet(alias="a", version=3)),  # paused
        _recorded(7, f"webhook:{w}", ev.WebhookUpdated(active=True)),
        _recorded(8, m, ev.AliasSet(alias="a", version=4)),
        _recorded(9, f"webhook:{w}", ev.WebhookDeleted(webhook_id=w)),
        _recorded(10, m, ev.AliasSet(alias="a", version=5)),  # deleted
    ]
    subscriptions: dict = {}
    p = plan(feed, subscriptions)
    assert [(d[2], d[5]["data"]) for d in p.deliveries] == [
        (3, {"name": "unity.default.m", "alias": "a", "version": "2"}),
        (8, {"name": "unity.default.m", "alias": "a", "version": "4"})]
    assert [d[0] for d in p.deliveries] == [delivery_id(w, 3), delivery_id(w, 8)]
    assert subscriptions == {} and p.upserts == {} and p.deleted == [w]
