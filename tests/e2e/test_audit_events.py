"""`GET /api/modelog/v1/audit/events` over real HTTP: every filter narrows to exactly what a plain
filter over the whole log keeps, paging returns each event once and in order, CSV matches JSON,
bad parameters are 400s in the native error format.

Commands by named actors go through the service (authentication does not exist yet, so every
HTTP request acts as `admin`).
"""

import csv
import io
import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from registry.domain import commands as c
from registry.http.keys import SERVICE
from registry.http.native import audit as audit_api

V1 = "/api/modelog/v1"
EVENTS = f"{V1}/audit/events"
EXPORT = f"{V1}/audit/export"


async def ok(live, **params: Any) -> dict:
    status, body = await live.call("GET", EVENTS, params=params)
    assert status == 200, (params, body)
    return body


async def every(live, **params: Any) -> list[dict]:
    """All matching events, following next_page_token."""
    out: list[dict] = []
    token = None
    while True:
        body = await ok(live, **params, **({"page_token": token} if token else {}))
        out += body["events"]
        token = body.get("next_page_token")
        if token is None:
            return out


async def history(live) -> None:
    """Catalog `prod` with schemas `fraud` and `fraudulent` (a name that `prod.fraud` must not
    match as a prefix), models in each and in `unity.default`, a rename out of `prod`, and
    changes by alice and bob beside the admin's."""
    service = live.app[SERVICE]

    async def api(method: str, path: str, body: dict | None = None) -> None:
        status, answer = await live.call(method, f"{V1}{path}", json=body or {})
        assert status in (200, 201), (path, answer)

    await api("POST", "/catalogs", {"name": "prod"})
    for schema in ("fraud", "fraudulent"):
        await api("POST", "/schemas", {"catalog_name": "prod", "name": schema})
    for model in ("prod.fraud.scorer", "prod.fraud.ranker", "prod.fraudulent.x",
                  "unity.default.iris"):
        await api("POST", "/models", {"name": model})
        await api("POST", f"/models/{model}/versions", {"source": f"s3://b/{model}/1"})
        await api("POST", f"/models/{model}/versions", {"source": f"s3://b/{model}/2"})
    await service.execute(c.SetAlias(full_name="prod.fraud.scorer", alias="champion", version=1),
                          "alice", request_id="r-alice-1")
    await service.execute(c.SetAlias(full_name="prod.fraud.scorer", alias="champion", version=2),
                          "bob", request_id="r-bob-1")
    await service.execute(c.SetModelTag(full_name="unity.default.iris", key="team", value="ml"),
                          "alice", request_id="r-alice-2")
    await api("PUT", "/models/prod.fraud.ranker/aliases/shadow", {"version": 1})
    await api("PATCH", "/models/prod.fraud.ranker", {"new_name": "unity.default.ranker"})
    await api("DELETE", "/models/unity.default.ranker/aliases/shadow")
    await service.execute(c.SetAlias(full_name="prod.fraudulent.x", alias="champion", version=2),
                          "alice", request_id="r-alice-3")


def under(prefix: str):
    return lambda e: e["object"] == prefix or e["object"].startswith(prefix + ".")


