"""Native timeline routes: which version each alias and stage of a model pointed at, and when.

`GET .../aliases/{alias}/history?at=T` answers "what did `champion` point to at T" (an index
lookup in `alias_history`); without `at`, it lists the alias's whole timeline. `GET .../timeline`
lists every lane of the model (aliases and stages). A name is resolved at `at`/`as_of` when given,
so a model renamed or deleted since is still found under the name it bore then.
"""

from typing import Any, Literal

from aiohttp import web

from registry.eventstore import iso_time
from registry.http import authorize
from registry.http.native.requests import Page
from registry.http.validation import parse_query
from registry.http.wire import json_response, page
from registry.reads import queries
from registry.timeline.periods import Period


class AliasHistoryQuery(Page):
    at: str | None = None


class TimelineQuery(Page):
    as_of: str | None = None
    kind: Literal["alias", "stage"] | None = None
    lane: str | None = None


def period_json(p: Period) -> dict[str, Any]:
    return {"kind": p.kind, "lane": p.lane, "version": p.version,
            "valid_from": iso_time(p.valid_from), "valid_from_position": p.valid_from_position,
            "set_by": p.set_by,
            "valid_to": None if p.valid_to is None else iso_time(p.valid_to),
            "valid_to_position": p.valid_to_position, "ended_by": p.ended_by}


async def alias_history(request: web.Request) -> web.Response:
    q = parse_query(request, AliasHistoryQuery)
    reader, name, alias = authorize.reader(request), request.match_info["full_name"], \
        request.match_info["alias"]
    if q.at is not None:
        position = await reader.point(q.at)
        found = await reader.alias_at(name, alias, position)
        return json_response({"alias": alias, "position": position,
                              "period": None if found is None else period_json(found)})
    periods = await reader.periods(await reader.model_id(name), kind="alias", lane=alias,
                                   after=queries.decode_token(q.page_token, int) or 0,
                                   limit=q.max_results + 1)
    return json_response(page(periods, q.max_results, "periods", period_json,
                              lambda p: p.valid_from_position))


async def model_timeline(request: web.Request) -> web.Response:
    q = parse_query(request, TimelineQuery)
    reader = authorize.reader(request)
    at = None if q.as_of is None else await reader.point(q.as_of)
    periods = await reader.periods(await reader.model_id(request.match_info["full_name"], at),
                                   kind=q.kind, lane=q.lane,
                                   after=queries.decode_token(q.page_token, int) or 0,
                                   limit=q.max_results + 1)
    return json_response(page(periods, q.max_results, "periods", period_json,
                              lambda p: p.valid_from_position))


def add_routes(app: web.Application) -> None:
    m = "/models/{full_name}"
    app.router.add_routes([
        web.get(f"{m}/aliases/{{alias}}/history", alias_history),
        web.get(f"{m}/timeline", model_timeline),
    ])
