"""The compliance report as JSON (everything, nested) and CSV (one flat table: a row per model
change, permission change, catalog or schema change, denied attempt, and per principal who could
read or modify a model at the window's end; `section` tells which)."""

import csv
import dataclasses
import io
from collections.abc import Iterator
from datetime import datetime

import orjson

from registry.audit.compliance import Report, summary

CSV_COLUMNS = ("section", "object", "model_id", "position", "recorded_at", "actor", "request_id",
               "kind", "action", "version", "subject", "before", "after", "principal", "added",
               "removed", "detail")


def to_json(report: Report) -> str:
    body = {"summary": summary(report), **dataclasses.asdict(report)}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"


def _time(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def _rows(report: Report) -> Iterator[dict[str, object]]:
    for m in report.models:
        for c in m.changes:
            yield {"section": "model", "object": m.full_name, "model_id": m.model_id,
                   "position": c.position, "recorded_at": _time(c.at), "actor": c.actor,
                   "request_id": c.request_id, "kind": c.kind, "action": c.action,
                   "version": c.version, "subject": c.subject, "before": c.before,
                   "after": c.after, "detail": c.detail}
    for p in report.permission_changes:
        yield {"section": "permission", "object": p.full_name, "position": p.position,
               "recorded_at": _time(p.at), "actor": p.actor, "request_id": p.request_id,
               "kind": p.securable_type, "action": p.action, "before": p.owner_before,
               "after": p.owner_after, "principal": p.principal, "added": "; ".join(p.added),
               "removed": "; ".join(p.removed)}
    for s in report.securable_changes:
        yield {"section": "securable", "object": s.full_name, "position": s.position,
               "recorded_at": _time(s.at), "actor": s.actor, "request_id": s.request_id,
               "kind": s.securable_type, "action": s.action, "after": s.owner,
               "detail": s.comment}
    for a in report.access:  # as of the window's end
        for h in a.holders:
            could = [c for c, holds in (("could read", h.read), ("could modify", h.modify))
                     if holds]
            for action in could or ["no access"]:
                yield {"section": "access", "object": a.full_name, "model_id": a.model_id,
                       "recorded_at": _time(report.window.until), "kind": "registered_model",
                       "action": action, "principal": h.principal, "detail": h.basis}
    for d in report.denied_attempts:
        yield {"section": "denied", "object": d.full_name, "recorded_at": _time(d.at),
               "actor": d.principal, "request_id": d.request_id, "kind": d.securable_type,
               "action": d.action, "detail": f"{d.method} {d.route}"}


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in _rows(report):
        writer.writerow(row.get(c) for c in CSV_COLUMNS)
    return out.getvalue()
