"""The audit view: the log filtered by actor, object prefix, action and time range, paged; its CSV
export (the audit API's own view, reached on a UI path); the hash chain's head and, on demand,
a verification of the whole chain.

Filters are parsed by the audit API's own model (`EventsQuery`) and the page comes from the same
one-query-per-page read (`audit_queries.fetch_page`). Like the audit API, it is the admins': the
whole log shows every object, actor and grant."""

from datetime import datetime
from typing import Any

from aiohttp import web

from registry.audit import queries as audit_queries
from registry.domain.events import EVENT_TYPES
from registry.eventstore import chain
from registry.http.authenticate import require_admin
from registry.http.keys import POOL
from registry.http.native.audit import CSV_COLUMNS, EventsQuery
from registry.http.ui.render import html_errors, page
from registry.reads import queries
from registry.reads.as_of import MAX_POSITION

PAGE = 50
FILTERS = ("actor", "object", "type", "since", "until")


def filters(query: dict[str, str]) -> dict[str, str]:
    """The filters a person filled in. A time typed without an offset is taken as UTC."""
    out = {k: query[k].strip() for k in FILTERS if query.get(k, "").strip()}
    for key in ("since", "until"):
        value = out.get(key)
        if value and not value.isdigit():
            try:
                naive = datetime.fromisoformat(value).tzinfo is None
            except ValueError:
                naive = False  # EventsQuery says what is wrong with it
            if naive:
                out[key] = value + "Z"
    return out


def summary(e: audit_queries.AuditEvent) -> str:
    """The payload in a few words: version, alias, stage, key and value where present."""
    keys = ("version", "alias", "stage", "previous_version", "previous_stage", "key", "value",
            "new_name", "comment")
    return ", ".join(f"{k}={e.data[k]}" for k in keys if e.data.get(k) is not None)


@html_errors
async def audit_view(request: web.Request) -> web.Response:
    require_admin(request)
    given = filters(dict(request.query))
    token = request.query.get("page_token") or None
    q = EventsQuery.model_validate({**given, "type": [given["type"]] if "type" in given else [],
                                    "page_token": token, "max_results": PAGE})
    f = audit_queries.Filter(actor=q.actor, object=q.object, types=tuple(q.type), since=q.since,
                            until=q.until)
    pool = request.config_dict[POOL]
    after = queries.decode_token(q.page_token, int, MAX_POSITION) or 0
    found = await audit_queries.fetch_page(pool, f, after, PAGE + 1)
    next_token = queries.encode_token(found[PAGE - 1].position) if len(found) > PAGE else None
    head = await pool.fetchrow("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
    verdict = await chain.verify(pool) if request.query.get("verify") == "1" else None
    context: dict[str, Any] = {
        "title": "Audit", "given": given, "events": found[:PAGE], "types": sorted(EVENT_TYPES),
        "next_token": next_token, "first_page": token is not None, "head": head,
        "verdict": verdict, "summary": summary, "csv_query": given,
        "csv_columns": CSV_COLUMNS,
    }
    return page(request, "audit.html", **context)

