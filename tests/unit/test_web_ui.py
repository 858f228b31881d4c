"""The web UI's pure parts: the timeline layout and its SVG, where sign-in may send one back to,
which paths are open, the colours' contrast, and the session cookie's flags."""

import re
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from registry.http.ui import session
from registry.timeline import chart
from registry.timeline.periods import Period

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def period(lane: str, version: int, start: int, end: int | None, by: str = "alice",
           kind: str = "alias") -> Period:
    return Period(kind, lane, version, start, T0 + timedelta(minutes=start), by,
                  end, None if end is None else T0 + timedelta(minutes=end),
                  None if end is None else "bob")


def test_lanes_group_order_and_cut_at_a_position():
    periods = [period("Production", 1, 2, None, kind="stage"), period("champion", 1, 1, 5),
               period("champion", 2, 5, None), period("None", 1, 1, None, kind="stage"),
               period("challenger", 3, 7, None)]
    now = T0 + timedelta(minutes=10)
    lanes = chart.lanes(periods, now)
    assert [(x.kind, x.name) for x in lanes] == [
        ("alias", "challenger"), ("alias", "champion"), ("stage", "Production")]
    champion = lanes[1].segments
    assert [(s.version, s.open, s.ended_by) for s in champion] == [(1, False, "bob"),
                                                                    (2, True, None)]
    assert champion[1].end == now
    # As of position 4: champion still on v1 (its end comes later), challenger not yet set.
    then = T0 + timedelta(minutes=4)
    cut = chart.lanes(periods, then, as_of_position=4)
    assert [x.name for x in cut] == ["champion", "Production"]
    assert [(s.version, s.open, s.end) for s in cut[0].segments] == [(1, True, then)]


def test_a_stage_holding_two_versions_at_once_takes_two_tracks():
    periods = [period("Production", 1, 1, None, kind="stage"),
               period("Production", 2, 3, 6, kind="stage"),
               period("Production", 3, 7, None, kind="stage")]
    [lane] = chart.lanes(periods, T0 + timedelta(minutes=9))
    assert [(s.version, s.track) for s in lane.segments] == [(1, 0), (2, 1), (3, 1)]
    assert lane.tracks == 2
    svg = chart.render([lane], [], T0, T0 + timedelta(minutes=9), "x")
    assert 'y="60"' in svg and 'y="92"' in svg  # the second track, one lane lower


def test_render_escapes_and_titles_every_segment():
    lanes = chart.lanes([period("<b>x</b>", 1, 0, 3, by="<script>")], T0 + timedelta(1))
    svg = chart.render(lanes, [chart.Registration(1, T0, "ann")], T0,
                              T0 + timedelta(minutes=10), 'a "label"')
    assert "<b>" not in svg and "<script>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'aria-label="a &quot;label&quot;"' in svg
    assert svg.count("<title>") == 2 and svg.count('tabindex="0"') == 2
    assert "version 1 registered by ann" in svg
    assert "alias &lt;b&gt;x&lt;/b&gt; → version 1, set by &lt;script&gt;" in svg


@pytest.mark.parametrize(("span", "label"), [
    (timedelta(seconds=5), "12:00:00.0"), (timedelta(minutes=1), "12:00:00"),
    (timedelta(hours=5), "2026-03-01 12:00"), (timedelta(days=30), "2026-03-01")])
def test_axis_labels_are_as_precise_as_the_window_needs(span: timedelta, label: str):
    svg = chart.render([], [], T0, T0 + span, "x")
    assert f">{label}</text>" in svg


@pytest.mark.parametrize(("target", "expected"), [
    ("/ui/models/a.b.c?as_of=3", "/ui/models/a.b.c?as_of=3"), ("//evil.example/", "/"),
    ("https://evil.example/", "/"), ("/\\evil", "/"), ("", "/"), (None, "/")])
def test_only_local_targets_are_followed(target, expected):
    assert session.local_target(target) == expected


def test_open_ui_paths_are_only_sign_in_and_static_files():
    assert session.is_open_ui_path("/ui/sign-in") and session.is_open_ui_path("/ui/static/app.css")
    assert not session.is_open_ui_path("/ui/audit")


def _contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        r, g, b_ = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b_)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_meet_wcag_aa_contrast():
    css = (Path(session.__file__).parent / "static" / "app.css").read_text()
    var = dict(re.findall(r"--(\w+):(#[0-9a-f]{6})", css))
    pairs = [(var["fg"], var["bg"]), (var["muted"], var["bg"]), (var["link"], var["bg"]),
             (var["muted"], var["soft"]), (var["ok"], var["okbg"]), (var["err"], var["errbg"]),
             ("#5c4400", "#fff7e0"), ("#ffffff", "#12263a"), ("#ffffff", "#1f5fa8"),
             ("#ffffff", "#24476b"), *(("#ffffff", c) for c in chart.PALETTE)]
    for fg, bg in pairs:
        assert _contrast(fg, bg) >= 4.5, (fg, bg)
    for fg, bg in (("#5c4400", "#fff7e0"), ("#ffffff", "#12263a"), ("#ffffff", "#1f5fa8")):
        assert f"{fg if fg != '#ffffff' else '#fff'}" in css and bg in css


@pytest.mark.parametrize(("tls", "forwarded", "secure"), [
    (False, None, False), (True, None, True),
    (False, "https", True), (False, "https, http", True),  # a proxy in front ended TLS
    (False, "http", False)])
def test_the_session_cookie_is_secure_over_tls(tls: bool, forwarded: str | None, secure: bool):
    request = make_mocked_request(
        "GET", "/", headers={"X-Forwarded-Proto": forwarded} if forwarded else {},
        sslcontext=ssl.create_default_context() if tls else None)
    response = web.Response()
    session.set_cookie(request, response, session.COOKIE, "v")
    cookie = response.cookies[session.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and bool(cookie["secure"]) is secure
