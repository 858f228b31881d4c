"""Webhooks against a real receiver on loopback: retries with backoff, signatures, order per model,
the delivery log, failure after max attempts, a restart mid-delivery, pings, the CLI, bad input."""

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import asyncpg
from aiohttp import web

import projections
from registry.domain import commands as c
from registry.eventstore import EventStore
from registry.service.handler import RegistryService
from registry.service.write_model import RegistryWriteModel
from registry.webhooks import signing
from tests.support.cli import run
from tests.support.server import serving

V1 = "/api/modelog/v1"
SECRET = "whsec-test-0123456789"
EVENTS = ["REGISTERED_MODEL_CREATED", "MODEL_VERSION_CREATED", "MODEL_VERSION_TAG_SET",
          "MODEL_VERSION_ALIAS_CREATED"]
FAST = {"webhook_backoff": 0.02, "webhook_backoff_cap": 0.1, "webhook_timeout": 5.0}


@dataclass
class Received:
    delivery_id: str
    attempt: int
    event: str
    body: dict
    signed: bool
    status: int | None = None  # None while the receiver has not answered


@dataclass
class Receiver:
    """An HTTP receiver that answers 500 to the first `fail_first` attempts of each delivery."""

    fail_first: int = 0
    always_fail: bool = False
    delay: float = 0.0  # seconds before answering
    got: list[Received] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        delivery = request.headers["X-Modelog-Delivery"]
        signed = signing.verify(SECRET, request.headers[signing.HEADER], raw, time.time())
        tries = sum(1 for g in self.got if g.delivery_id == delivery)
        got = Received(delivery, int(request.headers["X-Modelog-Attempt"]),
                       request.headers["X-Modelog-Event"], json.loads(raw), signed)
        self.got.append(got)  # in order of arrival
        if self.delay:
            await asyncio.sleep(self.delay)
        got.status = 500 if self.always_fail or tries < self.fail_first else 200
        return web.Response(status=got.status)

    def delivered(self) -> dict[str, Received]:
        return {g.delivery_id: g for g in self.got if g.status == 200}


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def call(http: aiohttp.ClientSession, method: str, path: str, **kw) -> tuple[int, dict]:
    async with http.request(method, path, **kw) as r:
        return r.status, await r.json()


