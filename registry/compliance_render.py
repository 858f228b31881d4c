"""The compliance report as JSON (everything, nested) and CSV (one row per change)."""

import csv
import dataclasses
import io

import orjson

from .compliance import Report, summary

CSV_COLUMNS = ("model", "model_id", "position", "recorded_at", "actor", "request_id", "kind",
               "action", "version", "subject", "before", "after", "detail")


def to_json(report: Report) -> str:
    body = {"summary": summary(report), **dataclasses.asdict(report)}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in report.models:
        for c in m.changes:
            writer.writerow((m.full_name, m.model_id, c.position,
                             c.at.isoformat(timespec="microseconds"), c.actor, c.request_id,
                             c.kind, c.action, c.version, c.subject, c.before, c.after, c.detail))
    return out.getvalue()