async def test_each_filter_keeps_exactly_what_it_names(live):
    await history(live)
    log = (await ok(live, max_results=1000))["events"]
    assert [e["position"] for e in log] == list(range(1, len(log) + 1))
    first = log[0]
    assert set(first) == {"position", "type", "schema_version", "object", "stream_id",
                          "stream_version", "data", "actor", "command", "request_id",
                          "recorded_at", "hash"}
    assert (first["type"], first["object"], first["request_id"]) == ("CatalogCreated", "unity",
                                                                       "bootstrap")
    assert first["recorded_at"].endswith("+00:00") and len(first["hash"]) == 64

    # The object is the name the model bore then: before the rename and after it.
    renamed = [e for e in log if e["stream_id"] == next(
        x["stream_id"] for x in log if x["object"] == "prod.fraud.ranker")]
    assert [e["object"] for e in renamed][:4] == ["prod.fraud.ranker"] * 4
    assert [(e["type"], e["object"]) for e in renamed][-2:] == [
        ("ModelRenamed", "unity.default.ranker"), ("AliasDeleted", "unity.default.ranker")]

    cases: list[tuple[dict[str, Any], Any]] = [
        ({"actor": "alice"}, lambda e: e["actor"] == "alice"),
        ({"actor": "nobody"}, lambda e: False),
        ({"object": "prod.fraud.scorer"}, lambda e: e["object"] == "prod.fraud.scorer"),
        ({"object": "prod"}, under("prod")),
        ({"object": "prod."}, under("prod")),
        ({"object": "prod.fraud"}, under("prod.fraud")),
        ({"object": "prod.fra"}, lambda e: False),
        ({"object": "unity.default"}, under("unity.default")),
        ({"type": "AliasSet,AliasDeleted"}, lambda e: e["type"] in ("AliasSet", "AliasDeleted")),
        ({"type": ["AliasSet", "ModelTagSet"]}, lambda e: e["type"] in ("AliasSet", "ModelTagSet")),
        ({"actor": "alice", "object": "prod", "type": "AliasSet"},
         lambda e: e["actor"] == "alice" and under("prod")(e) and e["type"] == "AliasSet"),
    ]
    lo, hi = log[5], log[len(log) - 5]
    cases += [
        ({"since": str(lo["position"])}, lambda e: e["position"] >= lo["position"]),
        ({"until": str(hi["position"])}, lambda e: e["position"] <= hi["position"]),
        ({"since": lo["recorded_at"], "until": hi["recorded_at"]},
         lambda e: lo["recorded_at"] <= e["recorded_at"] <= hi["recorded_at"]),
        ({"since": datetime.fromisoformat(lo["recorded_at"]).astimezone().isoformat()},
         lambda e: e["recorded_at"] >= lo["recorded_at"]),  # any offset means the same instant
        ({"since": "2000-01-01T00:00:00Z", "until": "2000-01-02T00:00:00Z"}, lambda e: False),
        ({"since": "9" * 30}, lambda e: False),
        ({"since": str(hi["position"]), "until": str(lo["position"])}, lambda e: False),
        ({"actor": "alice", "since": lo["recorded_at"], "until": str(hi["position"])},
         lambda e: e["actor"] == "alice" and lo["recorded_at"] <= e["recorded_at"]
         and e["position"] <= hi["position"]),
    ]
    for params, keep in cases:
        expected = [e for e in log if keep(e)]
        assert (await ok(live, **params, max_results=1000))["events"] == expected, params
    # Every filter above that should narrow did: none returned the whole log or nothing by luck.
    assert 0 < len([e for e in log if under("prod.fraud")(e)]) < len(
        [e for e in log if under("prod")(e)]) < len(log)


async def test_paging_returns_every_event_once_in_order(live):
    await history(live)
    log = (await ok(live, max_results=1000))["events"]
    for size in (1, 3, 7):
        pages = []
        token = None
        while True:
            body = await ok(live, max_results=size, **({"page_token": token} if token else {}))
            pages.append(body["events"])
            token = body.get("next_page_token")
            if token is None:
                break
        assert all(len(p) == size for p in pages[:-1]) and 1 <= len(pages[-1]) <= size
        assert [e for p in pages for e in p] == log
    assert await every(live, object="prod", max_results=2) == [e for e in log if under("prod")(e)]
    assert "next_page_token" not in await ok(live, max_results=len(log))
    assert (await ok(live, max_results=len(log) - 1)).get("next_page_token")


async def test_csv_parses_and_matches_json(live):
    await history(live)
    log = (await ok(live, max_results=1000))["events"]

    def parse(text: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO(text)))

    def same(rows: list[dict], events: list[dict]) -> None:
        assert len(rows) == len(events)
        for row, e in zip(rows, events, strict=True):
            assert json.loads(row.pop("data")) == e["data"]
            assert row == {k: "" if v is None else str(v) for k, v in e.items() if k != "data"}

    async with live.http.get(EVENTS, params={"format": "csv", "max_results": "1000"}) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        assert "X-Next-Page-Token" not in r.headers and "Link" not in r.headers
        same(parse(await r.text()), log)
    # Accept: text/csv asks for the same; paging follows the Link header.
    rows, url = [], f"{EVENTS}?max_results=4&object=prod"
    while url:
        async with live.http.get(url, headers={"Accept": "text/csv"}) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            rows += parse(await r.text())
            link = r.headers.get("Link")
            assert (link is None) == ("X-Next-Page-Token" not in r.headers)
            url = None if link is None else link.split(">")[0].lstrip("<")
            if url is not None:
                assert parse_qs(urlsplit(url).query)["page_token"] == [
                    r.headers["X-Next-Page-Token"]]
    same(rows, [e for e in log if under("prod")(e)])
    # format=json wins over the Accept header.
    async with live.http.get(EVENTS, params={"format": "json"}, headers={"Accept": "text/csv"}) as r:
        assert r.content_type == "application/json"


