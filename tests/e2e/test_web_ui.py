"""The web UI end to end in headless Chromium (Debian's, driven by Playwright): a model registered
through the MLflow client, browsed to, its alias moved in the UI, the timeline and the audit view
showing who did it; the session cookie and CSRF rules. (The pure timeline layout, colours and
cookie flags are tests/unit/test_web_ui.py.)"""

import asyncio
import html
import os
import re
import time
from pathlib import Path

import aiohttp
import pytest
from mlflow import MlflowClient
from playwright.async_api import expect
from yarl import URL

from registry.domain import commands as c
from registry.http.keys import AUTH, SERVICE
from registry.http.ui import session
from tests.support.server import grant, serving

NAME = "unity.default.fraud-scorer"
DOCS = Path(__file__).resolve().parents[2] / "docs"
UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')].filter(
    e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML)"""


def register_through_mlflow(url: str) -> None:
    """As the deployer (MLFLOW_TRACKING_TOKEN): a model, two versions, champion on v1, v1 through
    Staging to Production, challenger on v2. The pauses give each period a visible width."""
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model("fraud-scorer", tags={"team": "risk"},
                                   description="Scores card transactions")
    client.create_model_version("fraud-scorer", "s3://models/fraud/1", run_id="run1",
                                tags={"n": "1"})
    client.set_registered_model_alias("fraud-scorer", "champion", "1")
    time.sleep(0.4)
    client.transition_model_version_stage("fraud-scorer", "1", "Staging")
    time.sleep(0.4)
    client.create_model_version("fraud-scorer", "s3://models/fraud/2", run_id="run2",
                                tags={"n": "2"})
    client.transition_model_version_stage("fraud-scorer", "1", "Production")
    time.sleep(0.4)
    client.set_registered_model_alias("fraud-scorer", "challenger", "2")
    time.sleep(0.4)


async def sign_in(page, url: str, token: str, path: str = "/") -> None:
    await page.goto(url + path)
    assert page.url.startswith(url + "/ui/sign-in")  # sent to sign in first
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + path)


async def test_browse_move_the_champion_see_timeline_and_audit(
        db_url: str, tmp_path: Path, browser, monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0,
                       storage_root=f"file://{tmp_path}/artifacts") as server:
        auth = server.app[AUTH]
        deployer, _ = await auth.issue("deployer", actor="admin", admin=True)
        alice, _ = await auth.issue("alice", actor="admin")
        bob, _ = await auth.issue("bob", actor="admin")
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", str(deployer))
        await asyncio.to_thread(register_through_mlflow, server.url)
        for who in ("alice", "bob"):
            await grant(server, "catalog", "unity", who, "USE CATALOG")
            await grant(server, "schema", "unity.default", who, "USE SCHEMA")
            await grant(server, "registered_model", NAME, who, "EXECUTE")
        await grant(server, "registered_model", NAME, "alice", "MANAGE", "APPLY TAG")
        before_move = await server.app[AUTH].pool.fetchval("SELECT max(position) FROM events")

        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        await sign_in(page, server.url, str(alice))
        assert "Signed in as alice" in await page.locator("header").inner_text()

        # Browse: catalog -> schema -> model.
        await page.get_by_role("link", name="unity", exact=True).click()
        await page.get_by_role("link", name="default", exact=True).click()
        await page.get_by_role("link", name=NAME).click()
        await page.wait_for_url(f"{server.url}/ui/models/{NAME}")
        assert await page.locator("h1").inner_text() == NAME
        assert "Scores card transactions" in await page.locator("dl.facts").inner_text()
        assert await page.evaluate(UNLABELLED) == []
        await page.keyboard.press("Tab")  # the keyboard's first stop skips to the content
        assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
        assert await page.locator(".aliases a.badge").all_inner_texts() == [
            "challenger → v2", "champion → v1"]
        rows = page.locator("table.versions tbody tr")
        assert await rows.count() == 2
        cells = [await rows.nth(i).locator("th, td").all_inner_texts() for i in range(2)]
        assert [c[0] for c in cells] == ["1", "2"]
        assert [(c[1], c[2], c[4], c[5], c[6]) for c in cells] == [
            ("READY", "Production", "s3://models/fraud/1", "run1", "deployer"),
            ("READY", "None", "s3://models/fraud/2", "run2", "deployer")]
        assert "n=2" in cells[1][8]

        # Search by name and by tag.
        await page.goto(f"{server.url}/ui/models?q=FRAUD")
        assert await page.locator("table.models tbody tr").count() == 1
        await page.goto(f"{server.url}/ui/models?tag=team%3Dnope")
        assert await page.locator("table.models").count() == 0
        await page.goto(f"{server.url}/ui/models?tag=team%3Drisk")
        await page.get_by_role("link", name=NAME).click()

        # Move champion from v1 to v2 in the UI.
        await page.locator("#alias-form").get_by_label("Alias").fill("champion")
        await page.locator("#alias-form").get_by_label("Version").fill("2")
        await page.get_by_role("button", name="Set alias").click()
        await expect(page.locator(".flash[role=status]")).to_have_text(
            "Alias champion now points at version 2.")
        assert await page.locator(".aliases a.badge").all_inner_texts() == [
            "challenger → v2", "champion → v2"]
        moved = await server.app[AUTH].pool.fetchval("SELECT max(position) FROM events")

        # The other actions: a transition request for v2, approved with a comment; a tag; the
        # description. Each answers with what it did.
        form = page.locator("#request-form")
        await form.get_by_label("Version").fill("2")
        await form.get_by_label("Stage").select_option("Production")
        await form.get_by_label("Comment").fill("beats v1 <b>by 3%</b>")
        await form.get_by_role("button", name="Request").click()
        await expect(page.locator(".flash[role=status]")).to_have_text(
            "Requested stage Production for version 2.")
        request_cell = page.locator("#version-2 .request")
        assert await request_cell.locator("span").inner_text() == \
            "Production by alice: “beats v1 <b>by 3%</b>”"
        await request_cell.get_by_label("Comment on the request").fill("ok")
        await request_cell.get_by_role("button", name="Approve").click()
        await expect(page.locator(".flash[role=status]")).to_have_text(
            "Request for stage Production of version 2 approved.")
        assert await page.locator("#version-2 td").nth(1).inner_text() == "Production"
        await page.locator("#tag-form").get_by_label("Key").fill("tier")
        await page.locator("#tag-form").get_by_label("Value").fill("gold")
        await page.get_by_role("button", name="Set tag").click()
        await expect(page.locator(".flash[role=status]")).to_have_text("Tag tier set.")
        await page.get_by_role("button", name="Delete tag team").click()
        await expect(page.locator(".flash[role=status]")).to_have_text("Tag team deleted.")
        assert await page.locator("dl.facts .tag").all_inner_texts() == ["tier=gold"]
        await page.get_by_label("Description", exact=True).fill("Scores card transactions, v2")
        await page.get_by_role("button", name="Save description").click()
        await expect(page.locator(".flash[role=status]")).to_have_text("Description saved.")
        assert "transactions, v2" in await page.locator("dl.facts").inner_text()
        await asyncio.sleep(1)  # the open periods take a visible share of the axis
        await page.reload()

        # The timeline: champion's lane has v1 (set by the deployer) then v2 (by alice).
        champion = page.locator('svg.timeline g.lane[data-lane="champion"] g.segment')
        assert await champion.evaluate_all("gs => gs.map(g => g.dataset.version)") == ["1", "2"]
        tips = await champion.locator("title").all_text_contents()
        assert tips[0].startswith("alias champion → version 1, set by deployer at ")
        assert "(alice)" in tips[0]
        assert tips[1].startswith("alias champion → version 2, set by alice at ")
        assert tips[1].endswith("still so")
        boxes = [await champion.nth(i).locator("rect").bounding_box() for i in range(2)]
        assert all(b is not None and b["width"] > 0 for b in boxes)
        assert boxes[0]["x"] < boxes[1]["x"]
        marks = page.locator('svg.timeline g.lane[data-lane="versions"] g.mark')
        assert await marks.count() == 2
        # Keyboard: a segment takes focus and its tooltip is read out in the live region.
        await champion.nth(1).focus()
        assert (await page.locator("#timeline-detail").inner_text()).startswith(
            "alias champion → version 2, set by alice")
        await page.locator("section[aria-labelledby=timeline]").screenshot(
            path=tmp_path / "timeline.png")
        await page.screenshot(path=tmp_path / "model.png", full_page=True)
        if os.environ.get("MODELOG_UI_SCREENSHOTS"):  # refresh the README's pictures
            DOCS.mkdir(exist_ok=True)
            await page.screenshot(path=DOCS / "ui-model.png", full_page=True)
            await page.locator("section[aria-labelledby=timeline]").screenshot(
                path=DOCS / "ui-timeline.png")

        stages = page.locator('svg.timeline g.lane[data-kind="stage"]')
        assert await stages.evaluate_all("ls => ls.map(l => l.dataset.lane)") == [
            "Staging", "Production"]
        production = stages.nth(1).locator("g.segment")
        assert await production.evaluate_all("gs => gs.map(g => g.dataset.version)") == ["1", "2"]

        # The slider steps through the model's events: one step back from the last, then Enter.
        slider = page.get_by_label("Show the model as of")
        await slider.focus()
        await page.keyboard.press("End")
        await page.keyboard.press("ArrowLeft")
        positions = (await slider.get_attribute("data-positions")).split(",")
        assert await page.get_by_label("Position or time (UTC)").input_value() == positions[-2]
        assert (await page.locator("#as-of-label").inner_text()).startswith(
            f"position {positions[-2]} · ")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/ui/models/{NAME}?as_of={positions[-2]}")
        assert int(positions[-2]) > moved

        # As of before the move: champion was on v1, and the page says it is the past.
        await page.get_by_label("Position or time (UTC)").fill(str(before_move))
        await page.get_by_role("button", name="Show as of").click()
        await page.wait_for_url(f"**/ui/models/{NAME}?as_of={before_move}")
        assert await page.locator(".aliases a.badge").all_inner_texts() == [
            "challenger → v2", "champion → v1"]
        assert "read-only view of the past" in await page.locator(".flash.historic").inner_text()
        assert await page.locator("#alias-form").count() == 0
        historic = page.locator('svg.timeline g.lane[data-lane="champion"] g.segment')
        assert await historic.evaluate_all("gs => gs.map(g => g.dataset.version)") == ["1"]

        # The audit view is the admins' (the whole log): alice is refused, and told so.
        assert await page.get_by_role("link", name="Audit").count() == 0
        await page.goto(f"{server.url}/ui/audit")
        assert "principal 'alice' is not an admin" in await page.get_by_role("alert").inner_text()
        csv = await page.context.request.get(f"{server.url}/ui/audit/export")
        assert csv.status == 403
        assert all(u.startswith(server.url) for u in requested), requested  # offline

        # The deployer (an admin) sees alice's change in the audit view, and exports it as CSV.
        page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await sign_in(page, server.url, str(deployer), f"/ui/models/{NAME}")
        await page.get_by_role("link", name="Audit trail of this model").click()
        assert await page.get_by_label("Object").input_value() == NAME
        await page.goto(f"{server.url}/ui/audit")
        await page.get_by_label("Actor").fill("alice")
        await page.get_by_label("Action").select_option("AliasSet")
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**/ui/audit?*actor=alice*")
        assert await page.evaluate(UNLABELLED) == []
        audit_rows = page.locator("table.audit tbody tr")
        assert await audit_rows.count() == 1
        row = await audit_rows.first.locator("td").all_inner_texts()
        assert row[2:6] == ["alice", "AliasSet", NAME, "version=2, alias=champion, previous_version=1"]
        head = await page.locator("#head-hash").inner_text()
        assert len(head) == 64
        await page.get_by_role("link", name="Verify the whole chain").click()
        await page.wait_for_url("**verify=1**")
        assert (await page.locator("#verdict").inner_text()).startswith("Verified: all ")
        assert head in await page.locator("#verdict").inner_text()
        await page.screenshot(path=tmp_path / "audit.png", full_page=True)
        if os.environ.get("MODELOG_UI_SCREENSHOTS"):
            await page.screenshot(path=DOCS / "ui-audit.png", full_page=True)
        csv_url = await page.locator("#csv").get_attribute("href")
        csv = await page.context.request.get(server.url + csv_url)
        assert csv.ok and csv.headers["content-type"].startswith("text/csv")
        lines = (await csv.text()).strip().splitlines()
        assert lines[0].startswith("position,recorded_at,type") and len(lines) == 2
        assert ",AliasSet," in lines[1] and ",alice," in lines[1]

        # Bob may read but not move: the refusal is shown, and nothing changes.
        bob_page = await (await browser.new_context()).new_page()
        await sign_in(bob_page, server.url, str(bob), f"/ui/models/{NAME}")
        assert "lack the privilege" in await bob_page.locator("section[aria-labelledby=change]").inner_text()
        await bob_page.locator("#alias-form").get_by_label("Alias").fill("champion")
        await bob_page.locator("#alias-form").get_by_label("Version").fill("1")
        await bob_page.get_by_role("button", name="Set alias").click()
        await expect(bob_page.get_by_role("alert")).to_be_visible()
        alert = await bob_page.get_by_role("alert").inner_text()
        assert alert.startswith("Refused (403 PERMISSION_DENIED): principal 'bob' may not modify")
        assert await bob_page.locator(".aliases a.badge").all_inner_texts() == [
            "challenger → v2", "champion → v2"]


async def test_the_cookie_is_for_the_ui_only_and_forms_need_their_token(
        db_url: str, tmp_path: Path) -> None:
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        token, _ = await server.app[AUTH].issue("root", actor="admin", admin=True)
        # unsafe: keep cookies of an IP address host, as a browser does
        async with aiohttp.ClientSession(server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get("/ui/audit", allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/ui/sign-in?next=/ui/audit"
            async with http.post("/ui/sign-in", data={"token": "mlg_nope", "next": "/"},
                                 allow_redirects=False) as r:
                assert r.status == 401 and "not valid" in await r.text()
            async with http.post("/ui/sign-in", data={"token": str(token), "next": "//evil/"},
                                 allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/"
                cookie = r.cookies[session.COOKIE]
                assert cookie.value == str(token)
                assert cookie["httponly"] and cookie["samesite"] == "Strict"
                assert cookie["path"] == "/" and not cookie["secure"]  # plain HTTP here
            async with http.get("/ui/audit") as r:
                assert r.status == 200 and "Hash chain" in await r.text()
                assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            # The JSON APIs never take the cookie as a credential.
            async with http.get("/api/modelog/v1/catalogs") as r:
                assert r.status == 401
            # A form without its CSRF token, or from another site, is refused and does nothing.
            async with http.post(f"/ui/models/{NAME}/description", data={"description": "x"}) as r:
                assert r.status == 403 and "CSRF_CHECK_FAILED" in await r.text()
            csrf = session.hashlib.sha256(b"modelog-csrf\x00" + str(token).encode()).hexdigest()
            async with http.post(f"/ui/models/{NAME}/description",
                                 data={"description": "x", "csrf": csrf},
                                 headers={"Origin": "http://evil.example"}) as r:
                assert r.status == 403
            async with http.post(f"/ui/models/{NAME}/description",
                                 data={"description": "x", "csrf": csrf},
                                 allow_redirects=False) as r:  # the right token: the domain answers
                assert r.status == 303
            async with http.get(f"/ui/models/{NAME}") as r:
                assert r.status == 404 and "does not exist" in await r.text()
            async with http.post("/ui/sign-out", data={"csrf": csrf}, allow_redirects=False) as r:
                assert r.status == 303 and r.cookies[session.COOKIE].value == ""


async def test_without_auth_the_ui_acts_as_the_local_admin(db_url: str, tmp_path: Path) -> None:
    async with (serving(db_url, tmp_path) as server,
                aiohttp.ClientSession(server.url) as http):
        async with http.get("/") as r:
            text = await r.text()
            assert r.status == 200 and "admin (local admin: authentication is off)" in text
            assert session.COOKIE in r.cookies  # anchors the forms' CSRF token
        async with http.get("/ui/static/app.css") as r:
            assert r.status == 200 and r.content_type == "text/css"
        async with http.get("/ui/models?q=%00") as r:
            assert r.status == 400


async def test_a_past_view_links_to_where_the_model_is_now(db_url: str, tmp_path: Path) -> None:
    """Renamed since, the model is now under its new name; deleted since, there is no now."""
    api = "/api/modelog/v1/models"
    async with (serving(db_url, tmp_path) as server,
                aiohttp.ClientSession(server.url) as http):
        for path, body in ((api, {"name": "unity.default.old"}),
                           (f"{api}/unity.default.old/versions", {"source": "s3://b/1"})):
            async with http.post(path, json=body) as r:
                assert r.status == 201
        async with http.get("/api/modelog/v1/audit/verify") as r:
            then = (await r.json())["head_position"]
        async with http.patch(f"{api}/unity.default.old", json={"new_name": "unity.default.new"}) as r:
            assert r.status == 200
        for path, now in ((f"/ui/models/unity.default.old?as_of={then}", "/ui/models/unity.default.new"),
                          (f"/ui/models/unity.default.old/versions/1?as_of={then}",
                           "/ui/models/unity.default.new/versions/1")):
            async with http.get(path) as r:
                assert r.status == 200 and f'<a href="{now}">Back to now</a>' in await r.text()
        async with http.delete(f"{api}/unity.default.new?force=true") as r:
            assert r.status == 200
        async with http.get(f"/ui/models/unity.default.old?as_of={then}") as r:
            text = await r.text()
            assert "deleted since" in text and "Back to now" not in text


async def test_the_forms_without_a_browser(db_url: str, tmp_path: Path) -> None:
    """Each action answers with a redirect back and a message, and changes what the APIs read."""
    async with (serving(db_url, tmp_path, storage_root=f"file://{tmp_path}/a") as server,
                aiohttp.ClientSession(server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http):
        api = "/api/modelog/v1/models"
        for path, body in ((api, {"name": NAME}), (f"{api}/{NAME}/versions", {"source": "s3://b/1"}),
                           (f"{api}/{NAME}/versions", {"source": "s3://b/2"})):
            async with http.post(path, json=body) as r:
                assert r.status == 201, await r.text()
        async with http.get(f"/ui/models/{NAME}") as r:
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', await r.text())[1]

        async def post(path: str, to: str = "", **form: str) -> str:
            async with http.post(f"/ui/models/{NAME}{path}", data={"csrf": csrf, **form},
                                 allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == f"/ui/models/{NAME}{to}"
            async with http.get(r.headers["Location"]) as page:
                text = await page.text()
                return html.unescape(
                    re.search(r'<div class="flash [a-z]+" role="[a-z]+">([^<]*)</div>', text)[1])

        async def version(n: int) -> dict:
            async with http.get(f"{api}/{NAME}/versions/{n}") as r:
                return await r.json()

        assert await post("/aliases", alias="champion", version="1") == \
            "Alias champion now points at version 1."
        assert await post("/aliases/champion/delete") == "Alias champion deleted."
        assert (await post("/aliases", alias="champion", version="9")).startswith(
            "Refused (404 NOT_FOUND): ")
        assert (await post("/aliases", alias="", version="1")).startswith(
            "Refused (400 INVALID_ARGUMENT): ")
        assert await post("/stage", version="1", stage="staging") == \
            "Version 1 moved to stage staging."
        assert (await version(1))["stage"] == "Staging"
        assert await post("/requests", version="2", stage="Production", comment="please") == \
            "Requested stage Production for version 2."
        assert await post("/versions/2/requests/Production/reject", to="/versions/2",
                          comment="not yet") == \
            "Request for stage Production of version 2 rejected."
        assert (await version(2))["transition_requests"] == []
        assert await post("/requests", version="2", stage="Staging") == \
            "Requested stage Staging for version 2."
        assert await post("/versions/2/requests/Staging/cancel", to="/versions/2") == \
            "Request for stage Staging of version 2 cancelled."
        assert await post("/stage", version="x", stage="Staging") == \
            "Refused (400 INVALID_ARGUMENT): version must be a version number, not 'x'"
        assert await post("/tags", key="team", value="risk") == "Tag team set."
        assert await post("/tags/delete", key="team") == "Tag team deleted."
        async with http.get(f"{api}/{NAME}") as r:
            assert (await r.json())["tags"] == {}
        # Any letter may make a name: the links and redirects carry it percent-encoded.
        async with http.post(api, json={"name": "unity.default.modèle"}) as r:
            assert r.status == 201
        async with http.post("/ui/models/unity.default.modèle/tags",
                             data={"csrf": csrf, "key": "k", "value": "v"},
                             allow_redirects=False) as r:
            assert r.headers["Location"] == "/ui/models/unity.default.mod%C3%A8le"
        async with http.get(r.headers["Location"]) as r:
            assert "Tag k set." in await r.text()

        # A version's own page and forms, which lead back to it.
        v1 = "/versions/1"
        assert await post(f"{v1}/description", to=v1, description="the <first>") == \
            "Description of version 1 saved."
        assert await post(f"{v1}/tags", to=v1, key="ok", value="yes") == \
            "Tag ok of version 1 set."
        assert await post("/stage", to=v1, back=f"/ui/models/{NAME}{v1}", version="1",
                          stage="Production") == "Version 1 moved to stage Production."
        async with http.get(f"/ui/models/{NAME}{v1}") as r:
            text = await r.text()
            assert r.status == 200 and "the &lt;first&gt;" in text and "ok=yes" in text
        assert (await version(1))["description"] == "the <first>"
        assert await post(f"{v1}/tags/delete", to=v1, key="ok") == "Tag ok of version 1 deleted."
        assert (await version(1))["tags"] == {}
        async with http.get(f"/ui/models/{NAME}/versions/9") as r:
            assert r.status == 404
        async with http.get(f"/ui/models/{NAME}{v1}?as_of=1") as r:
            assert r.status == 404  # the model did not exist yet

        # Who did it is the local admin, with the UI's request ids, in the audit trail.
        async with http.get("/ui/audit?type=StageTransitionRejected") as r:
            text = await r.text()
            assert "StageTransitionRejected" in text and "comment=not yet" in text


async def test_behind_a_trusted_proxy_the_ui_takes_its_header(db_url: str, tmp_path: Path) -> None:
    async with (serving(db_url, tmp_path, auth="trusted-header") as server,
                aiohttp.ClientSession(server.url) as http):
        async with http.get("/", headers={"X-Forwarded-User": "carol"}) as r:
            assert r.status == 200 and "Signed in as <strong>carol</strong>" in await r.text()
        async with http.get("/", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/ui/sign-in?next=/"
        async with http.get("/ui/no-such-page", headers={"X-Forwarded-User": "carol"}) as r:
            assert r.status == 404 and r.content_type == "text/html"


async def test_pages_show_only_what_the_caller_may_read(db_url: str, tmp_path: Path) -> None:
    async with serving(db_url, tmp_path, auth="tokens", auth_cache_seconds=0) as server:
        auth = server.app[AUTH]
        root, _ = await auth.issue("root", actor="admin", admin=True)
        dana, _ = await auth.issue("dana", actor="admin")
        service = server.app[SERVICE]
        await service.execute(c.CreateCatalog(name="secret"), "admin")
        await service.execute(c.CreateModel(full_name=NAME), "admin")
        await grant(server, "catalog", "unity", "dana", "USE CATALOG")

        async def get(token: str, path: str) -> tuple[int, str]:
            jar = aiohttp.CookieJar(unsafe=True)
            jar.update_cookies({session.COOKIE: str(token)}, response_url=URL(server.url))
            async with (aiohttp.ClientSession(server.url, cookie_jar=jar) as http,
                        http.get(path, allow_redirects=False) as r):
                return r.status, await r.text()

        status, text = await get(root, "/")
        assert status == 200 and ">secret</a>" in text and ">unity</a>" in text
        status, text = await get(dana, "/")
        assert status == 200 and ">unity</a>" in text and "secret" not in text
        assert "Some catalogs are not shown here" in text
        status, text = await get(dana, "/ui/catalogs/unity")
        assert status == 200 and "default" not in text  # no USE SCHEMA on it
        status, text = await get(dana, "/ui/catalogs/secret")
        assert status == 403 and "may not read catalog &#39;secret&#39;" in text
        status, text = await get(dana, f"/ui/models/{NAME}")
        assert status == 403 and "PERMISSION_DENIED" in text
        status, text = await get(dana, "/ui/models")
        assert status == 200 and NAME not in text and "Some models are not shown" in text
        status, _ = await get(dana, "/ui/audit")
        assert status == 403
        status, text = await get(root, f"/ui/models/{NAME}")
        assert status == 200 and "Audit trail of this model" in text


async def test_forms_refuse_what_cannot_be_stored_and_go_back_only_somewhere_sound(
        db_url: str, tmp_path: Path) -> None:
    """A NUL in any form field is a 400 page, as the APIs refuse it, and appends nothing; a `back`
    that holds a control character goes to the model's page instead (the write committed, the
    answer still arrives), and one with letters beyond ASCII is percent-encoded."""
    async with (serving(db_url, tmp_path) as server,
                aiohttp.ClientSession(server.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http):
        async with http.post("/api/modelog/v1/models", json={"name": NAME}) as r:
            assert r.status == 201
        async with http.get(f"/ui/models/{NAME}") as r:
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', await r.text())[1]
        head = server.app[SERVICE].store.writer.committed
        for form in ({"key": "k", "value": "a\x00b"}, {"key": "k\x00", "value": "v"},
                     {"key": "k", "value": "v", "back": "/ui/\x00"}):
            async with http.post(f"/ui/models/{NAME}/tags", data={"csrf": csrf, **form},
                                 allow_redirects=False) as r:
                assert r.status == 400 and "NUL" in await r.text()
        assert server.app[SERVICE].store.writer.committed == head
        for back, expected in (("/ui/models\r\nSet-Cookie: x=1", f"/ui/models/{NAME}"),
                               ("/ui/models\n", f"/ui/models/{NAME}"),
                               ("/ui/models?q=modèle", "/ui/models?q=mod%C3%A8le")):
            async with http.post(f"/ui/models/{NAME}/tags", data={
                    "csrf": csrf, "key": "k", "value": "v", "back": back},
                    allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == expected, r.headers
                assert "Set-Cookie: x" not in str(r.headers)