async def until(predicate, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def make_models(http: aiohttp.ClientSession, names: list[str], versions: int = 2) -> None:
    for name in names:
        assert (await call(http, "POST", f"{V1}/models", json={"name": name}))[0] == 201
    for v in range(1, versions + 1):
        for name in names:  # interleaved, so order per model is tested across models
            await call(http, "POST", f"{V1}/models/{name}/versions", json={"source": f"s3://b/{v}"})
    for name in names:
        await call(http, "PUT", f"{V1}/models/{name}/versions/1/tags/ok", json={"value": "yes"})
        await call(http, "PUT", f"{V1}/models/{name}/aliases/champion", json={"version": versions})


def in_order_per_model(got: list[Received]) -> bool:
    """No attempt of a model's event before its earlier events were delivered."""
    last: dict[str, int] = {}
    for g in got:
        stream, position = g.body["stream_id"], g.body["position"]
        if position < last.get(stream, 0):
            return False
        last[stream] = position
    return True


async def test_retried_signed_in_order_and_logged(db_url: str, tmp_path) -> None:
    async with receiving(Receiver(fail_first=2)) as rx, \
            serving(db_url, tmp_path, **FAST) as server, aiohttp.ClientSession(server.url) as http:
        status, hook = await call(http, "POST", f"{V1}/webhooks", json={
            "url": rx.url, "events": EVENTS, "secret": SECRET, "description": "ci"})
        assert status == 201 and "secret" not in hook and hook["events"] == EVENTS
        names = ["unity.default.wa", "unity.default.wb"]
        await make_models(http, names)
        expected = len(names) * (1 + 2 + 1 + 1)

        async def logged() -> bool:  # the receiver answers before the outcome is recorded
            _, log = await call(http, "GET", f"{V1}/webhooks/{hook['id']}/deliveries",
                                params={"status": "delivered"})
            return len(log["deliveries"]) == expected

        await until(logged)

        assert all(g.signed for g in rx.got)
        assert in_order_per_model(rx.got)
        assert Counter(g.attempt for g in rx.got) == {1: expected, 2: expected, 3: expected}
        delivered = rx.delivered()
        created = next(g.body for g in delivered.values() if g.event == "MODEL_VERSION_CREATED"
                       and g.body["data"]["name"] == "unity.default.wa"
                       and g.body["data"]["version"] == "1")
        assert created["data"] == {"name": "unity.default.wa", "version": "1", "source": "s3://b/1",
                                   "run_id": None, "tags": {}, "description": None}
        assert created["event"] == "MODEL_VERSION_CREATED" and created["webhook_id"] == hook["id"]
        alias = next(g.body for g in delivered.values() if g.event == "MODEL_VERSION_ALIAS_CREATED")
        assert alias["data"] == {"name": alias["data"]["name"], "alias": "champion", "version": "2"}

        status, log = await call(http, "GET", f"{V1}/webhooks/{hook['id']}/deliveries")
        assert status == 200 and len(log["deliveries"]) == expected == len(delivered)
        for d in log["deliveries"]:
            assert d["status"] == "delivered" and d["attempts"] == 3 and d["last_status_code"] == 200
            assert [a["status_code"] for a in d["attempt_log"]] == [500, 500, 200]
            assert d["id"] in delivered
        async with http.get("/metrics") as r:
            text = await r.text()
        assert f'modelog_webhook_deliveries_total{{outcome="delivered"}} {expected}' in text
        assert f"modelog_webhook_attempts_total {3 * expected}" in text


async def test_a_delivery_fails_after_max_attempts_and_the_next_goes_on(db_url: str, tmp_path) -> None:
    async with receiving(Receiver(always_fail=True)) as rx, \
            serving(db_url, tmp_path, webhook_max_attempts=3, **FAST) as server, \
            aiohttp.ClientSession(server.url) as http:
        _, hook = await call(http, "POST", f"{V1}/webhooks", json={
            "url": rx.url, "events": ["REGISTERED_MODEL_CREATED", "MODEL_VERSION_CREATED"],
            "secret": SECRET})
        await call(http, "POST", f"{V1}/models", json={"name": "unity.default.wf"})
        await call(http, "POST", f"{V1}/models/unity.default.wf/versions", json={"source": "s3://x"})

        async def both_failed() -> bool:
            _, log = await call(http, "GET", f"{V1}/webhooks/{hook['id']}/deliveries",
                                params={"status": "failed"})
            return len(log["deliveries"]) == 2

        await until(both_failed)
        _, log = await call(http, "GET", f"{V1}/webhooks/{hook['id']}/deliveries")
        for d in log["deliveries"]:
            assert d["attempts"] == 3 and d["last_status_code"] == 500
            assert "500" in d["last_error"] and d["finished_at"] is not None
        assert [g.event for g in rx.got] == ["REGISTERED_MODEL_CREATED"] * 3 + [
            "MODEL_VERSION_CREATED"] * 3
        async with http.get("/metrics") as r:
            assert 'modelog_webhook_deliveries_total{outcome="failed"} 2' in await r.text()


async def test_nothing_is_lost_across_a_restart_mid_delivery(db_url: str, pool: asyncpg.Pool,
                                                             tmp_path) -> None:
    names = ["unity.default.ra", "unity.default.rb"]
    async with receiving(Receiver(delay=1.0)) as rx:
        async with serving(db_url, tmp_path, **FAST) as server, \
                aiohttp.ClientSession(server.url) as http:
            assert (await call(http, "POST", f"{V1}/webhooks", json={
                "url": rx.url, "events": EVENTS, "secret": SECRET}))[0] == 201
            await make_models(http, names)
            await until(lambda: _started(rx))  # requests are in flight to the slow receiver
        # The server stopped mid-delivery. The log grows while no server runs.
        unrecorded = {str(r["id"]) for r in await pool.fetch(
            "SELECT id FROM webhook_deliveries WHERE status <> 'delivered'")}
        assert {g.delivery_id for g in rx.got} & unrecorded  # some were sent, not recorded
        wm = RegistryWriteModel()
        store = EventStore(pool, projections.inline_projector(), wm)
        await store.start()
        svc = RegistryService(store, wm)
        for name in names:
            await svc.execute(c.RegisterVersion(full_name=name, source="s3://b/later"), "erin")
        await store.close()
        rx.delay = 0.0
        async with serving(db_url, tmp_path, **FAST):
            expected = {str(r["id"]) for r in await pool.fetch("SELECT id FROM webhook_deliveries")}

            async def all_delivered() -> bool:
                rows = await pool.fetch("SELECT id, status FROM webhook_deliveries")
                return len(rows) == len(names) * 6 and all(r["status"] == "delivered" for r in rows)

            await until(all_delivered)
    ids = {str(r["id"]) for r in await pool.fetch("SELECT id FROM webhook_deliveries")}
    assert expected <= ids and len(ids) == len(names) * 6  # 5 each before, 1 each while stopped
    assert set(rx.delivered()) == ids  # every one arrived
    positions = {g.body["position"] for g in rx.got}
    events = await pool.fetch("SELECT position FROM events WHERE stream_id LIKE 'model:%' AND type IN "
                              "('ModelCreated', 'VersionRegistered', 'VersionTagSet', 'AliasSet')")
    assert positions == {r["position"] for r in events}
    # Duplicates only as the at-least-once resend of what was in flight when the server stopped.
    twice = {d for d, n in Counter(g.delivery_id for g in rx.got).items() if n > 1}
    assert twice <= unrecorded
    assert in_order_per_model(rx.got)
    assert all(g.signed for g in rx.got)


async def _started(rx: Receiver) -> bool:
    return len(rx.got) >= 1


async def test_ping_and_registration_changes(db_url: str, pool: asyncpg.Pool, tmp_path) -> None:
    async with receiving(Receiver()) as rx, serving(db_url, tmp_path, **FAST) as server, \
            aiohttp.ClientSession(server.url) as http:
        _, hook = await call(http, "POST", f"{V1}/webhooks", json={
            "url": rx.url, "events": ["MODEL_VERSION_CREATED"], "secret": SECRET})
        base = f"{V1}/webhooks/{hook['id']}"
        status, result = await call(http, "POST", f"{base}/test")
        assert status == 200 and result["success"] is True and result["status_code"] == 200
        [ping] = rx.got
        assert ping.event == "PING" and ping.signed and ping.delivery_id == result["delivery_id"]
        _, log = await call(http, "GET", f"{base}/deliveries")
        assert [(d["event"], d["status"], d["attempts"]) for d in log["deliveries"]] == [
            ("PING", "delivered", 1)]

        # Repointed to a closed port: the ping reports the failure, it does not raise.
        status, changed = await call(http, "PATCH", base, json={
            "url": "http://127.0.0.1:9/nothing", "events": EVENTS, "secret": "rotated-secret"})
        assert status == 200 and changed["url"].endswith("/nothing") and changed["events"] == EVENTS
        status, result = await call(http, "POST", f"{base}/test")
        assert status == 200 and result["success"] is False and result["error"]
        status, listed = await call(http, "GET", f"{V1}/webhooks")
        assert [w["id"] for w in listed["webhooks"]] == [hook["id"]]
        assert "secret" not in listed["webhooks"][0]

        assert (await call(http, "DELETE", base))[0] == 200
        assert (await call(http, "GET", base))[0] == 404
        assert (await call(http, "DELETE", base))[0] == 404
        assert (await call(http, "GET", f"{V1}/webhooks"))[1] == {"webhooks": []}
    # Each change is an event in the log; no secret is.
    rows = await pool.fetch("SELECT type, metadata->>'actor' AS actor FROM events "
                            "WHERE stream_id = $1 ORDER BY position", f"webhook:{hook['id']}")
    assert [(r["type"], r["actor"]) for r in rows] == [
        ("WebhookCreated", "admin"), ("WebhookUpdated", "admin"), ("WebhookDeleted", "admin")]
    for secret in (SECRET, "rotated-secret"):
        assert await pool.fetchval("SELECT count(*) FROM events WHERE strpos(data::text, $1) > 0 "
                                   "OR strpos(metadata::text, $1) > 0", secret) == 0


async def test_bad_input_is_a_400_json(db_url: str, tmp_path) -> None:
    async with serving(db_url, tmp_path) as server, aiohttp.ClientSession(server.url) as http:
        good = {"url": "https://example.invalid/hook", "events": ["MODEL_VERSION_CREATED"],
                "secret": SECRET}
        for bad in ({**good, "url": "ftp://example.invalid/hook"}, {**good, "url": "not a url"},
                    {**good, "events": ["MODEL_VERSION_EXPLODED"]}, {**good, "events": []},
                    {k: v for k, v in good.items() if k != "secret"}, {**good, "secret": ""},
                    {**good, "secret": "   "}, {**good, "extra": 1}):
            status, body = await call(http, "POST", f"{V1}/webhooks", json=bad)
            assert status == 400 and body["error_code"] == "INVALID_ARGUMENT", (bad, body)
        status, body = await call(http, "POST", f"{V1}/webhooks", data=b"{nope")
        assert status == 400
        status, hook = await call(http, "POST", f"{V1}/webhooks", json=good)
        assert status == 201
        status, body = await call(http, "PATCH", f"{V1}/webhooks/{hook['id']}",
                                  json={"events": ["NOPE"]})
        assert status == 400 and body["details"]["unknown"] == ["NOPE"]
        for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"),
                                   ("GET", "/deliveries")):
                kw = {"json": {"active": False}} if method == "PATCH" else {}
                status, body = await call(http, method, f"{V1}/webhooks/{missing}{suffix}", **kw)
                assert status == 404 and body["error_code"] == "NOT_FOUND", (method, suffix, body)


def test_cli_manages_webhooks(db_url: str) -> None:
    db = ["--database-url", db_url, "--log-format", "console"]
    done = run("webhook", "create", "--url", "https://example.invalid/hook", "--events",
               "MODEL_VERSION_CREATED,MODEL_VERSION_ALIAS_CREATED", "--secret", SECRET, *db)
    assert done.returncode == 0, done.stderr
    webhook_id = done.stdout.split()[2].rstrip(":")
    listed = run("webhook", "list", *db)
    assert webhook_id in listed.stdout and "MODEL_VERSION_ALIAS_CREATED" in listed.stdout
    assert SECRET not in listed.stdout + listed.stderr + done.stdout + done.stderr
    assert run("webhook", "deliveries", webhook_id, *db).returncode == 0
    bad = run("webhook", "create", "--url", "ftp://x", "--events", "MODEL_VERSION_CREATED",
              "--secret", SECRET, *db)
    assert bad.returncode == 1 and "http" in bad.stderr
    assert run("webhook", "delete", webhook_id, *db).returncode == 0
    assert webhook_id not in run("webhook", "list", *db).stdout
    gone = run("webhook", "delete", webhook_id, *db)
    assert gone.returncode == 1 and "does not exist" in gone.stderr
