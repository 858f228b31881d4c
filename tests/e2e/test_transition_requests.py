"""Stage transition requests through the native API: request, approve, reject, cancel."""

V1 = "/api/modelog/v1"
M = f"{V1}/models/unity.default.scorer"


async def setup(live) -> None:
    assert (await live.call("POST", f"{V1}/models", json={"name": "unity.default.scorer"}))[0] == 201
    for _ in range(3):
        assert (await live.call("POST", f"{M}/versions", json={"source": "s3://b"}))[0] == 201
    status, mv = await live.call("POST", f"{M}/versions/1/stage", json={"stage": "production"})
    assert status == 200 and mv["stage"] == "Production"


async def test_request_then_approve_archives_the_old_production_version(live) -> None:
    await setup(live)
    status, mv = await live.call("POST", f"{M}/versions/2/transition-requests",
                                 json={"stage": "Production", "comment": "beats v1 by 3%"})
    assert status == 201 and mv["stage"] == "None"
    [req] = mv["transition_requests"]
    assert (req["stage"], req["comment"], req["requested_by"]) == ("Production", "beats v1 by 3%",
                                                                   "admin")
    status, mv = await live.call("POST", f"{M}/versions/2/transition-requests/Production/approve",
                                 json={"comment": "approved", "archive_existing_versions": True})
    assert status == 200 and mv["stage"] == "Production" and mv["transition_requests"] == []
    status, v1 = await live.call("GET", f"{M}/versions/1")
    assert v1["stage"] == "Archived"
    status, history = await live.call("GET", f"{M}/history")
    tail = [(e["type"], e["data"].get("version"), e["data"].get("stage"), e["data"].get("comment"))
            for e in history["events"][-4:]]
    assert tail == [("StageTransitionRequested", 2, "Production", "beats v1 by 3%"),
                    ("StageTransitionApproved", 2, "Production", "approved"),
                    ("VersionStageTransitioned", 2, "Production", None),
                    ("VersionStageTransitioned", 1, "Archived", None)]


async def test_reject_and_cancel_close_the_request_without_moving(live) -> None:
    await setup(live)
    await live.call("POST", f"{M}/versions/3/transition-requests", json={"stage": "Staging"})
    status, mv = await live.call("POST", f"{M}/versions/3/transition-requests/staging/reject",
                                 json={"comment": "not yet"})
    assert status == 200 and mv["stage"] == "None" and mv["transition_requests"] == []
    await live.call("POST", f"{M}/versions/3/transition-requests", json={"stage": "Staging"})
    status, mv = await live.call("DELETE", f"{M}/versions/3/transition-requests/Staging")
    assert status == 200 and mv["transition_requests"] == []
    types = [e["type"] for e in (await live.call("GET", f"{M}/history"))[1]["events"]]
    assert types[-4:] == ["StageTransitionRequested", "StageTransitionRejected",
                          "StageTransitionRequested", "StageTransitionCancelled"]


async def test_refusals_append_nothing(live) -> None:
    await setup(live)
    await live.call("POST", f"{M}/versions/2/transition-requests", json={"stage": "Staging"})
    head = await live.pool.fetchval("SELECT max(position) FROM events")
    for method, path, body, status, code in [
        ("POST", f"{M}/versions/2/transition-requests", {"stage": "Staging"}, 409,
         "ALREADY_EXISTS"),
        ("POST", f"{M}/versions/1/transition-requests", {"stage": "Production"}, 409,
         "FAILED_PRECONDITION"),
        ("POST", f"{M}/versions/2/transition-requests", {"stage": "Shipped"}, 400,
         "INVALID_ARGUMENT"),
        ("POST", f"{M}/versions/2/transition-requests/Production/approve", {}, 404, "NOT_FOUND"),
        ("DELETE", f"{M}/versions/3/transition-requests/Staging", None, 404, "NOT_FOUND"),
        ("POST", f"{M}/versions/9/transition-requests", {"stage": "Staging"}, 404, "NOT_FOUND"),
        ("POST", f"{M}/versions/2/transition-requests/Staging/approve",
         {"archive_existing_versions": "yes"}, 400, "INVALID_ARGUMENT"),
    ]:
        got, err = await live.call(method, path, json=body)
        assert (got, err["error_code"]) == (status, code), (method, path, err)
    assert await live.pool.fetchval("SELECT max(position) FROM events") == head


async def test_deleting_a_version_drops_its_open_requests(live) -> None:
    await setup(live)
    await live.call("POST", f"{M}/versions/3/transition-requests", json={"stage": "Staging"})
    assert (await live.call("DELETE", f"{M}/versions/3"))[0] == 200
    assert await live.pool.fetchval("SELECT count(*) FROM transition_requests") == 0
