"""The compliance report as one self-contained HTML page: inline CSS, an inline SVG timeline per
model, no script and no external asset, readable offline and printable. Every string from the
log (names, comments, tags, sources) is escaped."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from registry.audit.compliance import Change, ModelSection, Report, counts, summary
from registry.timeline import chart

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
background:#fff;margin:0}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:1.7em;margin:0 0 .2em}h2{font-size:1.3em;margin:1.6em 0 .4em;
border-bottom:2px solid #d0d7de;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
.lede,.note{color:#444}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.9em;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em;font-size:.92em}
caption{text-align:left;font-weight:600;padding:.3em 0;color:#333}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top;
overflow-wrap:break-word}th{background:#f3f5f7}tbody tr:nth-child(even){background:#fafbfc}
td.num,th.num{text-align:right}
section.model{border-top:1px solid #d0d7de;margin-top:2em}
figure{margin:.5em 0}figcaption{color:#444;font-size:.9em}
svg.timeline{width:100%;height:auto;display:block}
svg.timeline text{font:12px system-ui,sans-serif}
.lane-label{fill:#1a1a1a}.axis text{fill:#444}.axis line{stroke:#8c959f}
.lane-bg{fill:#f3f5f7}.segment-label{fill:#fff;font-weight:600}
@media print{main{max-width:none}section.model{break-inside:avoid-page}}
"""


def esc(value: object) -> str:
    return "" if value is None else escape(str(value), quote=True)


def when(t: datetime | None) -> str:
    return "" if t is None else t.isoformat(sep=" ", timespec="milliseconds")


