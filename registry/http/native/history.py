"""Native timeline routes: which version each alias and stage of a model pointed at, and when.

`GET .../aliases/{alias}/history?at=T` answers "what did `champion` point to at T" (an index
lookup in `alias_history`); without `at`, it lists the alias's whole timeline. `GET .../timeline`
lists every lane of the model (aliases and stages). A name is resolved at `at`/`as_of` when given,
so a model renamed or deleted since is still found under the name it bore then.
"""

from typing import Any, Literal

from aiohttp import web

from registry.domain.errors import NotFound
from registry.eventstore import head_position, iso_time, read_stream
from registry.http import authorize
from registry.http.keys import POOL
from registry.http.native import PREFIX
from registry.http.native.requests import Page
from registry.http.validation import parse_query
from registry.http.wire import json_response, page
from registry.reads import as_of, queries, timeline


class AliasHistoryQuery(Page):
    at: str | None = None


class TimelineQuery(Page):
    as_of: str | None = None
    kind: Literal["alias", "stage"] | None = None
    lane: str | None = None


def period_json(p: timeline.Period) -> dict[str, Any]:
    return {"kind": p.kind, "lane": p.lane, "version": p.version,
            "valid_from": iso_time(p.valid_from), "valid_from_position": p.valid_from_position,
            "set_by": p.set_by,
            "valid_to": None if p.valid_to is None else iso_time(p.valid_to),
            "valid_to_position": p.valid_to_position, "ended_by": p.ended_by}


async def _model_id(request: web.Request, when: str | None) -> tuple[Any, int]:
    """The id of the model bearing the path's name (now, or at `when`) and the position used."""
    pool = request.app[POOL]
    name = request.match_info["full_name"]
    if when is None:
        authorize.require_read(request, name)
        model = await queries.get_model(pool, name)
        model_id, position = (None if model is None else model.id), 0
    else:
        position = await as_of.resolve(pool, when)
        model_id = await as_of.model_id_at(pool, name, position)
    if model_id is None:
        raise NotFound(f"registered model {name!r} does not exist", model=name)
    if when is not None:
        authorize.require_read_past(request, model_id, name)
    return model_id, position


async def _periods(request: web.Request, model_id: Any, q: TimelineQuery | AliasHistoryQuery,
                   kind: str | None, lane: str | None) -> list[timeline.Period]:
    pool = request.app[POOL]
    after = queries.decode_token(q.page_token, int) or 0
    if await timeline.caught_up_to(pool) >= await head_position(pool):
        return await timeline.lanes(pool, model_id, kind=kind, lane=lane, after=after,
                                    limit=q.max_results + 1)
    # The projection lags behind the head: fold this one model's stream for an exact answer.
    events = await read_stream(pool, f"model:{model_id}")
    found = [timeline.from_plan(p) for p in timeline.plan(events).periods
             if (kind is None or p.kind == kind) and (lane is None or p.lane == lane)
             and p.from_position > after]
    return found[: q.max_results + 1]


async def alias_history(request: web.Request) -> web.Response:
    q = parse_query(request, AliasHistoryQuery)
    alias = request.match_info["alias"]
    model_id, position = await _model_id(request, q.at)
    if q.at is not None:
        found = await timeline.alias_at(request.app[POOL], request.match_info["full_name"], alias,
                                        position)
        return json_response({"alias": alias, "position": position,
                              "period": None if found is None else period_json(found)})
    periods = await _periods(request, model_id, q, "alias", alias)
    return json_response(page(periods, q.max_results, "periods", period_json,
                              lambda p: p.valid_from_position))


async def model_timeline(request: web.Request) -> web.Response:
    q = parse_query(request, TimelineQuery)
    model_id, _ = await _model_id(request, q.as_of)
    periods = await _periods(request, model_id, q, q.kind, q.lane)
    return json_response(page(periods, q.max_results, "periods", period_json,
                              lambda p: p.valid_from_position))


def add_routes(app: web.Application) -> None:
    m = f"{PREFIX}/models/{{full_name}}"
    app.router.add_routes([
        web.get(f"{m}/aliases/{{alias}}/history", alias_history),
        web.get(f"{m}/timeline", model_timeline),
    ])
