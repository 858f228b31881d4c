"""A model's page: description, tags, owner, aliases, a page of versions, and its timeline, now or
as of any point of the log.

Reads are the APIs' own: the model from the read cache (or folded from its stream `as_of`), a page
of versions from the read model, the timeline from the `alias_history` projection (the model's
stream folded instead while the projection lags), the same privilege check (`require_read`).
"""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from markupsafe import Markup

from registry.domain import commands as c
from registry.domain.authority import denied
from registry.domain.errors import NotFound
from registry.domain.models import Model
from registry.domain.names import STAGES
from registry.http import authorize
from registry.http.errors import ApiError
from registry.http.keys import PRINCIPAL
from registry.http.ui.render import FormQuery, html_errors, page
from registry.http.validation import parse_query
from registry.reads.reader import EventPoint
from registry.timeline import chart
from registry.timeline.periods import Period

VERSIONS_PAGE = 25
MAX_PERIODS = 5000  # a chart beyond this many periods is cut (and says so)
MAX_POINTS = 1000  # the slider's stops: the model's latest events (older ones: type a position)


class ModelQuery(FormQuery):
    as_of: str | None = None
    after: int | None = None  # versions after this number


def model_url(full_name: str) -> str:
    return f"/ui/models/{quote(full_name)}"  # names may hold any letter, and headers want ASCII


async def now_url(request: web.Request, model: Model) -> str | None:
    """Where a model shown as it was is now: renamed since, it is under its new name (None:
    deleted since)."""
    name = await authorize.access(request).now_named(model.id)
    return None if name is None else model_url(name)


async def fetch_model(request: web.Request, full_name: str, position: int | None) -> Model:
    then = "" if position is None else f" at position {position}"
    return await authorize.reader(request).model(full_name, position, missing=NotFound(
        f"registered model {full_name!r} does not exist{then}", model=full_name))


def draw(model: Model, found: list[Period], points: list[EventPoint], position: int | None,
         until: datetime) -> tuple[str, list[chart.Lane]]:
    lanes = chart.lanes(found, until, position)
    registrations = [chart.Registration(p.version, p.at, p.actor) for p in points
                     if p.type == "VersionRegistered" and p.version is not None]
    starts = [p.at for p in points[:1]] + [s.start for lane in lanes for s in lane.segments]
    since = min(starts, default=model.created_at)
    since = min(since, model.created_at) if position is None else since
    svg = chart.render(lanes, registrations, since, max(until, since),
                              f"History of {model.full_name}: versions registered, and which "
                              "version each alias and stage pointed at over time")
    return svg, lanes


async def _may_change(request: web.Request, model: Model) -> bool:
    """Whether the caller may move this model's aliases (the forms say so; the server decides)."""
    try:
        access = authorize.access(request)
        await access.know([model.full_name])
        state = access.state()
    except ApiError:  # 503 while privileges reload: the attempt will be answered
        return True
    return denied(request[PRINCIPAL], c.SetAlias(full_name=model.full_name, alias="a", version=1),
                  state) is None


@html_errors
async def model_page(request: web.Request) -> web.Response:
    q = parse_query(request, ModelQuery)
    full_name = request.match_info["full_name"]
    reader = authorize.reader(request)
    position = None if q.as_of is None else await reader.point(q.as_of)
    model = await fetch_model(request, full_name, position)
    found = await reader.versions(model, position, after=q.after,
                                  limit=VERSIONS_PAGE)
    versions, next_after = found.items, found.next_after
    points = await reader.event_points(model, limit=MAX_POINTS)
    shown = [p for p in points if position is None or p.position <= position]
    until = shown[-1].at if position is not None and shown else datetime.now(UTC)
    found = await reader.periods(model.id, limit=MAX_PERIODS)
    svg, lanes = draw(model, found, shown, position, until)
    context: dict[str, Any] = {
        "title": model.full_name, "model": model, "versions": versions, "next_after": next_after,
        "query": q, "position": position, "points": points, "shown": shown,
        "svg": Markup(svg),  # built escaped (registry/timeline/chart.py)
        "lanes": lanes, "cut": len(found) >= MAX_PERIODS,
        "url": model_url(model.full_name), "stages": STAGES, "now_url": await now_url(request, model),
        "may_change": position is None and await _may_change(request, model),
        "slider_labels": json.dumps([
            f"{chart.when(p.at)} · {p.type}{f' v{p.version}' if p.version else ''}"
            f" · {p.actor or ''}" for p in points]),
    }
    return page(request, "model.html", **context)