def _table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Iterable[int] = ()) -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="note">{esc(caption)}: none in this window.</p>'
    num = set(numeric)
    head = "".join(f'<th scope="col"{" class=num" if i in num else ""}>{esc(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if i in num else ""}>{esc(v)}</td>'
                                    for i, v in enumerate(r)) + "</tr>" for r in rows)
    return (f"<table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _alias_changes(caption: str, changes: Iterable[Change]) -> str:
    return _table(caption, ("When", "Who", "Alias", "Change", "From version", "To version",
                            "Position"),
                  ((when(c.at), c.actor, c.subject, c.action, c.before, c.after, c.position)
                   for c in changes), numeric=(4, 5, 6))


def _stage_changes(caption: str, changes: Iterable[Change]) -> str:
    return _table(caption, ("When", "Who", "Version", "From stage", "To stage", "Position"),
                  ((when(c.at), c.actor, c.version, c.before, c.after, c.position)
                   for c in changes), numeric=(2, 5))


def _other_changes(caption: str, changes: Iterable[Change]) -> str:
    return _table(caption, ("When", "Who", "What", "Version", "Tag", "From", "To", "Detail",
                            "Position"),
                  ((when(c.at), c.actor, f"{c.kind} {c.action}", c.version, c.subject, c.before,
                    c.after, c.detail, c.position) for c in changes), numeric=(3, 8))


def timeline(m: ModelSection, since: datetime, until: datetime) -> str:
    """The UI's own chart (registry/timeline/chart.py) of the window: the versions registered in
    it, then one lane per alias and stage."""
    registrations = [chart.Registration(v.version, v.registered_at, v.registered_by)
                     for v in m.versions]
    return chart.render(m.lanes, registrations, since, until,
                        f"Alias and stage timeline of {m.full_name}")


def _model(i: int, m: ModelSection, report: Report) -> str:
    w = report.window
    names = "" if len(m.names) < 2 else f" Named in turn: {esc(' → '.join(m.names))}."
    if m.lanes:
        chart = (f"<figure>{timeline(m, w.since, w.until)}<figcaption>The first lane marks "
                 "the versions registered; each other lane is an alias or a stage, each bar a "
                 "version it held. Hover a bar for who set it and when."
                 "</figcaption></figure>")
    else:
        chart = '<p class="note">No alias or stage held a version in this window.</p>'
    aliases = [c for c in m.changes if c.kind == "alias"]
    stages = [c for c in m.changes if c.kind == "stage"]
    others = [c for c in m.changes if c.kind in ("model", "version", "tag")]
    return (
        f'<section class="model" id="model-{i}" aria-labelledby="model-{i}-h" '
        f'data-model="{esc(m.full_name)}"><h2 id="model-{i}-h">{esc(m.full_name)}</h2>'
        f'<p class="note">Model id <code>{esc(m.model_id)}</code>; {m.events} event(s) in the '
        f"window.{names}</p><h3>Alias and stage timeline</h3>{chart}"
        "<h3>Versions registered</h3>"
        + _table(f"Versions of {m.full_name} registered in the window",
                 ("Version", "Registered by", "When", "Source", "Run id", "Status"),
                 ((v.version, v.registered_by, when(v.registered_at), v.source, v.run_id,
                   v.status) for v in m.versions), numeric=(0,))
        + "<h3>Alias changes</h3>" + _alias_changes(f"Alias changes of {m.full_name}", aliases)
        + "<h3>Stage changes</h3>" + _stage_changes(f"Stage changes of {m.full_name}", stages)
        + "<h3>Transition requests</h3>"
        + _table(f"Stage transition requests on {m.full_name}",
                 ("Version", "To stage", "Requested by", "When", "Comment", "Outcome",
                  "Decided by", "When decided", "Decision comment"),
                 ((r.version, r.stage, r.requested_by, when(r.requested_at), r.comment,
                   r.outcome, r.decided_by, when(r.decided_at), r.decision_comment)
                  for r in m.requests), numeric=(0,))
        + "<h3>Model, version and tag changes</h3>"
        + _other_changes(f"Other changes to {m.full_name}", others)
        + "</section>")


def _section(anchor: str, title: str, body: str) -> str:
    return (f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">{title}'
            f"</h2>{body}</section>")


def _access(report: Report) -> str:
    """Permission changes, who could read and modify at the window's end, catalog and schema
    events, denied attempts."""
    end = when(report.window.until)
    permissions = _table(
        "Grants, revokes and ownership transfers on the securables in scope",
        ("When", "Who", "Securable type", "Securable", "Change", "Principal", "Added", "Removed",
         "Owner", "Request id", "Position"),
        ((when(p.at), p.actor, p.securable_type, p.full_name, p.action, p.principal,
          ", ".join(p.added), ", ".join(p.removed),
          p.owner_after and f"{p.owner_before} → {p.owner_after}", p.request_id, p.position)
         for p in report.permission_changes), numeric=(10,))
    who = _table(
        f"Who could read and who could modify (deploy) each model at {end}",
        ("Model", "Owner", "Could read", "Could modify"),
        ((a.full_name, a.owner, ", ".join(a.readers), ", ".join(a.modifiers))
         for a in report.access))
    why = _table(
        f"Why: what each admin, owner and grantee held on each model and above it at {end}",
        ("Model", "Principal", "Could read", "Could modify", "Held",
         "Effective privileges on the model"),
        ((a.full_name, h.principal, "yes" if h.read else "no", "yes" if h.modify else "no",
          h.basis, ", ".join(h.effective)) for a in report.access for h in a.holders))
    securables = _table(
        "Catalog and schema events in scope",
        ("When", "Who", "Type", "Name", "Change", "Owner", "Comment", "Request id", "Position"),
        ((when(c.at), c.actor, c.securable_type, c.full_name, c.action, c.owner, c.comment,
          c.request_id, c.position) for c in report.securable_changes), numeric=(8,))
    denied = _table(
        "Requests refused for want of a privilege",
        ("When", "Principal", "Action", "Securable type", "Object", "Request id", "Request"),
        ((when(d.at), d.principal, d.action, d.securable_type, d.full_name, d.request_id,
          f"{d.method} {d.route}") for d in report.denied_attempts))
    return (_section("permissions", "Permission changes", permissions)
            + _section("access", "Access at the window's end",
                       '<p class="note">Folded from the log up to the window\'s end with the '
                       "privilege rules requests are checked with: admins, owners of the model "
                       "or a parent, and grantees with the privileges needed (reading: EXECUTE and "
                       "USE on the catalog and schema; modifying: MANAGE and USE).</p>" + who + why)
            + _section("namespaces", "Catalog and schema changes", securables)
            + _section("denied", "Denied attempts", denied))


def to_html(report: Report) -> str:
    w = report.window
    s = summary(report)
    span = f"{when(w.since)} to {when(w.until)}"
    scope = "all models" if w.object is None else f"models under {w.object}"
    per_model = _table(
        "Activity per model in the window",
        ("Model", "Events", "Versions registered", "Alias changes", "Stage changes",
         "Transition requests"),
        [*((m.full_name, m.events, *counts(m.changes).values()) for m in report.models),
         ("All models", s["events"], *counts(c for m in report.models for c in m.changes).values())],
        numeric=(1, 2, 3, 4, 5))
    facts = (("Window", span), ("Log positions", f"{w.since_position} to {w.until_position}"),
             ("Scope", scope), ("Models", s["models"]),
             ("Actors", ", ".join(report.actors) or "none"),
             ("Permission changes", s["permission_changes"]),
             ("Catalog and schema changes", s["catalog_and_schema_changes"]),
             ("Denied attempts", s["denied_attempts"]),
             ("Hash of the last event", report.last_hash or "no events"))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(f'Modelog compliance report, {span}')}</title><style>{CSS}</style></head>"
        f'<body><main><h1>Compliance report</h1><p class="lede">Every change to {esc(scope)} in '
        f"the Modelog registry from {esc(span)}, read from its hash-chained event log: versions, "
        "aliases, stages, grants and owners (theirs and their catalogs' and schemas'), who could "
        "read and modify them at the end, and the requests refused.</p>"
        '<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>'
        '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
        + f"</dl>{per_model}</section>"
        + "".join(_model(i, m, report) for i, m in enumerate(report.models, 1))
        + _access(report)
        + "</main></body></html>\n")
