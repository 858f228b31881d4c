"""MLflow's webhooks API through MLflow's own client against a real Modelog server, with a real
receiver on loopback: MLflow's payloads, headers and signature (checked with MLflow's signing
code), prompts, DISABLED, updates, paging, the test send, errors with MLflow's codes, URL rules,
and that each registration is an event in the log, on the same mechanism as the native webhooks."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from mlflow import MlflowClient
from mlflow.entities.webhook import WebhookStatus
from mlflow.exceptions import MlflowException
from mlflow.webhooks.delivery import _generate_hmac_signature

from registry.domain.mlflow_webhooks import UrlPolicy
from registry.webhooks.sending import Sender
from tests.support.server import Server, serving

V1 = "/api/modelog/v1"
HOOKS = "/api/2.0/mlflow/webhooks"
SECRET = "mlflow-hook-secret"
LOOPBACK = {"mlflow_webhook_schemes": ("http",), "mlflow_webhook_allow_private_ips": True,
            "webhook_backoff": 0.05, "webhook_backoff_cap": 0.2}


@dataclass
class Got:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)

    def signed_by(self, secret: str) -> bool:
        """As a receiver checks MLflow's signature: recompute it with MLflow's own code."""
        expected = _generate_hmac_signature(secret, self.headers["X-MLflow-Delivery-Id"],
                                            self.headers["X-MLflow-Timestamp"], self.raw.decode())
        return self.headers.get("X-MLflow-Signature") == expected


@dataclass
class Receiver:
    """Answers 200 on /ok, 401 on /denied, 500 on /flaky for the first two attempts of each
    delivery, and 404 elsewhere."""

    got: list[Got] = field(default_factory=list)
    base: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        got = Got(request.path, dict(request.headers), await request.read())
        self.got.append(got)
        if request.path == "/ok":
            return web.json_response({"status": "received"})
        if request.path == "/denied":
            return web.Response(status=401, text="bad signature")
        if request.path == "/flaky":
            tries = sum(1 for g in self.got if g.path == "/flaky"
                        and g.headers["X-MLflow-Delivery-Id"] == got.headers["X-MLflow-Delivery-Id"])
            return web.Response(status=500 if tries <= 2 else 200)
        return web.Response(status=404, text="no such hook")

    def at(self, path: str) -> list[Got]:
        return [g for g in self.got if g.path == path]


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


@asynccontextmanager
async def scene(db_url: str, tmp_path, **settings: Any
                ) -> AsyncIterator[tuple[Server, MlflowClient, Receiver]]:
    async with receiving() as rx, serving(db_url, tmp_path, **{**LOOPBACK, **settings}) as server:
        yield server, MlflowClient(tracking_uri=server.url, registry_uri=server.url), rx


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The client blocks; the server shares this event loop, so the client runs in a thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass
class Refusal:
    error_code: str
    message: str  # the server's, as it sent it


async def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Refusal:
    with pytest.raises(MlflowException) as info:
        await run(fn, *args, **kwargs)
    return Refusal(info.value.error_code, info.value.json["message"])


async def until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def http(server: Server, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.request(method, server.url + path, **kw) as r:
        return r.status, await r.json()


async def test_model_events_arrive_as_mlflow_sends_them(db_url: str, tmp_path) -> None:
    async with scene(db_url, tmp_path) as (server, client, rx):
        events = ["registered_model.created", "model_version.created", "model_version_tag.set",
                  "model_version_tag.deleted", "model_version_alias.created",
                  "model_version_alias.deleted"]
        hook = await run(client.create_webhook, "ci-hook", f"{rx.base}/ok", events, secret=SECRET,
                         description="to CI")
        assert hook.secret is None and hook.status == WebhookStatus.ACTIVE
        assert [str(e) for e in hook.events] == events

        await run(client.create_registered_model, "iris", tags={"team": "ml"}, description="d")
        mv = await run(client.create_model_version, "iris", "s3://b/iris/1", run_id="r1",
                       tags={"k": "v"})
        await run(client.set_model_version_tag, "iris", mv.version, "ok", "yes")
        await run(client.delete_model_version_tag, "iris", mv.version, "ok")
        await run(client.set_registered_model_alias, "iris", "champion", mv.version)
        await run(client.delete_registered_model_alias, "iris", "champion")
        await run(client.set_registered_model_tag, "iris", "x", "y")  # no MLflow event for it
        # The same registrations serve every surface: a model made through the native API in the
        # workspace schema is on MLflow's surface too; one in another schema is not.
        assert (await http(server, "POST", f"{V1}/models", json={"name": "unity.default.other"}))[0] \
            == 201
        assert (await http(server, "POST", f"{V1}/catalogs", json={"name": "prod"}))[0] == 201
        assert (await http(server, "POST", f"{V1}/schemas",
                           json={"catalog_name": "prod", "name": "ml"}))[0] == 201
        assert (await http(server, "POST", f"{V1}/models", json={"name": "prod.ml.iris"}))[0] == 201

        await until(lambda: len(rx.at("/ok")) >= 7)
        await asyncio.sleep(0.3)  # nothing more comes
        got = rx.at("/ok")  # in order per model; models' deliveries may interleave
        assert sorted(((g.body["entity"], g.body["action"], g.body["data"]) for g in got),
                      key=lambda e: e[2]["name"] != "iris") == [
            ("registered_model", "created", {"name": "iris", "tags": {"team": "ml"},
                                             "description": "d"}),
            ("model_version", "created", {"name": "iris", "version": "1", "source": "s3://b/iris/1",
                                          "run_id": "r1", "tags": {"k": "v"}, "description": None}),
            ("model_version_tag", "set", {"name": "iris", "version": "1", "key": "ok",
                                          "value": "yes"}),
            ("model_version_tag", "deleted", {"name": "iris", "version": "1", "key": "ok"}),
            ("model_version_alias", "created", {"name": "iris", "alias": "champion",
                                                "version": "1"}),
            ("model_version_alias", "deleted", {"name": "iris", "alias": "champion"}),
            ("registered_model", "created", {"name": "other", "tags": {}, "description": ""}),
        ]
        for g in got:
            assert g.signed_by(SECRET) and not g.signed_by("another secret")
            assert abs(int(g.headers["X-MLflow-Timestamp"]) - time.time()) < 60
            assert g.headers["Content-Type"] == "application/json"
            assert not any(h.startswith("X-Modelog") for h in g.headers)
            assert set(g.body) == {"entity", "action", "timestamp", "data"}
        assert len({g.headers["X-MLflow-Delivery-Id"] for g in got}) == len(got)
        assert "unity.default" not in b"".join(g.raw for g in got).decode()

        # Its delivery log is the native one.
        status, log = await http(server, "GET", f"{V1}/webhooks/{hook.webhook_id}/deliveries")
        assert status == 200 and {d["id"] for d in log["deliveries"]} == {
            g.headers["X-MLflow-Delivery-Id"] for g in got}
        assert {d["event"] for d in log["deliveries"]} == set(events) | {"registered_model.created"}


async def test_prompt_events(db_url: str, tmp_path) -> None:
    async with scene(db_url, tmp_path) as (_, client, rx):
        await run(client.create_webhook, "prompts", f"{rx.base}/ok", [
            "prompt.created", "prompt_version.created", "prompt_tag.set", "prompt_tag.deleted",
            "prompt_version_tag.set", "prompt_version_tag.deleted", "prompt_alias.created",
            "prompt_alias.deleted", "registered_model.created", "model_version_tag.set"])
        await run(client.create_prompt, "greeting", description="says hi", tags={"lang": "en"})
        version = await run(client.create_prompt_version, "greeting", "Hello {{name}}!",
                            description="first", tags={"tone": "warm"})
        await run(client.set_prompt_tag, "greeting", "owner", "ann")
        await run(client.delete_prompt_tag, "greeting", "owner")
        await run(client.set_prompt_version_tag, "greeting", str(version.version), "score", "9")
        await run(client.delete_prompt_version_tag, "greeting", str(version.version), "score")
        await run(client.set_prompt_alias, "greeting", "live", int(version.version))
        await run(client.delete_prompt_alias, "greeting", "live")
        await until(lambda: len(rx.got) >= 8)
        await asyncio.sleep(0.3)
        assert [(g.body["entity"], g.body["action"], g.body["data"]) for g in rx.got] == [
            ("prompt", "created", {"name": "greeting", "tags": {"lang": "en"},
                                   "description": "says hi"}),
            ("prompt_version", "created", {"name": "greeting", "version": "1",
                                           "template": "Hello {{name}}!", "tags": {"tone": "warm"},
                                           "description": "first"}),
            ("prompt_tag", "set", {"name": "greeting", "key": "owner", "value": "ann"}),
            ("prompt_tag", "deleted", {"name": "greeting", "key": "owner"}),
            ("prompt_version_tag", "set", {"name": "greeting", "version": "1", "key": "score",
                                           "value": "9"}),
            ("prompt_version_tag", "deleted", {"name": "greeting", "version": "1", "key": "score"}),
            ("prompt_alias", "created", {"name": "greeting", "alias": "live", "version": "1"}),
            ("prompt_alias", "deleted", {"name": "greeting", "alias": "live"}),
        ]
        assert all(unsigned(g) for g in rx.got)  # registered without a secret


def unsigned(g: Got) -> bool:
    return "X-MLflow-Signature" not in g.headers and "X-MLflow-Delivery-Id" in g.headers


async def test_disabled_update_list_delete_and_the_audit_trail(db_url: str, pool: asyncpg.Pool,
                                                               tmp_path) -> None:
    async with scene(db_url, tmp_path) as (_, client, rx):
        hook = await run(client.create_webhook, "paused", f"{rx.base}/ok",
                         ["registered_model.created"], secret=SECRET, status="DISABLED")
        assert hook.status == WebhookStatus.DISABLED
        await run(client.create_registered_model, "quiet")
        await asyncio.sleep(0.5)
        assert rx.got == []  # DISABLED: nothing is sent, nor later

        changed = await run(client.update_webhook, hook.webhook_id, name="live",
                            events=["registered_model.created", "model_version.created"],
                            description="now on", status="ACTIVE")
        assert (changed.name, changed.description, changed.status) == (
            "live", "now on", WebhookStatus.ACTIVE)
        assert [str(e) for e in changed.events] == ["registered_model.created",
                                                   "model_version.created"]
        assert changed.last_updated_timestamp > hook.last_updated_timestamp
        assert changed.creation_timestamp == hook.creation_timestamp
        same = await run(client.update_webhook, hook.webhook_id, name="live")  # nothing changes
        assert same.last_updated_timestamp == changed.last_updated_timestamp
        await run(client.create_model_version, "quiet", "s3://b/q/1")
        await until(lambda: len(rx.got) == 1)
        assert rx.got[0].body["data"]["name"] == "quiet" and rx.got[0].signed_by(SECRET)

        # Rotating the secret to nothing sends unsigned deliveries, as MLflow does.
        await run(client.update_webhook, hook.webhook_id, secret="")
        await run(client.create_registered_model, "loud")
        await until(lambda: len(rx.got) == 2)
        assert unsigned(rx.got[1])

        more = [await run(client.create_webhook, f"hook-{n}", f"{rx.base}/ok",
                          ["prompt.created"]) for n in range(4)]
        pages, token = [], None
        while True:
            page = await run(client.list_webhooks, max_results=2, page_token=token)
            pages.append([w.webhook_id for w in page])
            token = page.token
            if not token:
                break
        assert pages == [[more[3].webhook_id, more[2].webhook_id],
                         [more[1].webhook_id, more[0].webhook_id], [hook.webhook_id]]  # newest first
        assert (await run(client.get_webhook, more[0].webhook_id)).name == "hook-0"

        await run(client.delete_webhook, more[0].webhook_id)
        gone = await refused(client.get_webhook, more[0].webhook_id)
        assert gone.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert gone.message == f"Webhook with ID {more[0].webhook_id} not found."
        assert more[0].webhook_id not in {w.webhook_id for w in await run(client.list_webhooks)}

    # Every change is an event on the webhook's stream, with who made it; no secret is in the log.
    rows = await pool.fetch("SELECT type, data, metadata FROM events WHERE stream_id = $1 "
                            "ORDER BY position", f"webhook:{hook.webhook_id}")
    assert [(r["type"], r["metadata"]["actor"], r["metadata"]["command"]) for r in rows] == [
        ("WebhookCreated", "admin", "CreateWebhook"), ("WebhookUpdated", "admin", "UpdateWebhook"),
        ("WebhookUpdated", "admin", "UpdateWebhook")]
    created = rows[0]["data"]
    assert (created["flavor"], created["name"], created["workspace"], created["active"]) == (
        "mlflow", "paused", "unity.default", False)
    assert rows[1]["data"]["name"] == "live" and rows[1]["data"]["active"] is True
    assert await pool.fetchval("SELECT count(*) FROM events WHERE strpos(data::text, $1) > 0 OR "
                               "strpos(metadata::text, $1) > 0", SECRET) == 0
    assert [r["type"] for r in await pool.fetch(
        "SELECT type FROM events WHERE stream_id = $1", f"webhook:{more[0].webhook_id}")] == [
        "WebhookCreated", "WebhookDeleted"]


async def test_test_webhook_success_and_failures(db_url: str, tmp_path) -> None:
    async with scene(db_url, tmp_path) as (server, client, rx):
        hook = await run(client.create_webhook, "t", f"{rx.base}/ok",
                         ["model_version.created", "prompt_alias.deleted"], secret=SECRET)
        result = await run(client.test_webhook, hook.webhook_id)
        assert (result.success, result.response_status, result.error_message) == (True, 200, None)
        assert json.loads(result.response_body) == {"status": "received"}
        [sent] = rx.got
        assert sent.signed_by(SECRET) and (sent.body["entity"], sent.body["action"]) == (
            "model_version", "created")
        assert sent.body["data"] == {"name": "example_model", "version": "1",
                                     "source": "models:/123", "run_id": "abcd1234abcd5678",
                                     "tags": {"example_key": "example_value"},
                                     "description": "An example model version"}
        # The native API's test of it is MLflow's too: it speaks only MLflow.
        status, pinged = await http(server, "POST", f"{V1}/webhooks/{hook.webhook_id}/test")
        assert status == 200 and pinged["success"] and pinged["status_code"] == 200
        assert rx.got[-1].headers["X-MLflow-Delivery-Id"] == pinged["delivery_id"]
        assert rx.got[-1].body["data"]["name"] == "example_model" and rx.got[-1].signed_by(SECRET)
        result = await run(client.test_webhook, hook.webhook_id, event="prompt_alias.deleted")
        assert result.success and rx.got[-1].body["data"] == {"name": "example_prompt",
                                                              "alias": "example_alias"}

        for path, status in (("/denied", 401), ("/nowhere", 404)):
            await run(client.update_webhook, hook.webhook_id, url=f"{rx.base}{path}")
            result = await run(client.test_webhook, hook.webhook_id)
            assert (result.success, result.response_status, result.error_message) == (
                False, status, None)
            assert result.response_body
        await run(client.update_webhook, hook.webhook_id, url="http://127.0.0.1:9/closed")
        result = await run(client.test_webhook, hook.webhook_id)
        assert result.success is False and result.response_status is None
        assert result.error_message.startswith("Failed to test webhook: ")

        status, log = await http(server, "GET", f"{V1}/webhooks/{hook.webhook_id}/deliveries")
        assert [(d["event"], d["status"], d["last_status_code"]) for d in log["deliveries"]] == [
            ("model_version.created", "failed", None), ("model_version.created", "failed", 404),
            ("model_version.created", "failed", 401), ("prompt_alias.deleted", "delivered", 200),
            ("model_version.created", "delivered", 200), ("model_version.created", "delivered", 200)]


async def test_retried_where_mlflow_retries_and_not_elsewhere(db_url: str, tmp_path) -> None:
    async with scene(db_url, tmp_path) as (server, client, rx):
        flaky = await run(client.create_webhook, "flaky", f"{rx.base}/flaky",
                          ["registered_model.created"])
        denied = await run(client.create_webhook, "denied", f"{rx.base}/denied",
                           ["registered_model.created"])
        await run(client.create_registered_model, "retried")
        await until(lambda: len(rx.at("/flaky")) == 3 and len(rx.at("/denied")) == 1)
        await asyncio.sleep(0.5)
        assert len(rx.at("/denied")) == 1  # a 401 is an answer: MLflow does not retry it
        assert len({g.headers["X-MLflow-Delivery-Id"] for g in rx.at("/flaky")}) == 1

        async def outcome(hook) -> tuple[str, int]:
            _, log = await http(server, "GET", f"{V1}/webhooks/{hook.webhook_id}/deliveries")
            [d] = log["deliveries"]
            return d["status"], d["attempts"]

        assert await outcome(flaky) == ("delivered", 3)
        assert await outcome(denied) == ("failed", 1)


async def test_errors_in_mlflows_codes_and_nothing_appended(db_url: str, pool: asyncpg.Pool,
                                                            tmp_path) -> None:
    async with scene(db_url, tmp_path) as (server, client, rx):
        native_status, native = await http(server, "POST", f"{V1}/webhooks", json={
            "url": f"{rx.base}/ok", "events": ["MODEL_VERSION_CREATED"], "secret": SECRET})
        assert native_status == 201
        head = await pool.fetchval("SELECT max(position) FROM events")
        for webhook_id in ("nope", native["id"], "00000000-0000-0000-0000-000000000000"):
            for call in (lambda i: client.get_webhook(i), lambda i: client.delete_webhook(i),
                         lambda i: client.update_webhook(i, name="x"),
                         lambda i: client.test_webhook(i)):
                err = await refused(call, webhook_id)
                assert (err.error_code, err.message) == (
                    "RESOURCE_DOES_NOT_EXIST", f"Webhook with ID {webhook_id} not found.")
        err = await refused(client.create_webhook, "h", "ftp://example.com/x",
                            ["model_version.created"])
        assert err.error_code == "INVALID_PARAMETER_VALUE"
        assert err.message == "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http."
        err = await refused(client.create_webhook, "bad name", f"{rx.base}/ok",
                            ["model_version.created"])
        assert err.error_code == "INVALID_PARAMETER_VALUE" and "Webhook name" in err.message
        good = {"name": "h", "url": f"{rx.base}/ok",
                "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}
        for bad, says in (
                ({**good, "events": [{"entity": "MODEL_VERSION", "action": "DELETED"}]},
                 "Invalid action 'deleted' for entity 'model_version'. Valid actions are: "
                 "['created']"),
                ({**good, "events": [{"entity": "MODEL", "action": "CREATED"}]},
                 "Invalid webhook event entity 'MODEL'"),
                ({**good, "events": []}, "Webhook events must be a non-empty list"),
                ({k: v for k, v in good.items() if k != "url"},
                 "Missing value for required parameter 'url'"),
                ({**good, "status": "PAUSED"}, "Invalid value 'PAUSED' for parameter 'status'"),
                ({**good, "name": 7}, "name"),
                ({**good, "url": "   "}, "Webhook URL cannot be empty or just whitespace")):
            status, body = await http(server, "POST", HOOKS, json=bad)
            assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE", (bad, body)
            assert says in body["message"], (says, body)
        for query, says in (("max_results=5000", "max_results must be between 1 and 1000."),
                            ("max_results=-1", "max_results must be between 1 and 1000."),
                            ("max_results=two", "max_results"), ("page_token=%25%25", "page")):
            status, body = await http(server, "GET", f"{HOOKS}?{query}")
            assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE", (query, body)
            assert says in body["message"]
        hook = await run(client.create_webhook, "h", f"{rx.base}/ok", ["model_version.created"])
        after_create = await pool.fetchval("SELECT max(position) FROM events")
        err = await refused(client.update_webhook, hook.webhook_id, url="http://[invalid")
        assert err.message == "Invalid webhook URL 'http://[invalid': ValueError('Invalid IPv6 URL')"
        assert await pool.fetchval("SELECT max(position) FROM events") == after_create
        assert after_create == head + 1  # only the one that was made
        # The native API sees the MLflow webhooks too, flavoured; MLflow's sees only its own.
        _, listed = await http(server, "GET", f"{V1}/webhooks")
        assert {(w["id"], w["flavor"], w["name"]) for w in listed["webhooks"]} == {
            (native["id"], "modelog", None), (hook.webhook_id, "mlflow", "h")}
        assert [w.webhook_id for w in await run(client.list_webhooks)] == [hook.webhook_id]
        # The ajax prefix serves the same API.
        status, body = await http(server, "GET", f"/ajax-api/2.0/mlflow/webhooks/{hook.webhook_id}")
        assert status == 200 and body["webhook"]["name"] == "h"


async def test_private_hosts_are_refused_unless_allowed(db_url: str, tmp_path) -> None:
    async with scene(db_url, tmp_path, mlflow_webhook_schemes=("http", "https"),
                     mlflow_webhook_allow_private_ips=False) as (_, client, rx):
        for url, address in ((f"{rx.base}/ok", "127.0.0.1"), ("https://localhost/x", None),
                             ("https://[::ffff:10.0.0.1]/x", "::ffff:a00:1"),
                             ("https://169.254.169.254/latest", "169.254.169.254")):
            err = await refused(client.create_webhook, "h", url, ["model_version.created"])
            assert err.error_code == "INVALID_PARAMETER_VALUE"
            assert "must not resolve to a non-public IP address" in err.message, err.message
            if address:
                assert err.message.endswith(f"resolves to {address}.")
        err = await refused(client.create_webhook, "h", "https://no-such-host.invalid/x",
                            ["model_version.created"])
        assert err.message.startswith("Cannot resolve Webhook URL hostname 'no-such-host.invalid'")
        assert rx.got == []


async def test_deliveries_never_reach_a_private_host_unless_allowed(tmp_path) -> None:
    """At send time too, on the address dialled: a host that resolves to loopback is refused, an
    IP literal before connecting, as MLflow's server refuses them."""
    async with receiving() as rx:
        port = rx.base.rsplit(":", 1)[1]
        guarded = Sender(5.0, UrlPolicy(("http",), allow_private=False))
        allowed = Sender(5.0, UrlPolicy(("http",), allow_private=True))
        await guarded.start()
        await allowed.start()
        try:
            literal = await guarded.mlflow(f"{rx.base}/ok", "", uuid.uuid4(), b"{}")
            assert literal.refused and literal.status_code is None
            assert "resolves to 127.0.0.1" in literal.error
            named = await guarded._post(guarded._mlflow_http, f"http://localhost:{port}/ok", {},
                                        b"{}")  # past the pre-send check: the resolver refuses
            assert named.status_code is None and "non-public" in named.error
            scheme = await allowed.mlflow(f"https://127.0.0.1:{port}/ok", "", uuid.uuid4(), b"{}")
            assert scheme.refused and "Allowed schemes are: http." in scheme.error
            assert rx.got == []
            sent = await allowed.mlflow(f"http://localhost:{port}/ok", "", uuid.uuid4(), b"{}")
            assert sent.ok and len(rx.got) == 1
        finally:
            await guarded.close()
            await allowed.close()
