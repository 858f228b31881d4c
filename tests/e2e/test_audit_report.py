"""`modelog audit report` in JSON, CSV and HTML from a history made through the API; the HTML
rendered in headless Chromium (Debian's, installed by `make browser`) and checked as a page."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from registry.domain import commands as c
from registry.http.keys import SERVICE

V1 = "/api/modelog/v1"
FRAUD, CHURN = "unity.default.fraud", "unity.default.churn"
SCRIPT = "<script>window.pwned = 1</script>"
PAUSE = 0.15  # between alias moves, so each period is wide enough to read on the time axis


async def api(live, method: str, path: str, body: dict | None = None) -> dict:
    status, answer = await live.call(method, f"{V1}{path}", json=body or {})
    assert status in (200, 201), (method, path, answer)
    return answer


async def history(live) -> dict[str, datetime]:
    """Two models: `fraud`, whose champion moves v1 → v2 → v1 while v1 goes to Staging and
    Production and a request to move v2 to Production is approved with a comment (archiving
    v1); `churn`, renamed from `churn_old`, with two versions in Production at once and a tag
    set and deleted. Plus a model created and deleted. Descriptions, tags and comments carry
    markup that must come out as text."""
    marks = {}
    await api(live, "POST", "/models", {"name": FRAUD, "description": f"fraud {SCRIPT}",
                                        "tags": {"note": SCRIPT}})
    marks["start"] = datetime.now(UTC)
    f = f"/models/{FRAUD}"
    for n in (1, 2):
        await api(live, "POST", f"{f}/versions", {"source": f"s3://m/fraud/{n}", "run_id": f"run{n}"})
        await api(live, "POST", f"{f}/versions/{n}/finalize")
    for version in (1, 2, 1):
        await api(live, "PUT", f"{f}/aliases/champion", {"version": version})
        await asyncio.sleep(PAUSE)
    await api(live, "PUT", f"{f}/aliases/challenger", {"version": 2})
    for stage in ("Staging", "Production"):
        await api(live, "POST", f"{f}/versions/1/stage", {"stage": stage})
        await asyncio.sleep(PAUSE)
    await live.app[SERVICE].execute(c.RequestTransition(
        full_name=FRAUD, version=2, stage="Production", comment="beats v1 <b>by 3%</b>"),
        "alice", request_id="req-alice")
    await asyncio.sleep(PAUSE)
    await live.app[SERVICE].execute(c.ApproveTransition(
        full_name=FRAUD, version=2, stage="Production", comment=f"approved {SCRIPT}",
        archive_existing_versions=True), "bob", request_id="req-bob")

    await api(live, "POST", "/models", {"name": "unity.default.churn_old"})
    await api(live, "PATCH", "/models/unity.default.churn_old", {"new_name": CHURN})
    h = f"/models/{CHURN}"
    for n in (1, 2):
        await api(live, "POST", f"{h}/versions", {"source": f"s3://m/churn/{n}"})
        await api(live, "POST", f"{h}/versions/{n}/stage", {"stage": "Production"})
    await api(live, "PUT", f"{h}/aliases/champion", {"version": 2})
    await api(live, "PUT", f"{h}/tags/owner", {"value": "team-a"})
    await api(live, "DELETE", f"{h}/tags/owner")
    await api(live, "POST", "/models", {"name": "unity.default.gone"})
    await api(live, "DELETE", "/models/unity.default.gone")
    marks["end"] = datetime.now(UTC) + timedelta(milliseconds=200)
    return marks


def report(db_url: str, out: Path, fmt: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "registry.cli", "audit", "report", "--database-url", db_url,
         "--format", fmt, "--output", str(out), *args],
        capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert "reading [" in done.stderr and f"wrote {out}" in done.stderr  # progress on stderr
    return done


@pytest.fixture
async def made(live, db_url: str, tmp_path: Path):
    """The history, and a function writing the report of it in the given formats. The window
    starts at a log position (the first model's creation) and ends at a time."""
    marks = await history(live)
    first = await live.pool.fetchval("SELECT min(position) FROM events WHERE type = 'ModelCreated'")

    async def make(*formats: str) -> dict[str, Path]:
        out = {fmt: tmp_path / f"report.{fmt}" for fmt in formats}
        await asyncio.gather(*(asyncio.to_thread(report, db_url, path, fmt, "--since", str(first),
                                                 "--until", marks["end"].isoformat())
                               for fmt, path in out.items()))
        return out

    return make


def lanes(model: dict) -> dict[str, list[int]]:
    return {f"{lane['kind']}:{lane['name']}": [s["version"] for s in lane["segments"]]
            for lane in model["lanes"]}


async def test_report_json_and_csv(made):
    reports = await made("json", "csv")
    data = json.loads(reports["json"].read_text())
    # Bootstrap made the catalog and schema before the window; nothing was granted or refused.
    assert data["permission_changes"] == [] and data["denied_attempts"] == []
    assert data["securable_changes"] == []
    assert [(a["full_name"], a["owner"], a["readers"], a["modifiers"]) for a in data["access"]] == [
        (CHURN, "admin", ["admin"], ["admin"]), (FRAUD, "admin", ["admin"], ["admin"])]
    models = {m["full_name"]: m for m in data["models"]}
    assert list(models) == [CHURN, FRAUD, "unity.default.gone"]
    fraud, churn = models[FRAUD], models[CHURN]

    assert [(v["version"], v["registered_by"], v["source"], v["run_id"], v["status"])
            for v in fraud["versions"]] == [(1, "admin", "s3://m/fraud/1", "run1", "READY"),
                                           (2, "admin", "s3://m/fraud/2", "run2", "READY")]
    aliases = [(x["action"], x["subject"], x["before"], x["after"], x["actor"])
               for x in fraud["changes"] if x["kind"] == "alias"]
    assert aliases == [("set", "champion", None, "1", "admin"), ("moved", "champion", "1", "2", "admin"),
                       ("moved", "champion", "2", "1", "admin"), ("set", "challenger", None, "2", "admin")]
    stages = [(x["version"], x["before"], x["after"], x["actor"])
              for x in fraud["changes"] if x["kind"] == "stage"]
    assert stages == [(1, "None", "Staging", "admin"), (1, "Staging", "Production", "admin"),
                      (2, "None", "Production", "bob"), (1, "Production", "Archived", "bob")]
    [request] = fraud["requests"]
    assert (request["version"], request["stage"], request["requested_by"], request["comment"],
            request["outcome"], request["decided_by"], request["decision_comment"]) == (
        2, "Production", "alice", "beats v1 <b>by 3%</b>", "approved", "bob", f"approved {SCRIPT}")
    assert lanes(fraud) == {"alias:challenger": [2], "alias:champion": [1, 2, 1],
                            "stage:Staging": [1], "stage:Production": [1, 2], "stage:Archived": [1]}
    champion = fraud["lanes"][1]["segments"]
    assert all(a["end"] == b["start"] for a, b in pairwise(champion))
    assert champion[-1]["end"] == data["window"]["until"]

    # Two versions in Production at once take two tracks of its lane; the rename and tag changes
    # are there.
    assert lanes(churn) == {"alias:champion": [2], "stage:Production": [1, 2]}
    assert [s["track"] for s in churn["lanes"][1]["segments"]] == [0, 1]
    assert churn["names"] == ["unity.default.churn_old", CHURN]
    assert [(x["kind"], x["action"], x["subject"], x["before"], x["after"])
            for x in churn["changes"] if x["kind"] in ("model", "tag")] == [
        ("model", "created", None, None, "unity.default.churn_old"),
        ("model", "renamed", None, "unity.default.churn_old", CHURN),
        ("tag", "set", "owner", None, "team-a"), ("tag", "deleted", "owner", "team-a", None)]
    assert [x["action"] for x in models["unity.default.gone"]["changes"]] == ["created", "deleted"]
    assert data["summary"] == {"models": 3, "events": sum(m["events"] for m in data["models"]),
                               "versions_registered": 4, "alias_changes": 5, "stage_changes": 6,
                               "transition_requests": 1, "permission_changes": 0,
                               "catalog_and_schema_changes": 0, "denied_attempts": 0, "actors": 3}

    rows = list(csv.DictReader(io.StringIO(reports["csv"].read_text())))
    changes = [r for r in rows if r["section"] == "model"]
    assert len(changes) == sum(len(m["changes"]) for m in data["models"])
    expected = [(m["full_name"], x["position"], x["kind"], x["action"], x["actor"],
                 x["detail"] or "") for m in data["models"] for x in m["changes"]]
    assert [(r["object"], int(r["position"]), r["kind"], r["action"], r["actor"], r["detail"])
            for r in changes] == expected
    assert {r["section"] for r in rows} == {"model", "access"}


async def test_report_html_in_a_browser(made, page, tmp_path: Path):
    reports = await made("html")
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    await page.goto(reports["html"].as_uri())
    assert requested == [reports["html"].as_uri()]  # self-contained: nothing else is fetched
    assert (await page.title()).startswith("Modelog compliance report")
    assert await page.locator("h1").inner_text() == "Compliance report"
    sections = page.locator("section.model")
    assert await sections.evaluate_all("s => s.map(x => x.dataset.model)") == [
        CHURN, FRAUD, "unity.default.gone"]
    assert await page.locator("section.model h2").all_inner_texts() == [
        CHURN, FRAUD, "unity.default.gone"]

    fraud = page.locator(f'section.model[data-model="{FRAUD}"]')
    svg = fraud.locator("svg.timeline")
    # The web UI's own chart: a lane of the versions registered, then the aliases and stages.
    assert await svg.get_attribute("aria-label") == f"Alias and stage timeline of {FRAUD}"
    assert "alias champion: version 1 from" in await svg.locator("desc").text_content()
    lane_names = await svg.locator("g.lane").evaluate_all(
        "ls => ls.map(l => l.dataset.kind + ':' + l.dataset.lane)")
    assert lane_names == ["versions:versions", "alias:challenger", "alias:champion",
                          "stage:Staging", "stage:Production", "stage:Archived"]
    assert await svg.locator("g.mark").evaluate_all("ms => ms.map(m => m.dataset.version)") == [
        "1", "2"]
    champion = svg.locator('g.lane[data-lane="champion"] g.segment')
    assert await champion.evaluate_all("s => s.map(x => x.dataset.version)") == ["1", "2", "1"]
    boxes = [await champion.nth(i).locator("rect").bounding_box() for i in range(3)]
    assert all(b is not None and b["width"] > 0 and b["height"] > 0 for b in boxes), boxes
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]  # in time order, left to right
    # The pauses between moves make the middle period a visible share of the axis.
    assert boxes[1]["width"] > 5
    tip = await champion.nth(1).locator("title").text_content()
    assert tip.startswith("alias champion → version 2, set by admin at ")
    production = svg.locator('g.lane[data-lane="Production"] g.segment')
    assert await production.evaluate_all("s => s.map(x => x.dataset.version)") == ["1", "2"]

    # Markup from the log shows as text and never runs.
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert await page.locator("script").count() == 0
    body = await page.locator("body").inner_text()
    assert f"approved {SCRIPT}" in body and "beats v1 <b>by 3%</b>" in body
    assert await fraud.locator("b").count() == 0
    request_row = fraud.locator("table", has_text="transition requests").locator("tbody tr")
    assert await request_row.count() == 1
    cells = await request_row.locator("td").all_inner_texts()
    assert cells[:3] == ["2", "Production", "alice"] and cells[5:7] == ["approved", "bob"]
    # Every table has a caption; the not-yet-recorded sections say so.
    assert await page.locator("table").count() == await page.locator("table > caption").count()
    assert "none in this window" in await page.locator("#permissions").inner_text()
    assert "none in this window" in await page.locator("#denied").inner_text()
    await page.screenshot(path=tmp_path / "report.png", full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


@pytest.mark.parametrize(("args", "words"), [
    (["--since", "last week"], "--since must be a log position or an ISO-8601 time"),
    (["--object", "prod..x"], "empty segments"),
    (["--since", "2026-02-01T00:00:00Z", "--until", "2026-01-01T00:00:00Z"], "before it starts"),
])
def test_report_refuses_bad_arguments(db_url: str, args: list[str], words: str):
    done = subprocess.run([sys.executable, "-m", "registry.cli", "audit", "report",
                           "--database-url", db_url, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and words in done.stderr and not done.stdout, done.stderr
