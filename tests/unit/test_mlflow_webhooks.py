"""MLflow's webhooks, the pure parts, with MLflow's own code as the oracle where it has one: the
events and their wire form, the rules for names and URLs and their messages, which MLflow event
(and payload) each log event is, prompts included, the outbox's plan for MLflow-flavoured
webhooks, and MLflow's signature."""

import ipaddress
import uuid
from datetime import UTC, datetime

import pytest
from mlflow.entities.webhook import VALID_ENTITY_ACTIONS, WebhookEvent
from mlflow.exceptions import MlflowException
from mlflow.utils import validation as mlflow_validation
from mlflow.webhooks.delivery import _generate_hmac_signature
from mlflow.webhooks.types import get_example_payload_for_event, get_payload_class_for_event

from projections.webhook_outbox import Subscription, delivery_id, plan
from registry.domain import events as ev
from registry.domain import mlflow_webhooks as rules
from registry.domain import webhooks as reg
from registry.domain.errors import InvalidArgument
from registry.domain.mlflow_webhook_events import EXAMPLES, envelope, mlflow_event, prompt_flag
from registry.eventstore import RecordedEvent
from registry.eventstore.feed import FeedEvent
from registry.webhooks import signing
from registry.webhooks.sending import Sent, final

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _mlflow_message(fn, *args) -> str | None:
    try:
        fn(*args)
    except MlflowException as exc:
        return exc.message
    return None


def _our_message(fn, *args) -> str | None:
    try:
        fn(*args)
    except InvalidArgument as exc:
        return exc.message
    return None


def test_the_events_are_mlflows_and_travel_as_its_proto_enums() -> None:
    assert rules.EVENTS == {str(WebhookEvent(e, a)) for e, acts in VALID_ENTITY_ACTIONS.items()
                            for a in acts}
    for name in rules.EVENTS:
        proto = WebhookEvent.from_str(name).to_proto()
        wire = rules.event_to_wire(name)
        assert wire == {"entity": type(proto).DESCRIPTOR.fields_by_name["entity"].enum_type
                        .values_by_number[proto.entity].name,
                        "action": type(proto).DESCRIPTOR.fields_by_name["action"].enum_type
                        .values_by_number[proto.action].name}
        assert rules.event_from_wire(wire["entity"], wire["action"]) == name
        assert rules.event_from_wire(proto.entity, proto.action) == name  # numbers, as JSON may


def test_a_pair_that_does_not_go_is_refused_in_mlflows_words() -> None:
    for entity, action in (("model_version", "deleted"), ("prompt_tag", "created"),
                           ("budget_policy", "set")):
        ours = _our_message(rules.event_from_wire, entity.upper(), action.upper())
        assert ours == _mlflow_message(WebhookEvent, entity, action) is not None
    for entity, action in (("NOPE", "CREATED"), ("MODEL_VERSION", None), ("model_version", "CREATED"),
                           (0, 1), (11, 1), (True, 1), ("REGISTERED_MODEL", "ACTION_UNSPECIFIED")):
        with pytest.raises(InvalidArgument, match="Invalid webhook event"):
            rules.event_from_wire(entity, action)
    assert _our_message(rules.check_events, []) == \
        "Webhook events must be a non-empty list of WebhookEvent objects: []."
    assert rules.check_events(["prompt.created", "prompt.created", "model_version.created"]) == [
        "prompt.created", "model_version.created"]


@pytest.mark.parametrize("name", ["hook", "a", "ci.deploy-hook_2", "x" * 63, "x" * 64, "-a", "a-",
                                  "has space", "", "ünïcode", "a..b", "UPPER"])
def test_names_follow_mlflows_rule_and_message(name: str) -> None:
    assert _our_message(rules.check_name, name) == \
        _mlflow_message(mlflow_validation._validate_webhook_name, name)


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://example.com/hook",
                                 "ftp://example.com", "   ", "", "http://[invalid",
                                 "https:///no-host", "example.com/hook", "https://10.0.0.1/x"])
