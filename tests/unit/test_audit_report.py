"""The compliance report's pure parts: its colours keep white labels readable, and an empty window
reports nothing."""

from datetime import UTC, datetime

from registry.audit.compliance import ReportBuilder, Window
from registry.timeline.chart import PALETTE


def _luminance(hex_colour: str) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_segment_colours_keep_white_labels_readable():
    for colour in PALETTE:  # WCAG contrast of white text on the fill
        assert 1.05 / (_luminance(colour) + 0.05) >= 4.5, colour


def test_empty_window_reports_nothing():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    built = ReportBuilder(Window(at, at, 1, 0)).report()
    assert built.models == () and built.actors == () and built.last_hash is None
