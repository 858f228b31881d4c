"""`GET /api/modelog/v1/audit/events`: the log filtered by actor, object, type and range, paged,
as JSON or CSV (`format=csv` or `Accept: text/csv`); `GET .../audit/denied`, the refusals; and
`GET .../audit/report`, the compliance report of a window (as `modelog audit report`)."""

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import pydantic
from aiohttp import web

from registry.audit import denied
from registry.audit import queries as audit_queries
from registry.audit import report as compliance_report
from registry.audit.formats import to_csv, to_json
from registry.audit.html import to_html
from registry.domain.errors import InvalidArgument
from registry.domain.events import EVENT_TYPES
from registry.eventstore import iso_time
from registry.http.authenticate import admin_only
from registry.http.keys import POOL
from registry.http.native.requests import Page
from registry.http.validation import Query, parse_query
from registry.http.wire import json_response, page
from registry.reads import queries
from registry.reads.as_of import MAX_POSITION, parse_point

EXPORT_PAGE = 1000  # events a query while exporting
CSV_COLUMNS = ("position", "recorded_at", "type", "schema_version", "object", "stream_id",
               "stream_version", "actor", "command", "request_id", "data", "hash")


class Scope(Query):
    """A stretch of the log and an object prefix, as `modelog audit report` takes them."""

    since: int | datetime | None = None  # a log position or an instant, as `as_of`
    until: int | datetime | None = None
    object: str | None = None

    @pydantic.field_validator("since", "until", mode="before")
    @classmethod
    def _point(cls, given: str, info: pydantic.ValidationInfo) -> int | datetime:
        return parse_point(given, info.field_name)

    @pydantic.field_validator("object")
    @classmethod
    def _segments(cls, given: str | None) -> str | None:
        return None if given is None else audit_queries.object_prefix(given)


class EventsQuery(Page, Scope):
    actor: str | None = None
    type: list[str] = []  # repeatable, each may be comma-separated
    format: Literal["json", "csv"] | None = None

    @pydantic.field_validator("type")
    @classmethod
    def _known_types(cls, given: list[str]) -> list[str]:
        names = [n.strip() for item in given for n in item.split(",") if n.strip()]
        unknown = sorted(set(names) - EVENT_TYPES.keys())
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(EVENT_TYPES))}")
        return names


def event_json(e: audit_queries.AuditEvent) -> dict[str, Any]:
    return {"position": e.position, "type": e.type, "schema_version": e.schema_version,
            "object": e.object, "stream_id": e.stream_id, "stream_version": e.stream_version,
            "data": e.data, "actor": e.actor, "command": e.command, "request_id": e.request_id,
            "recorded_at": iso_time(e.recorded_at), "hash": e.hash.hex()}


def events_csv(events: list[dict[str, Any]], header: bool = True) -> str:
    """`event_json` rows as CSV: flat columns, the payload as compact JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in events:
        data = orjson.dumps(row["data"], option=orjson.OPT_SORT_KEYS).decode()
        writer.writerow(data if c == "data" else row[c] for c in CSV_COLUMNS)
    return out.getvalue()


def _wants_csv(request: web.Request, q: EventsQuery) -> bool:
    if q.format is not None:
        return q.format == "csv"
    accepted = (r.split(";")[0].strip().lower() for r in request.headers.get("Accept", "").split(","))
    return "text/csv" in accepted


def _filter(q: EventsQuery) -> audit_queries.Filter:
    return audit_queries.Filter(actor=q.actor, object=q.object, types=tuple(q.type),
                               since=q.since, until=q.until)


async def audit_events_view(request: web.Request) -> web.Response:
    q = parse_query(request, EventsQuery, lists=("type",))
    f = _filter(q)
    after = queries.decode_token(q.page_token, int, MAX_POSITION) or 0
    found = await audit_queries.fetch_page(request.config_dict[POOL], f, after, q.max_results + 1)
    body = page(found, q.max_results, "events", event_json, lambda e: e.position)
    if not _wants_csv(request, q):
        return json_response(body)
    response = web.Response(text=events_csv(body["events"]), content_type="text/csv")
    token = body.get("next_page_token")
    if token is not None:
        response.headers["X-Next-Page-Token"] = token
        response.headers["Link"] = f'<{request.rel_url.update_query(page_token=token)}>; rel="next"'
    return response


async def audit_export(request: web.Request) -> web.StreamResponse:
    """Every event the filter matches (from `page_token` on), as one CSV file, streamed a page at
    a time: memory stays flat however long the log."""
    q = parse_query(request, EventsQuery, lists=("type",))
    f, pool = _filter(q), request.config_dict[POOL]
    after = queries.decode_token(q.page_token, int, MAX_POSITION) or 0
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="modelog-audit.csv"'})
    await response.prepare(request)
    await response.write(events_csv([]).encode())
    while True:
        found = await audit_queries.fetch_page(pool, f, after, EXPORT_PAGE)
        if found:
            await response.write(events_csv([event_json(e) for e in found], header=False).encode())
        if len(found) < EXPORT_PAGE:
            break
        after = found[-1].position
    await response.write_eof()
    return response


class DeniedQuery(Query):
    max_results: int = pydantic.Field(100, ge=1, le=1000)
    principal: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @pydantic.field_validator("since", "until", mode="before")
    @classmethod
    def _instant(cls, given: str, info: pydantic.ValidationInfo) -> datetime:
        # Through parse_point: an offset that takes a time past the calendar's ends in UTC
        # (0001-01-01T00:00:00+14:00) is refused here rather than overflowing the driver.
        point = parse_point(given, info.field_name)
        if isinstance(point, int):
            raise InvalidArgument(f"{info.field_name} must be an ISO-8601 time with a UTC offset",
                                  field=info.field_name)
        return point


async def denied_view(request: web.Request) -> web.Response:
    """Requests refused for want of a privilege."""
    q = parse_query(request, DeniedQuery)
    rows = await denied.query(request.config_dict[POOL], principal=q.principal, since=q.since,
                              until=q.until, limit=q.max_results)
    return json_response({"denied_attempts": rows})


class ReportQuery(Scope):
    format: Literal["json", "csv", "html"] = "json"


_RENDER = {"json": (to_json, "application/json"), "csv": (to_csv, "text/csv"),
           "html": (to_html, "text/html")}


async def report_view(request: web.Request) -> web.Response:
    """The compliance report (it names grants and refusals of everyone)."""
    q = parse_query(request, ReportQuery)
    pool = request.config_dict[POOL]
    w = await compliance_report.window(pool, q.since, q.until, q.object, datetime.now(UTC))
    render, content_type = _RENDER[q.format]
    report = await compliance_report.build(pool, w)
    # Rendered off the event loop: a report of a long history takes a while to write out.
    response = web.Response(text=await asyncio.to_thread(render, report),
                            content_type=content_type)
    if q.format == "html":  # it needs nothing but its own inline styles: let it load nothing else
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/audit/events", admin_only(audit_events_view))
    app.router.add_get("/audit/export", admin_only(audit_export))
    app.router.add_get("/audit/denied", admin_only(denied_view))
    app.router.add_get("/audit/report", admin_only(report_view))
