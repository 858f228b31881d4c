"""The compliance report's access part from a history made through the real HTTP API in tokens
mode: grants, revokes and ownership transfers (on the model and on the catalog and schema above
it), who could read and modify the model at the window's end (for a past window too), catalog and
schema events, and denied attempts, in JSON, CSV and HTML, by the HTTP route and the CLI."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from registry.http.keys import POOL
from tests.support.server import BOOTSTRAP, V1, Server, call, serving

FRAUD, OTHER = "unity.default.fraud", "other.s.m"


@dataclass
class Story:
    server: Server
    tokens: dict[str, str]
    before_revoke: datetime  # bob could read then
    end: int  # the log's last position once the story is told


async def act(story_server: Server, token: str, method: str, path: str, request_id: str,
              status: int = 200, **body: object) -> None:
    got, answer, headers = await call(story_server, method, f"{V1}{path}", token,
                                      headers={"X-Request-Id": request_id}, json=body or None)
    assert got == status, (method, path, got, answer)
    assert headers["X-Request-Id"] == request_id


def grant(principal: str, *add: str, remove: tuple[str, ...] = ()) -> dict:
    return {"changes": [{"principal": principal, "add": list(add), "remove": list(remove)}]}


@pytest.fixture
async def story(db_url: str, tmp_path, capsys: pytest.CaptureFixture[str]
                ) -> AsyncIterator[Story]:
    """alice may create models in unity.default and creates `fraud`; bob may use the catalog
    and schema, is granted EXECUTE on fraud and reads it; it is revoked and his next read is
    refused; alice hands fraud to carol; dave is granted EXECUTE on the whole schema. Around it:
    the catalog's comment changes, a sibling schema comes and goes, and in another catalog bob
    is granted EXECUTE on a model and still refused (no USE CATALOG there), then erin is given
    that catalog."""
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        admin = BOOTSTRAP.findall(capsys.readouterr().err)[0]
        tokens = {"admin": admin}
        for name in ("alice", "bob"):
            _, issued, _ = await call(server, "POST", f"{V1}/tokens", admin,
                                      json={"principal": name})
            tokens[name] = issued["token"]
        alice, bob = tokens["alice"], tokens["bob"]
        perms = "/permissions"
        await act(server, admin, "PATCH", f"{perms}/catalog/unity", "r-alice-cat",
                  **grant("alice", "USE CATALOG"))
        await act(server, admin, "PATCH", f"{perms}/schema/unity.default", "r-alice-schema",
                  **grant("alice", "USE SCHEMA", "CREATE MODEL"))
        await act(server, alice, "POST", "/models", "r-create", 201, name=FRAUD)
        await act(server, admin, "PATCH", f"{perms}/catalog/unity", "r-bob-cat",
                  **grant("bob", "USE CATALOG"))
        await act(server, admin, "PATCH", f"{perms}/schema/unity.default", "r-bob-schema",
                  **grant("bob", "USE SCHEMA"))
        await act(server, alice, "PATCH", f"{perms}/registered_model/{FRAUD}", "r-grant",
                  **grant("bob", "EXECUTE"))
        await act(server, bob, "GET", f"/models/{FRAUD}", "r-read")
        await asyncio.sleep(0.05)
        before_revoke = datetime.now(UTC)
        await asyncio.sleep(0.05)
        await act(server, alice, "PATCH", f"{perms}/registered_model/{FRAUD}", "r-revoke",
                  **grant("bob", remove=("EXECUTE",)))
        await act(server, bob, "GET", f"/models/{FRAUD}", "r-denied", 403)
        await act(server, alice, "PUT", f"/owner/registered_model/{FRAUD}", "r-owner",
                  owner="carol")
        await act(server, admin, "PATCH", f"{perms}/catalog/unity", "r-dave-cat",
                  **grant("dave", "USE CATALOG"))
        await act(server, admin, "PATCH", f"{perms}/schema/unity.default", "r-dave-schema",
                  **grant("dave", "USE SCHEMA", "EXECUTE"))
        await act(server, admin, "PATCH", "/catalogs/unity", "r-comment", comment="the models")
        await act(server, admin, "POST", "/schemas", "r-tmp", 201, catalog_name="unity",
                  name="tmp")
        await act(server, admin, "DELETE", "/schemas/unity.tmp", "r-tmp-gone")
        await act(server, admin, "POST", "/catalogs", "r-other", 201, name="other")
        await act(server, admin, "POST", "/schemas", "r-other-s", 201, catalog_name="other",
                  name="s")
        await act(server, admin, "POST", "/models", "r-other-m", 201, name=OTHER)
        await act(server, admin, "PATCH", f"{perms}/registered_model/{OTHER}", "r-other-grant",
                  **grant("bob", "EXECUTE"))
        await act(server, bob, "GET", f"/models/{OTHER}", "r-other-denied", 403)
        await act(server, admin, "PUT", "/owner/catalog/other", "r-other-owner", owner="erin")
        end = await server.app[POOL].fetchval("SELECT max(position) FROM events")
        yield Story(server, tokens, before_revoke, end)


async def report_response(story: Story, **params: str) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{story.server.url}{V1}/audit/report", params=params,
            headers={"Authorization": f"Bearer {story.tokens['admin']}"}) as r:
        return r.status, await r.text(), dict(r.headers)


async def fetch_report(story: Story, fmt: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    got, _, _ = await call(story.server, "GET", f"{V1}/audit/report?{query}", story.tokens["bob"])
    assert got == 403  # admins only: it names everyone's grants and refusals
    status, text, headers = await report_response(story, format=fmt, **params)
    assert status == 200, text
    assert headers["Content-Type"].startswith({"json": "application/json", "csv": "text/csv",
                                               "html": "text/html"}[fmt])
    return text


# What the story leaves in the log, as (request id, actor, type, securable, action, principal,
# added, removed, owner before, owner after).
PERMISSIONS = [
    ("r-alice-cat", "admin", "catalog", "unity", "granted", "alice", ["USE CATALOG"], [], None, None),
    ("r-alice-schema", "admin", "schema", "unity.default", "granted", "alice",
     ["USE SCHEMA", "CREATE MODEL"], [], None, None),
    ("r-bob-cat", "admin", "catalog", "unity", "granted", "bob", ["USE CATALOG"], [], None, None),
    ("r-bob-schema", "admin", "schema", "unity.default", "granted", "bob", ["USE SCHEMA"], [], None,
     None),
    ("r-grant", "alice", "registered_model", FRAUD, "granted", "bob", ["EXECUTE"], [], None, None),
    ("r-revoke", "alice", "registered_model", FRAUD, "revoked", "bob", [], ["EXECUTE"], None, None),
    ("r-owner", "alice", "registered_model", FRAUD, "owner changed", None, [], [], "alice", "carol"),
    ("r-dave-cat", "admin", "catalog", "unity", "granted", "dave", ["USE CATALOG"], [], None, None),
    ("r-dave-schema", "admin", "schema", "unity.default", "granted", "dave",
     ["USE SCHEMA", "EXECUTE"], [], None, None),
]
REVOKED_AT = 5  # PERMISSIONS[:5] happened before the revoke
ALL_ON_MODEL = ["EXECUTE", "APPLY TAG", "MANAGE", "ALL PRIVILEGES"]  # what an owner holds there
USE_BOTH = "USE CATALOG on catalog unity; USE SCHEMA"
END_HOLDERS = [  # at the end: (principal, could read, could modify, held, effective on the model)
    ("admin", True, True, "admin; owner of catalog unity; owner of schema unity.default",
     ALL_ON_MODEL),
    ("alice", False, False, f"{USE_BOTH}, CREATE MODEL on schema unity.default", []),
    ("bob", False, False, f"{USE_BOTH} on schema unity.default", []),
    ("carol", False, False, "owner of the model", ALL_ON_MODEL),
    ("dave", True, False, f"{USE_BOTH}, EXECUTE on schema unity.default", ["EXECUTE"])]


def permissions(data: dict) -> list[tuple]:
    return [(p["request_id"], p["actor"], p["securable_type"], p["full_name"], p["action"],
             p["principal"], p["added"], p["removed"], p["owner_before"], p["owner_after"])
            for p in data["permission_changes"]]


def access(data: dict) -> list[tuple]:
    return [(a["full_name"], a["owner"], a["readers"], a["modifiers"]) for a in data["access"]]


async def test_json_lists_grants_access_namespaces_and_denials_in_scope(story: Story) -> None:
    data = json.loads(await fetch_report(story, "json", object=FRAUD))
    assert permissions(data) == [tuple(row) for row in PERMISSIONS]
    positions = [p["position"] for p in data["permission_changes"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    # carol owns the model but holds no USE on its catalog and schema: she could not read it.
    assert access(data) == [(FRAUD, "carol", ["admin", "dave"], ["admin"])]
    assert [(h["principal"], h["read"], h["modify"], h["basis"], h["effective"])
            for h in data["access"][0]["holders"]] == END_HOLDERS
    # The catalog and schema above the model, not the sibling schema nor the other catalog.
    assert [(c["request_id"], c["actor"], c["securable_type"], c["full_name"], c["action"],
             c["owner"], c["comment"]) for c in data["securable_changes"]] == [
        ("bootstrap", "admin", "catalog", "unity", "created", "admin", "Default catalog"),
        ("bootstrap", "admin", "schema", "unity.default", "created", "admin", "Default schema"),
        ("r-comment", "admin", "catalog", "unity", "updated", None, "the models")]
    assert [(d["principal"], d["action"], d["securable_type"], d["full_name"], d["request_id"],
             d["method"]) for d in data["denied_attempts"]] == [
        ("bob", "read", "registered_model", FRAUD, "r-denied", "GET")]
    assert data["summary"]["permission_changes"] == len(PERMISSIONS)
    assert data["summary"]["denied_attempts"] == 1
    assert data["summary"]["catalog_and_schema_changes"] == 3
    assert {"alice", "admin"} <= set(data["actors"])

    # The whole registry: the other catalog's grant and refusal are there, with the sibling schema.
    everything = json.loads(await fetch_report(story, "json"))
    assert [p[0] for p in permissions(everything)] == [p[0] for p in PERMISSIONS] + [
        "r-other-grant", "r-other-owner"]
    assert [d["request_id"] for d in everything["denied_attempts"]] == ["r-denied", "r-other-denied"]
    assert [c["request_id"] for c in everything["securable_changes"]] == [
        "bootstrap", "bootstrap", "r-comment", "r-tmp", "r-tmp-gone", "r-other", "r-other-s",
        "r-other-owner"]
    # erin owns the other model's catalog, so everything in it is hers; bob is still refused.
    assert access(everything) == [
        (OTHER, "admin", ["admin", "erin"], ["admin", "erin"]),
        (FRAUD, "carol", ["admin", "dave"], ["admin"])]
    # A catalog prefix takes its schemas' events, not another catalog's.
    unity = json.loads(await fetch_report(story, "json", object="unity"))
    assert [c["request_id"] for c in unity["securable_changes"]][-2:] == ["r-tmp", "r-tmp-gone"]
    assert "r-other-grant" not in {p[0] for p in permissions(unity)}
    for bad in ({"object": "unity..x"}, {"format": "pdf"}, {"since": "last week"},
                {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}):
        status, text, _ = await report_response(story, **bad)
        assert status == 400, (bad, text)
    other = json.loads(await fetch_report(story, "json", object="other"))
    assert permissions(other) == [
        ("r-other-grant", "admin", "registered_model", OTHER, "granted", "bob", ["EXECUTE"], [],
         None, None),
        ("r-other-owner", "admin", "catalog", "other", "owner changed", None, [], [], "admin",
         "erin")]
    assert [(c["full_name"], c["action"], c["owner"]) for c in other["securable_changes"]] == [
        ("other", "created", "admin"), ("other.s", "created", "admin"),
        ("other", "owner changed", "erin")]
    assert [d["request_id"] for d in other["denied_attempts"]] == ["r-other-denied"]


async def test_a_window_before_the_revoke_shows_bob_as_a_reader(story: Story) -> None:
    before = json.loads(await fetch_report(story, "json", object=FRAUD,
                                           until=story.before_revoke.isoformat()))
    assert permissions(before) == [tuple(row) for row in PERMISSIONS[:REVOKED_AT]]
    assert access(before) == [(FRAUD, "alice", ["admin", "alice", "bob"], ["admin", "alice"])]
    assert [(h["principal"], h["read"], h["modify"], h["basis"])
            for h in before["access"][0]["holders"]] == [
        ("admin", True, True, "admin; owner of catalog unity; owner of schema unity.default"),
        ("alice", True, True, f"owner of the model; {USE_BOTH}, CREATE MODEL on schema "
                              "unity.default"),
        ("bob", True, False, f"{USE_BOTH} on schema unity.default; EXECUTE on the model")]
    assert before["denied_attempts"] == []
    # A window opening after the revoke: what happened in it only, access as of its end.
    after = json.loads(await fetch_report(story, "json", object=FRAUD,
                                          since=story.before_revoke.isoformat()))
    assert permissions(after) == [tuple(row) for row in PERMISSIONS[REVOKED_AT:]]
    assert "bob" not in after["access"][0]["readers"]
    assert [d["request_id"] for d in after["denied_attempts"]] == ["r-denied"]


async def test_csv_rows_match_the_json(story: Story) -> None:
    text = await fetch_report(story, "csv", object=FRAUD)
    rows = list(csv.DictReader(io.StringIO(text)))
    by = {s: [r for r in rows if r["section"] == s]
          for s in ("model", "permission", "securable", "access", "denied")}
    assert len(rows) == sum(map(len, by.values()))
    assert [(r["request_id"], r["actor"], r["kind"], r["object"], r["action"], r["principal"] or None,
             r["added"].split("; ") if r["added"] else [],
             r["removed"].split("; ") if r["removed"] else [], r["before"] or None,
             r["after"] or None) for r in by["permission"]] == [tuple(p) for p in PERMISSIONS]
    assert [(r["object"], r["principal"], r["action"], r["detail"]) for r in by["access"]] == [
        (FRAUD, "admin", "could read", END_HOLDERS[0][3]),
        (FRAUD, "admin", "could modify", END_HOLDERS[0][3]),
        (FRAUD, "alice", "no access", END_HOLDERS[1][3]),
        (FRAUD, "bob", "no access", END_HOLDERS[2][3]),
        (FRAUD, "carol", "no access", "owner of the model"),
        (FRAUD, "dave", "could read", END_HOLDERS[4][3])]
    assert [(r["actor"], r["action"], r["object"], r["request_id"]) for r in by["denied"]] == [
        ("bob", "read", FRAUD, "r-denied")]
    assert [(r["object"], r["action"]) for r in by["securable"]] == [
        ("unity", "created"), ("unity.default", "created"), ("unity", "updated")]
    assert [r["action"] for r in by["model"]] == ["created"]  # grants are not model changes
    assert OTHER not in text and "r-other" not in text


async def test_cli_writes_the_same_report(story: Story, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "registry.cli", "audit", "report", "--database-url", db_url,
        "--format", "json", "--output", str(out), "--object", FRAUD, "--until", str(story.end)],
        capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    served = json.loads(await fetch_report(story, "json", object=FRAUD, until=str(story.end)))
    written = json.loads(out.read_text())
    assert written == served and written["permission_changes"]


async def test_html_shows_the_rows_accessibly(story: Story, page, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(await fetch_report(story, "html", object=FRAUD))
    _, _, headers = await report_response(story, format="html")
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    await page.goto(html.as_uri())
    assert requested == [html.as_uri()]  # self-contained

    async def rows(selector: str) -> list[list[str]]:
        return await page.locator(f"{selector} tbody tr").evaluate_all(
            "rs => rs.map(r => [...r.cells].map(c => c.innerText))")

    permission_rows = await rows("#permissions table")
    assert [tuple(r[1:10]) for r in permission_rows] == [
        (actor, kind, name, action, principal or "", ", ".join(added), ", ".join(removed),
         f"{before} → {after}" if after else "", request_id)
        for request_id, actor, kind, name, action, principal, added, removed, before, after
        in PERMISSIONS]
    assert await rows("#access table:nth-of-type(1)") == [[FRAUD, "carol", "admin, dave", "admin"]]
    assert await rows("#access table:nth-of-type(2)") == [
        [FRAUD, who, "yes" if read else "no", "yes" if modify else "no", held, ", ".join(on_model)]
        for who, read, modify, held, on_model in END_HOLDERS]
    assert [r[2:5] + r[7:8] for r in await rows("#namespaces table")] == [
        ["catalog", "unity", "created", "bootstrap"],
        ["schema", "unity.default", "created", "bootstrap"],
        ["catalog", "unity", "updated", "r-comment"]]
    denied = await rows("#denied table")
    assert [r[1:6] for r in denied] == [["bob", "read", "registered_model", FRAUD, "r-denied"]]
    assert "other" not in await page.locator("main").inner_text()
    # Accessible tables: every one captioned, every header a column header.
    assert await page.locator("table").count() == await page.locator("table > caption").count()
    assert await page.locator("th:not([scope=col])").count() == 0
    for section in ("permissions", "access", "namespaces", "denied"):
        heading = page.locator(f"#{section}").get_attribute("aria-labelledby")
        assert await page.locator(f"#{await heading}").count() == 1
    await page.screenshot(path=tmp_path / "access.png", full_page=True)
