"""The dashboard's charts as the SVG templates draw them: rectangles, classes, labels.

Nothing here is markup: the templates write every label through Django's escaping, and
colours come from the severity classes in console.css (the CSP forbids inline styles).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from alerts.models import Severity

WIDTH, HEIGHT = 1200, 200       # the bar chart's drawing area, in user units (≈ pixels)
LEFT, BOTTOM, TOP = 34, 22, 8   # room for the count axis, the day labels, the top tick
HEAT_LEVELS = 5                 # heat-0 (none) to heat-5 (the busiest hour)
HEAT_CELL = 50                  # 24 cells across the chart's width


@dataclass
class Segment:
    severity: str
    count: int
    y: float
    height: float
    href: str       # the alert list of that day and severity
    label: str      # what a screen reader and the tooltip say


@dataclass
class Bar:
    day: date
    x: float
    width: float
    total: int
    segments: list
    label: str          # the day under every seventh bar, else ""
    label_x: float = 0  # where that label's middle is


def nice_ceiling(n: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above n (the axis' top tick)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= n:
                return m * step
        step *= 10


def day_bars(days: list, alerts_url: str) -> tuple[list, int]:
    """Stacked bars of [(date, {rank: n})], high at the bottom, each segment linking to
    `alerts_url` filtered to its day and severity; and the axis' top."""
    top = nice_ceiling(max((sum(c.values()) for _, c in days), default=0) or 1)
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bars = []
    for i, (day, counts) in enumerate(days):
        y = HEIGHT - BOTTOM
        total = sum(counts.values())
        since, until = day_range(day)
        segments = []
        for severity in Severity:
            n = counts.get(severity.value, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            query = urlencode({"severity": severity.label, "since": since, "until": until})
            segments.append(Segment(severity.label, n, round(y, 1), round(h, 1),
                                    f"{alerts_url}?{query}",
                                    f"{day.isoformat()}: {n} {severity.label} of {total}"))
        x = LEFT + i * slot + 1
        # The last label ends at the edge; the others are centred under their bar.
        bars.append(Bar(day, round(x, 1), round(slot - 2, 1), total, segments,
                        day.strftime("%b %d") if (len(days) - 1 - i) % 7 == 0 else "",
                        round(min(x + slot / 2, WIDTH - 20), 1)))
    return bars, top


def ticks(top: int) -> list:
    """The count axis: (value, y) at 0, half and the top."""
    plot_h = HEIGHT - BOTTOM - TOP
    return [(v, round(HEIGHT - BOTTOM - plot_h * v / top, 1)) for v in (0, top // 2, top)
            if v or top]


@dataclass
class Cell:
    x: int
    level: int      # 0 (none) to HEAT_LEVELS, relative to the busiest hour
    label: str
    axis: str       # the hour under every third cell, else ""


def heat_cells(hours: list) -> list:
    """The heat strip's 24 cells, one per hour of day."""
    busiest = max(hours, default=0)
    return [Cell(h * HEAT_CELL, 0 if not n else max(1, round(HEAT_LEVELS * n / busiest)),
                 f"{h:02d}:00–{h:02d}:59 UTC: {n} alert{'' if n == 1 else 's'}",
                 f"{h:02d}" if h % 3 == 0 else "") for h, n in enumerate(hours)]


def day_range(day: date) -> tuple[str, str]:
    """The alert list's since and until (until exclusive) for one UTC day."""
    return f"{day.isoformat()}T00:00:00Z", f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"


def duration(seconds: float | None) -> str:
    """Short human duration: 45s, 12m, 3h 20m, 2d 4h."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h {m}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d {h}h" if h else f"{d}d"