async def test_the_export_is_every_matching_event_in_one_file(live, monkeypatch):
    """Streamed a few events a query (here 3), the export is the whole filtered log: the same rows
    as the paged CSV, the header once."""
    monkeypatch.setattr(audit_api, "EXPORT_PAGE", 3)
    await history(live)
    log = (await ok(live, max_results=1000))["events"]
    assert len(log) > 3 * 2  # several queries' worth
    for params, expected in (({}, log), ({"object": "prod"}, [e for e in log if under("prod")(e)]),
                             ({"actor": "nobody"}, [])):
        async with live.http.get(EXPORT, params=params) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            assert "attachment" in r.headers["Content-Disposition"]
            text = await r.text()
        async with live.http.get(EVENTS, params={**params, "format": "csv",
                                                 "max_results": "1000"}) as r:
            assert text == await r.text()
        assert len(text.splitlines()) == len(expected) + 1
    async with live.http.get(EXPORT, params={"since": "soon"}) as r:
        assert r.status == 400  # refused before the first byte is sent


BAD = [
    ({"type": "AliasSet,Nope"}, "type", "Nope"),
    ({"type": ["AliasSet", "alias_set"]}, "type", "alias_set"),
    ({"since": "yesterday"}, "since", "ISO-8601"),
    ({"until": "2026-03-01T12:00:00"}, "until", "UTC offset"),
    ({"since": "0001-01-01T00:00:00+01:00"}, "since", "out of range"),
    ({"max_results": "0"}, "max_results", "greater than or equal to 1"),
    ({"max_results": "1001"}, "max_results", "less than or equal to 1000"),
    ({"max_results": "many"}, "max_results", "integer"),
    ({"page_token": "not-a-token"}, "page_token", "page_token"),
    ({"object": "prod..fraud"}, "object", "empty segments"),
    ({"object": "."}, "object", "empty segments"),
    ({"format": "xml"}, "format", "csv"),
    ({"actor": ["alice", "bob"]}, None, "given twice"),
    ({"colour": "red"}, "colour", "Extra inputs"),
    ({"actor": "a\x00b"}, None, "NUL"),
]


async def test_bad_parameters_are_400s_with_a_clear_message(live):
    for params, field, words in BAD:
        for headers in ({}, {"Accept": "text/csv"}):  # errors are JSON whatever was asked for
            status, body = await live.call("GET", EVENTS, params=params, headers=headers)
            assert status == 400, (params, body)
            assert body["error_code"] == "INVALID_ARGUMENT" and words in body["message"], body
            if field is not None:
                assert field in body["message"] or body["details"].get("field") == field, body


async def test_denied_attempts_refuse_times_past_the_calendar_in_utc(live):
    """An offset that carries a time past year 1 or 9999 in UTC is a 400, not a driver overflow;
    times within it still select."""
    for field, when in (("since", "0001-01-01T00:00:00+14:00"),
                        ("until", "9999-12-31T23:59:59-14:00"), ("since", "12")):
        status, body = await live.call("GET", f"{V1}/audit/denied", params={field: when})
        assert status == 400 and body["error_code"] == "INVALID_ARGUMENT", body
        assert body["details"].get("field") == field, body
    status, body = await live.call("GET", f"{V1}/audit/denied", params={
        "since": "0001-01-02T00:00:00+14:00", "until": "9999-12-30T00:00:00-14:00"})
    assert status == 200 and body == {"denied_attempts": []}, body
