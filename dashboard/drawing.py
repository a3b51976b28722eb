"""The dashboard's charts as the SVG templates draw them: rectangles, classes, labels.

Nothing here is markup: the templates write every label through Django's escaping, and
colours come from the severity classes in console.css (the CSP forbids inline styles).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from alerts.models import Severity

WIDTH, HEIGHT = 720, 180        # the bar chart's drawing area, in user units
LEFT, BOTTOM, TOP = 34, 22, 8   # room for the count axis, the day labels, the top tick
HEAT_LEVELS = 5                 # heat-0 (none) to heat-5 (the busiest hour)


@dataclass
class Segment:
    severity: str
    count: int
    y: float
    height: float


@dataclass
class Bar:
    day: date
    x: float
    width: float
    total: int
    segments: list
    label: str          # the day under every seventh bar, else ""
    since: str = ""     # the alert list's range for the day
    until: str = ""


def nice_ceiling(n: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above n (the axis' top tick)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= n:
                return m * step
        step *= 10


def day_bars(days: list) -> tuple[list, int]:
    """Stacked bars of [(date, {rank: n})], high at the bottom; and the axis' top."""
    top = nice_ceiling(max((sum(c.values()) for _, c in days), default=0) or 1)
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bars = []
    for i, (day, counts) in enumerate(days):
        y = HEIGHT - BOTTOM
        segments = []
        for severity in Severity:
            n = counts.get(severity.value, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            segments.append(Segment(severity.label, n, round(y, 1), round(h, 1)))
        last = i == len(days) - 1
        bars.append(Bar(day, round(LEFT + i * slot + 1, 1), round(slot - 2, 1),
                        sum(counts.values()), segments,
                        day.strftime("%b %d") if (len(days) - 1 - i) % 7 == 0 or last else "",
                        *day_range(day)))
    return bars, top


def ticks(top: int) -> list:
    """The count axis: (value, y) at 0, half and the top."""
    plot_h = HEIGHT - BOTTOM - TOP
    return [(v, round(HEIGHT - BOTTOM - plot_h * v / top, 1)) for v in (0, top // 2, top)
            if v or top]


def heat_cells(hours: list) -> list:
    """24 cells (hour, count, level 0..HEAT_LEVELS), the level relative to the busiest."""
    busiest = max(hours, default=0)
    return [(h, n, 0 if not n else max(1, round(HEAT_LEVELS * n / busiest)))
            for h, n in enumerate(hours)]


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
