"""The map as the SVG template draws it: shapes, classes, label text, edge geometry.

Nothing here is markup: the template writes every label through Django's escaping
(entity values are attacker-controlled), and colours come from classes in console.css
(the CSP forbids inline styles).
"""

import math
from dataclasses import dataclass

from alerts.models import Severity
from investigation.graph import RELATION_LABELS

RADIUS = 18
LABEL_CHARS = 26
MARGIN = 120
SHAPES = {
    "incident": "hexagon", "alert": "diamond", "host": "rect", "account": "circle",
    "ip": "hexagon", "process": "rect", "file": "doc", "filehash": "diamond",
    "url": "ellipse", "dns": "ellipse", "host-logon-session": "circle",
    "azure-resource": "rect", "registry-key": "rect", "registry-value": "rect",
    "mailbox": "ellipse", "malware": "octagon", "group": "circle", "more": "circle",
    "dangling": "circle",
}
ICONS = {"incident": "!", "alert": "A", "host": "H", "account": "U", "ip": "IP",
         "process": "P", "file": "F", "filehash": "#", "url": "URL", "dns": "D",
         "host-logon-session": "S", "azure-resource": "R", "registry-key": "K",
         "registry-value": "V", "mailbox": "M", "malware": "X", "group": "∑", "more": "+",
         "dangling": "?"}


def _polygon(sides, r, turn=0.0):
    return " ".join(
        f"{r * math.cos(turn + 2 * math.pi * i / sides):.1f},"
        f"{r * math.sin(turn + 2 * math.pi * i / sides):.1f}" for i in range(sides))


POINTS = {
    "hexagon": _polygon(6, RADIUS + 2),
    "octagon": _polygon(8, RADIUS + 1, math.pi / 8),
    "diamond": _polygon(4, RADIUS + 3, -math.pi / 2),
    "doc": f"{-RADIUS + 4},{-RADIUS} {RADIUS - 6},{-RADIUS} {RADIUS - 2},{-RADIUS + 6} "
           f"{RADIUS - 2},{RADIUS} {-RADIUS + 4},{RADIUS}",
}


@dataclass
class DrawnNode:
    id: str
    x: int
    y: int
    kind: str
    shape: str
    css: str
    label: str
    short: str
    icon: str
    points: str
    badge: str
    selected: bool
    expanded: bool


@dataclass
class DrawnEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    lx: float
    ly: float
    label: str
    css: str


def _short(text, n=LABEL_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _slug(kind):
    return "".join(c if c.isalnum() or c == "-" else "-" for c in kind.lower())[:40]


def draw(m):
    """(nodes, edges, viewBox) for the template."""
    nodes = []
    for node_id, attrs in m.g.nodes(data=True):
        x, y = m.positions.get(node_id, (0, 0))
        kind = attrs["kind"]
        css = [f"kind-{_slug(kind)}"]
        if attrs.get("sev") is not None and kind in ("alert", "incident"):
            css.append(f"sev-{Severity(attrs['sev']).label}" if attrs["sev"] in
                       Severity.values else "sev-informational")
        if attrs.get("origin") == "events":
            css.append("from-events")
        if attrs.get("known") is False:
            css.append("unknown-kind")
        badge = ""
        if attrs.get("seen_in"):
            badge = f"seen in {attrs['seen_in']} other incident" + \
                ("s" if attrs["seen_in"] != 1 else "")
        elif attrs.get("origin") == "events":
            badge = "from events"
        shape = SHAPES.get(kind, "rect")
        nodes.append(DrawnNode(
            id=node_id, x=x, y=y, kind=kind, shape=shape, css=" ".join(css),
            label=attrs["label"], short=_short(attrs["label"]), icon=ICONS.get(kind, "•"),
            points=POINTS.get(shape, ""), badge=badge, selected=node_id == m.selected,
            expanded=node_id in m.expanded))
    edges = []
    for s, t, relation in m.edges():
        (x1, y1), (x2, y2) = m.positions.get(s, (0, 0)), m.positions.get(t, (0, 0))
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 2 * RADIUS + 8:
            continue
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        pad = RADIUS + 4
        edges.append(DrawnEdge(
            round(x1 + ux * pad, 1), round(y1 + uy * pad, 1), round(x2 - ux * (pad + 4), 1),
            round(y2 - uy * (pad + 4), 1), round((x1 + x2) / 2, 1), round((y1 + y2) / 2 - 4, 1),
            RELATION_LABELS.get(relation, relation.replace("_", " ")),
            "edge-dangling" if t.startswith("dangling:") else
            "edge-events" if s.startswith("ev:") or t.startswith("ev:") else "edge"))
    if m.positions:
        xs = [p[0] for p in m.positions.values()]
        ys = [p[1] for p in m.positions.values()]
        box = (min(xs) - MARGIN, min(ys) - MARGIN, max(xs) - min(xs) + 2 * MARGIN,
               max(ys) - min(ys) + 2 * MARGIN)
    else:
        box = (-300, -200, 600, 400)
    return nodes, edges, " ".join(str(v) for v in box)
