"""A model's history as an SVG chart, pure: periods and registrations in, markup out; the one
chart of the web UI's model page and of the compliance report.

One lane for the versions registered (a mark each), then one lane per alias and per stage with a
segment for each period it pointed at a version. Every mark and segment carries a `<title>` (the
browser's tooltip: who changed it and when) and is focusable, so the keyboard reaches it too; the
UI's script mirrors the focused one into a live region. A `<desc>` tells every period in words,
for assistive technology and for a printed report.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from html import escape

from registry.timeline.periods import Period

# Segment fills, by version: each keeps white text at a contrast ratio of 4.5:1 or more.
PALETTE = ("#1f5fa8", "#a3461d", "#2a7a3b", "#7b3fa0", "#9c2a55", "#0f6e78", "#6b5d00",
           "#4a4a9c")
WIDTH, LABELS, LANE, GAP, AXIS, PAD = 960, 150, 24, 8, 28, 10  # user units
MIN_SEGMENT = 4.0  # a period too short to see at this scale still shows, and takes a pointer
STAGE_ORDER = ("Staging", "Production", "Archived")


@dataclass(frozen=True)
class Registration:
    version: int
    at: datetime
    by: str | None


@dataclass(frozen=True)
class Segment:
    version: int
    start: datetime  # the window's start for a period that began before it
    end: datetime  # the window's end for a period still open
    open: bool
    set_by: str
    ended_by: str | None
    set_at: datetime  # when it really began
    track: int = 0  # a stage holds several versions at once: each overlapping one a row of its own


@dataclass(frozen=True)
class Lane:
    kind: str  # "alias" or "stage"
    name: str
    segments: tuple[Segment, ...]

    @property
    def tracks(self) -> int:
        return 1 + max((s.track for s in self.segments), default=0)

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"


def lanes(periods: Sequence[Period], until: datetime, as_of_position: int | None = None,
          since: datetime | None = None) -> list[Lane]:
    """Periods grouped into lanes (aliases by name, then stages in their usual order), cut at
    `as_of_position`: what began after it is left out, what ended after it is still open; and
    drawn from `since` on, if given."""
    grouped: dict[tuple[str, str], list[Segment]] = {}
    for p in sorted(periods, key=lambda p: p.valid_from_position):
        if p.kind == "stage" and p.lane == "None":
            continue
        if as_of_position is not None and p.valid_from_position > as_of_position:
            continue
        ended = p.valid_to is not None and (as_of_position is None
                                            or (p.valid_to_position or 0) <= as_of_position)
        start = p.valid_from if since is None else max(p.valid_from, since)
        end = p.valid_to if ended and p.valid_to is not None else until
        grouped.setdefault((p.kind, p.lane), []).append(
            Segment(p.version, start, max(end, start), not ended, p.set_by,
                    p.ended_by if ended else None, p.valid_from))

    def order(key: tuple[str, str]) -> tuple:
        kind, name = key
        rank = STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER)
        return (kind != "alias", rank if kind == "stage" else 0, name)

    return [Lane(k[0], k[1], stacked(grouped[k])) for k in sorted(grouped, key=order)]


def stacked(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """Each segment on the first track free at its start (an alias's never overlap: one track)."""
    ends: list[datetime] = []
    out = []
    for s in segments:  # in start order
        track = next((i for i, end in enumerate(ends) if end <= s.start), len(ends))
        if track == len(ends):
            ends.append(s.end)
        ends[track] = s.end
        out.append(replace(s, track=track))
    return tuple(out)


def when(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="seconds")


def tooltip(lane: Lane, s: Segment) -> str:
    text = f"{lane.title} → version {s.version}, set by {s.set_by} at {when(s.set_at)}"
    if s.open:
        return text + "; still so"
    return text + f"; until {when(s.end)}" + (f" ({s.ended_by})" if s.ended_by else "")


def described(chart_lanes: Sequence[Lane]) -> str:
    """Every period in words: "alias champion: version 1 from … to …; …"."""
    return "; ".join(f"{lane.title}: " + ", ".join(
        f"version {s.version} from {when(s.start)} to {when(s.end)}{' (still so)' if s.open else ''}"
        for s in lane.segments) for lane in chart_lanes)


def _tick(t: datetime, span: timedelta) -> str:
    """An axis label as precise as the window needs."""
    if span < timedelta(seconds=20):  # ticks a few seconds apart: tenths tell them apart
        return t.strftime("%H:%M:%S.%f")[:-5]
    if span < timedelta(minutes=2):
        return t.strftime("%H:%M:%S")
    return t.strftime("%Y-%m-%d %H:%M" if span < timedelta(days=3) else "%Y-%m-%d")


def _esc(value: object) -> str:
    return escape(str(value), quote=True)


def render(chart_lanes: Sequence[Lane], registrations: Sequence[Registration], since: datetime,
           until: datetime, label: str) -> str:
    """The chart as an `<svg>` element; `label` names it for assistive technology."""
    span = max(until - since, timedelta(seconds=1))
    plot = WIDTH - LABELS - PAD

    def x(t: datetime) -> float:
        return LABELS + plot * min(max((t - since) / span, 0.0), 1.0)

    rows = 1 + sum(lane.tracks for lane in chart_lanes)
    height = AXIS + rows * (LANE + GAP)
    out = [f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="group" '
           f'aria-label="{_esc(label)}" xmlns="http://www.w3.org/2000/svg">'
           f'<desc>{_esc(described(chart_lanes))}</desc>']
    for i in range(5):  # the time axis, with a faint guide per tick
        t = since + span * (i / 4)
        tx = x(t)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(f'<g class="axis"><line x1="{tx:.1f}" y1="{AXIS - 6}" x2="{tx:.1f}" '
                   f'y2="{height}"/><text x="{tx:.1f}" y="{AXIS - 10}" text-anchor="{anchor}">'
                   f'{_esc(_tick(t, span))}</text></g>')

    y = AXIS
    out.append(f'<g class="lane" data-kind="versions" data-lane="versions">'
               f'<text class="lane-label" x="0" y="{y + LANE / 2 + 4}">versions</text>'
               f'<rect class="lane-bg" x="{LABELS}" y="{y}" width="{plot}" height="{LANE}"/>')
    for r in registrations:
        tip = f"version {r.version} registered by {r.by or 'unknown'} at {when(r.at)}"
        out.append(f'<g class="mark" tabindex="0" data-version="{r.version}"><title>{_esc(tip)}'
                   f'</title><circle cx="{x(r.at):.1f}" cy="{y + LANE / 2}" r="7" '
                   f'fill="{PALETTE[r.version % len(PALETTE)]}"/></g>')
    out.append("</g>")

    for lane in chart_lanes:
        y += LANE + GAP
        tall = lane.tracks * (LANE + GAP) - GAP
        out.append(f'<g class="lane" data-kind="{_esc(lane.kind)}" data-lane="{_esc(lane.name)}">'
                   f'<text class="lane-label" x="0" y="{y + LANE / 2 + 4}">{_esc(lane.title)}'
                   f'</text><rect class="lane-bg" x="{LABELS}" y="{y}" width="{plot}" '
                   f'height="{tall}"/>')
        top = y
        for s in lane.segments:
            y = top + s.track * (LANE + GAP)
            left = x(s.start)
            width = max(x(s.end) - left, MIN_SEGMENT)
            left = min(left, WIDTH - PAD - width)
            label = f"v{s.version}" if width >= 22 else ""
            out.append(
                f'<g class="segment" tabindex="0" data-version="{s.version}" '
                f'data-set-by="{_esc(s.set_by)}"><title>{_esc(tooltip(lane, s))}</title>'
                f'<rect x="{left:.1f}" y="{y}" width="{width:.1f}" height="{LANE}" rx="3" '
                f'fill="{PALETTE[s.version % len(PALETTE)]}"/>'
                f'<text class="segment-label" x="{left + width / 2:.1f}" y="{y + LANE / 2 + 4}" '
                f'text-anchor="middle">{label}</text></g>')
        y = top + (lane.tracks - 1) * (LANE + GAP)
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