def test_urls_follow_mlflows_rules_and_messages(url: str, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", "true")  # resolving is the shell's
    for schemes in ("https", "http,https"):
        monkeypatch.setenv("MLFLOW_WEBHOOK_ALLOWED_SCHEMES", schemes)
        policy = rules.UrlPolicy(tuple(schemes.split(",")), allow_private=True)
        assert _our_message(rules.url_host, url, policy) == \
            _mlflow_message(mlflow_validation._validate_webhook_url, url)


@pytest.mark.parametrize("address", ["8.8.8.8", "127.0.0.1", "10.1.2.3", "169.254.169.254",
                                     "100.64.0.1", "::1", "2001:4860:4860::8888", "::ffff:10.0.0.1",
                                     "::ffff:8.8.8.8", "2002:0a00:0001::", "64:ff9b::0a00:0001",
                                     "fe80::1", "0.0.0.0"])
def test_public_addresses_as_mlflow_judges_them(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert rules.is_public(ip) == mlflow_validation._is_public_ip(ip)
    refused = _our_message(rules.refuse_private, "h", [address])
    assert (refused is None) == rules.is_public(ip)


def test_status_by_name_or_number() -> None:
    assert [rules.status_from_wire(v) for v in ("ACTIVE", "DISABLED", 1, 2)] == [
        True, False, True, False]
    for bad in ("active", "BOGUS", 0, 3, True):
        with pytest.raises(InvalidArgument, match="parameter 'status'"):
            rules.status_from_wire(bad)


MODEL_TAGS = {"team": "ml"}
PROMPT_TAGS = {"mlflow.prompt.is_prompt": "true", "_mlflow_prompt_type": "text", "team": "nlp"}


def test_each_log_event_is_the_mlflow_event_mlflows_server_sends() -> None:
    cases = [
        ("ModelCreated", {"tags": MODEL_TAGS, "description": None}, False,
         "registered_model.created", {"name": "m", "tags": MODEL_TAGS, "description": ""}),
        ("ModelCreated", {"tags": PROMPT_TAGS, "description": "greets"}, True,
         "prompt.created", {"name": "m", "tags": {"team": "nlp"}, "description": "greets"}),
        ("VersionRegistered", {"version": 3, "source": "s3://b/3", "run_id": "r1", "tags": {},
                               "description": ""}, False,
         "model_version.created", {"name": "m", "version": "3", "source": "s3://b/3",
                                   "run_id": "r1", "tags": {}, "description": None}),
        ("VersionRegistered", {"version": 1, "source": "s", "tags": {
            **PROMPT_TAGS, "mlflow.prompt.text": "Hi {{x}}"}, "description": "v1"}, True,
         "prompt_version.created", {"name": "m", "version": "1", "template": "Hi {{x}}",
                                    "tags": {"team": "nlp"}, "description": "v1"}),
        ("ModelTagSet", {"key": "k", "value": "v"}, True,
         "prompt_tag.set", {"name": "m", "key": "k", "value": "v"}),
        ("ModelTagDeleted", {"key": "k"}, True, "prompt_tag.deleted", {"name": "m", "key": "k"}),
        ("VersionTagSet", {"version": 2, "key": "k", "value": "v"}, False,
         "model_version_tag.set", {"name": "m", "version": "2", "key": "k", "value": "v"}),
        ("VersionTagSet", {"version": 2, "key": "k", "value": "v"}, True,
         "prompt_version_tag.set", {"name": "m", "version": "2", "key": "k", "value": "v"}),
        ("VersionTagDeleted", {"version": 2, "key": "k"}, False,
         "model_version_tag.deleted", {"name": "m", "version": "2", "key": "k"}),
        ("VersionTagDeleted", {"version": 2, "key": "k"}, True,
         "prompt_version_tag.deleted", {"name": "m", "version": "2", "key": "k"}),
        ("AliasSet", {"alias": "prod", "version": 4}, False,
         "model_version_alias.created", {"name": "m", "alias": "prod", "version": "4"}),
        ("AliasSet", {"alias": "prod", "version": 4}, True,
         "prompt_alias.created", {"name": "m", "alias": "prod", "version": "4"}),
        ("AliasDeleted", {"alias": "prod", "version": 4}, False,
         "model_version_alias.deleted", {"name": "m", "alias": "prod"}),
        ("AliasDeleted", {"alias": "prod", "version": 4}, True,
         "prompt_alias.deleted", {"name": "m", "alias": "prod"}),
    ]
    for event_type, data, prompt, name, payload in cases:
        found = mlflow_event(event_type, "m", data, prompt)
        assert found is not None and (found.event, found.data) == (name, payload), event_type
        shape = get_payload_class_for_event(WebhookEvent.from_str(name))
        assert set(found.data) == set(shape.__annotations__), name  # MLflow's payload's fields
    # MLflow sends nothing for a model's own tags unless it is a prompt, nor for the rest.
    for event_type, data in (("ModelTagSet", {"key": "k", "value": "v"}),
                             ("ModelTagDeleted", {"key": "k"}), ("ModelRenamed", {}),
                             ("VersionStageTransitioned", {"version": 1}), ("ModelDeleted", {})):
        assert mlflow_event(event_type, "m", data, False) is None


def test_which_models_are_prompts() -> None:
    assert prompt_flag("ModelCreated", {"tags": PROMPT_TAGS}) is True
    assert prompt_flag("ModelCreated", {"tags": {"mlflow.prompt.is_prompt": "TRUE"}}) is True
    assert prompt_flag("ModelCreated", {"tags": MODEL_TAGS}) is None
    assert prompt_flag("ModelTagSet", {"key": "mlflow.prompt.is_prompt", "value": "false"}) is False
    assert prompt_flag("ModelTagSet", {"key": "mlflow.prompt.is_prompt", "value": "True"}) is True
    assert prompt_flag("ModelTagDeleted", {"key": "mlflow.prompt.is_prompt"}) is False
    assert prompt_flag("ModelTagSet", {"key": "team", "value": "x"}) is None


def test_test_payloads_are_mlflows_examples() -> None:
    for name in rules.EVENTS:
        assert EXAMPLES[name] == get_example_payload_for_event(WebhookEvent.from_str(name)), name
    body = envelope("prompt_tag.set", EXAMPLES["prompt_tag.set"], AT)
    assert body == {"entity": "prompt_tag", "action": "set",
                    "timestamp": "2026-03-01T12:00:00+00:00", "data": EXAMPLES["prompt_tag.set"]}


def test_deliveries_are_signed_as_mlflow_signs_them() -> None:
    body = b'{"entity": "prompt", "action": "created", "data": {"name": "caf\xc3\xa9"}}'
    headers = signing.mlflow_headers("s3cret", "d-1", 1_700_000_000, body)
    assert headers[signing.MLFLOW_SIGNATURE] == _generate_hmac_signature(
        "s3cret", "d-1", "1700000000", body.decode())
    assert headers[signing.MLFLOW_DELIVERY_ID] == "d-1"
    assert headers[signing.MLFLOW_TIMESTAMP] == "1700000000"
    assert signing.MLFLOW_SIGNATURE not in signing.mlflow_headers("", "d-1", 1, body)


def test_mlflow_webhooks_retry_only_what_mlflow_retries() -> None:
    def sent(code: int | None, refused: bool = False) -> Sent:
        return Sent(code, None if code is None else f"HTTP {code}", 1.0, refused=refused)

    assert [final("mlflow", sent(c)) for c in (None, 429, 500, 502, 503, 504)] == [False] * 6
    assert [final("mlflow", sent(c)) for c in (400, 401, 404, 501, 302)] == [True] * 5
    assert final("mlflow", sent(None, refused=True))
    assert not any(final("modelog", sent(c)) for c in (None, 400, 404, 500))


def test_registrations_written_before_flavours_read_as_modelogs() -> None:
    secret, hook = uuid.uuid4(), uuid.uuid4()
    old = {"webhook_id": str(hook), "url": "https://h/x", "events": ["MODEL_VERSION_CREATED"],
           "description": None, "active": True, "secret_id": str(secret)}
    e = ev.parse_event("WebhookCreated", 1, old)
    assert (e.flavor, e.name, e.workspace) == ("modelog", None, None)
    state = reg.evolve(None, e, ev.Stamp(at=AT, actor="ann"))
    assert state is not None and state.flavor == "modelog"
    state = reg.evolve(state, ev.parse_event("WebhookUpdated", 1, {"active": False}),
                       ev.Stamp(at=AT, actor="bob"))
    assert state is not None and not state.active and state.name is None


def test_an_mlflow_registration_is_checked_by_mlflows_rules() -> None:
    hook, secret = uuid.uuid4(), uuid.uuid4()
    loose = rules.UrlPolicy(("http", "https"), allow_private=True)

    def create(**kw):
        args = {"flavor": "mlflow", "name": "ci", "workspace": "unity.default", "urls": loose, **kw}
        return reg.create(hook, "https://h/x", ["prompt.created"], secret, **args)

    e = create()
    assert (e.flavor, e.name, e.workspace, e.events) == ("mlflow", "ci", "unity.default",
                                                         ["prompt.created"])
    with pytest.raises(InvalidArgument, match="Webhook name 'bad name' is invalid"):
        create(name="bad name")
    with pytest.raises(InvalidArgument, match=r"Allowed schemes are: https\.$"):
        reg.create(hook, "http://h/x", ["prompt.created"], secret, flavor="mlflow", name="ci",
                   workspace="unity.default")
    with pytest.raises(InvalidArgument, match="Webhook events must be a non-empty list"):
        reg.create(hook, "https://h/x", [], secret, flavor="mlflow", name="ci",
                   workspace="unity.default")
    with pytest.raises(InvalidArgument, match="webhook events must be a non-empty list of: "):
        reg.create(hook, "https://h/x", ["prompt.created"], secret)  # not a Modelog event
    state = reg.evolve(None, e, ev.Stamp(at=AT, actor="ann"))
    changed = reg.update(state, hook, name="cd", events=["model_version.created"], urls=loose)
    assert changed is not None and (changed.name, changed.events) == ("cd", ["model_version.created"])
    assert reg.update(state, hook, name="ci", url="https://h/x", urls=loose) is None  # no change
    native = reg.evolve(None, reg.create(hook, "https://h/x", ["MODEL_VERSION_CREATED"], secret),
                        ev.Stamp(at=AT, actor="ann"))
    with pytest.raises(InvalidArgument, match="only MLflow's webhooks have a name"):
        reg.update(native, hook, name="x")
    assert reg.check_secret(None, "mlflow") == "" and reg.check_secret("s", "mlflow") == "s"


# --- the outbox's plan for MLflow-flavoured webhooks --------------------------------------------


def _recorded(position: int, stream: str, e: ev.Event, name: str | None = None) -> FeedEvent:
    r = RecordedEvent(position, stream, 1, e.type_name(), 1, e.payload(), {"actor": "ann"},
                      AT, b"", b"", e)
    return FeedEvent(r, name)


def _hook(position: int, hook: str, events: list[str], workspace: str = "unity.default",
          **kw) -> FeedEvent:
    return _recorded(position, f"webhook:{hook}", ev.WebhookCreated(
        webhook_id=hook, url="https://h/", events=events, secret_id=uuid.uuid4(),
        flavor="mlflow", name="h", workspace=workspace, **kw))


def test_the_plan_sends_mlflow_events_by_workspace_name_and_prompt_kind() -> None:
    hook, native = str(uuid.uuid4()), str(uuid.uuid4())
    m, p, other = (f"model:{uuid.uuid4()}" for _ in range(3))
    feed = [
        _hook(1, hook, ["registered_model.created", "prompt.created", "prompt_version_tag.set",
                        "model_version_tag.set", "prompt_tag.set"]),
        _recorded(2, f"webhook:{native}", ev.WebhookCreated(
            webhook_id=native, url="https://h/", events=["REGISTERED_MODEL_CREATED"],
            secret_id=uuid.uuid4())),
        _recorded(3, m, ev.ModelCreated(model_id=uuid.uuid4(), catalog_name="unity",
                                        schema_name="default", name="iris", owner="ann"),
                  "unity.default.iris"),
        _recorded(4, other, ev.ModelCreated(model_id=uuid.uuid4(), catalog_name="prod",
                                            schema_name="ml", name="iris", owner="ann"),
                  "prod.ml.iris"),  # outside the workspace schema: not on MLflow's surface
        _recorded(5, p, ev.ModelCreated(model_id=uuid.uuid4(), catalog_name="unity",
                                        schema_name="default", name="greet", owner="ann",
                                        tags={"mlflow.prompt.is_prompt": "true"}),
                  "unity.default.greet"),
        _recorded(6, p, ev.VersionTagSet(version=1, key="k", value="v"), "unity.default.greet"),
        _recorded(7, m, ev.VersionTagSet(version=1, key="k", value="v"), "unity.default.iris"),
        _recorded(8, m, ev.ModelTagSet(key="team", value="ml"), "unity.default.iris"),  # no prompt
        _recorded(9, m, ev.ModelTagSet(key="mlflow.prompt.is_prompt", value="true"),
                  "unity.default.iris"),  # now it is one: MLflow sends prompt_tag.set
        _recorded(10, f"webhook:{hook}", ev.WebhookUpdated(active=False)),
        _recorded(11, p, ev.VersionTagSet(version=1, key="k", value="w"), "unity.default.greet"),
    ]
    subscriptions: dict[str, Subscription] = {}
    prompts: dict[str, bool] = {}
    out = plan(feed, subscriptions, prompts)
    mlflows = [(d[2], d[4], d[5]["data"]) for d in out.deliveries if d[1] == hook]
    assert mlflows == [
        (3, "registered_model.created", {"name": "iris", "tags": {}, "description": ""}),
        (5, "prompt.created", {"name": "greet", "tags": {}, "description": ""}),
        (6, "prompt_version_tag.set", {"name": "greet", "version": "1", "key": "k", "value": "v"}),
        (7, "model_version_tag.set", {"name": "iris", "version": "1", "key": "k", "value": "v"}),
        (9, "prompt_tag.set", {"name": "iris", "key": "mlflow.prompt.is_prompt", "value": "true"}),
    ]
    # The native webhook beside it goes on as before: its names, full model names, every schema.
    natives = [(d[2], d[4], d[5]["data"]["name"]) for d in out.deliveries if d[1] == native]
    assert natives == [(3, "REGISTERED_MODEL_CREATED", "unity.default.iris"),
                       (4, "REGISTERED_MODEL_CREATED", "prod.ml.iris"),
                       (5, "REGISTERED_MODEL_CREATED", "unity.default.greet")]
    first = next(d for d in out.deliveries if d[1] == hook)
    assert first[0] == delivery_id(hook, 3) and first[3] == m
    assert first[5] == {"entity": "registered_model", "action": "created",
                        "timestamp": "2026-03-01T12:00:00+00:00", "data": first[5]["data"]}
    assert out.prompts == {p.split(":")[1]: True, m.split(":")[1]: True} == prompts
    assert subscriptions[hook].flavor == "mlflow" and not subscriptions[hook].active


def test_the_plan_knows_prompts_from_before_the_chunk_and_other_workspaces() -> None:
    hook, other_ws = str(uuid.uuid4()), str(uuid.uuid4())
    p = str(uuid.uuid4())
    subscriptions = {
        hook: Subscription(hook, "https://h/", ["prompt_alias.created"], True, "s", 1,
                           "mlflow", "unity.default"),
        other_ws: Subscription(other_ws, "https://h/", ["prompt_alias.created"], True, "s", 1,
                               "mlflow", "prod.ml")}
    feed = [_recorded(5, f"model:{p}", ev.AliasSet(alias="live", version=2), "prod.ml.greet"),
            _recorded(6, f"model:{p}", ev.ModelTagDeleted(key="mlflow.prompt.is_prompt"),
                      "prod.ml.greet"),
            _recorded(7, f"model:{p}", ev.AliasSet(alias="live", version=3), "prod.ml.greet")]
    out = plan(feed, subscriptions, {p: True})
    assert [(d[1], d[4], d[5]["data"]) for d in out.deliveries] == [
        (other_ws, "prompt_alias.created", {"name": "greet", "alias": "live", "version": "2"})]
    assert out.prompts == {p: False}
