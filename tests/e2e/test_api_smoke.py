"""The server end to end over HTTP: a model's life through the native API."""

import asyncio

from registry.http.keys import STORE

V1 = "/api/modelog/v1"


async def test_model_lifecycle_over_http(live):
    status, model = await live.call("POST", f"{V1}/models",
                                    json={"name": "unity.default.iris", "tags": {"team": "ml"}})
    assert status == 201 and model["full_name"] == "unity.default.iris"
    assert model["owner"] == "admin" and model["tags"] == {"team": "ml"}
    for n in (1, 2):
        status, mv = await live.call("POST", f"{V1}/models/unity.default.iris/versions",
                                     json={"source": f"s3://b/{n}", "run_id": f"r{n}"})
        assert status == 201 and mv["version"] == n and mv["status"] == "PENDING_REGISTRATION"
    status, mv = await live.call("POST", f"{V1}/models/unity.default.iris/versions/1/finalize",
                                 json={})
    assert status == 200 and mv["status"] == "READY"
    status, mv = await live.call("PUT", f"{V1}/models/unity.default.iris/aliases/champion",
                                 json={"version": 1})
    assert status == 200 and mv["aliases"] == ["champion"]
    status, history = await live.call("GET", f"{V1}/models/unity.default.iris/history")
    assert status == 200
    assert [e["type"] for e in history["events"]] == [
        "ModelCreated", "VersionRegistered", "VersionRegistered", "VersionReady", "AliasSet"]
    alias_set_at = history["events"][-1]["position"]

    status, _ = await live.call("PUT", f"{V1}/models/unity.default.iris/aliases/champion",
                                json={"version": 2})
    assert status == 200
    status, now = await live.call("GET", f"{V1}/models/unity.default.iris/aliases/champion")
    assert now["version"] == 2
    status, then = await live.call("GET", f"{V1}/models/unity.default.iris/aliases/champion",
                                   params={"as_of": str(alias_set_at)})
    assert status == 200 and then["version"] == 1
    status, before = await live.call("GET", f"{V1}/models/unity.default.iris/aliases/champion",
                                     params={"as_of": str(alias_set_at - 1)})
    assert status == 404 and before["error_code"] == "NOT_FOUND"


async def test_health(live):
    assert (await live.call("GET", "/healthz"))[0] == 200
    status, body = await live.call("GET", "/readyz")
    assert status == 200 and body["log_head"] >= 2  # the bootstrap catalog and schema
    await live.app[STORE].writer.stop()
    status, body = await live.call("GET", "/readyz")
    assert status == 503 and body["writer"] == "stopped"
    status, err = await live.call("POST", f"{V1}/models", json={"name": "unity.default.x"})
    assert status == 503 and err["error_code"] == "UNAVAILABLE"  # the client retries this


async def test_a_body_may_open_with_a_byte_order_mark(live):
    """RFC 8259 lets a parser ignore a UTF-8 byte order mark, and MLflow's server (Flask's JSON)
    does: so does Modelog, on every surface, for the body that follows it. One inside the JSON
    is not JSON."""
    bom = b"\xef\xbb\xbf"
    headers = {"Content-Type": "application/json"}
    for path, body in ((f"{V1}/models", b'{"name": "unity.default.bom"}'),
                       ("/api/2.0/mlflow/registered-models/create", b'{"name": "bom2"}')):
        status, created = await live.call("POST", path, data=bom + body, headers=headers)
        assert status in (200, 201), created
    status, found = await live.call("GET", f"{V1}/models/unity.default.bom2")
    assert status == 200 and found["full_name"] == "unity.default.bom2", found
    status, refused = await live.call("POST", f"{V1}/models", data=b'{"name": ' + bom + b'"x"}',
                                      headers=headers)
    assert status == 400 and refused["error_code"] == "INVALID_ARGUMENT", refused


async def test_a_client_hanging_up_mid_body_is_one_quiet_line(live, capsys):
    """Not a 500 with a traceback: the client went away, the server says so once and moves on."""
    capsys.readouterr()
    host, port = live.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /api/modelog/v1/models HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ")
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    for _ in range(50):
        await asyncio.sleep(0.05)
        out = capsys.readouterr().out
        if "client closed the connection" in out:
            break
    assert "client closed the connection" in out and "status=499" in out, out
    assert "Traceback" not in out and "unhandled error" not in out, out
    status, _ = await live.call("GET", "/healthz")
    assert status == 200
