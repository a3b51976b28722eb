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


STRUCTURAL = {"contains", "involves", "member", "involve", "more"}
LINE_CHARS = 18     # a node label is at most two lines of this many characters
LINE_HEIGHT = 14
LABEL_Y = 35        # the first line of a label, under the node
CLEAR = 24          # an edge passing closer than this to a node's centre is bent
# The drawing's margins around the nodes' centres: room for a label's half-width on the
# sides, for the node above and for two lines and a badge below.
PAD_X, PAD_TOP, PAD_BOTTOM = 95, 45, 80


@dataclass
class DrawnNode:
    id: str
    x: int
    y: int
    kind: str
    shape: str
    css: str
    label: str
    lines: list
    icon: str
    points: str
    badge: str
    badge_y: int
    selected: bool
    expanded: bool


@dataclass
class DrawnEdge:
    d: str
    lx: float
    ly: float
    label: str
    css: str
    marker: str


@dataclass
class Drawing:
    nodes: list
    edges: list
    view_box: str     # everything
    focus_box: str    # the selected node and what its last click brought
    keep_box: str = ""  # the root and its alerts: what the map is about, kept in view


def _short(text, n=LINE_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _basename(word):
    """explorer.exe for C:\\Windows\\explorer.exe: a path's last part, for a label."""
    cut = max(word.rfind("\\"), word.rfind("/"))
    return word[cut + 1:] if 0 <= cut < len(word) - 1 and "://" not in word else word


def label_lines(text, kind, n=LINE_CHARS):
    """A label in at most two lines of `n` characters, cut with "…" (the whole text is in
    the node's tooltip and the pane). Paths in a process or file label keep their last
    part: the program's name says more than its folder."""
    words = " ".join(str(text).split()).split(" ")
    if kind in ("process", "file"):
        words = [_basename(w) for w in words]
    first = ""
    rest = list(words)
    while rest and len(first) + bool(first) + len(rest[0]) <= n:
        first += (" " if first else "") + rest.pop(0)
    if not first:  # one word longer than a line: cut it, after a \\ . / - or @ if it can
        word = rest.pop(0) if rest else ""
        cut = max((word.rfind(c, 0, n) for c in "\\./-@:"), default=-1) + 1
        cut = n if word[n:n + 1] in ("/", "\\", ".", "") or cut < n // 3 else cut
        first, rest = word[:cut], [word[cut:]] + rest if word[cut:] else rest
    second = " ".join(w for w in rest if w)
    return [first, _short(second, n)] if second else [first]


def _slug(kind):
    return "".join(c if c.isalnum() or c == "-" else "-" for c in kind.lower())[:40]


def _box(points):
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs) - PAD_X, min(ys) - PAD_TOP, max(xs) - min(xs) + 2 * PAD_X,
            max(ys) - min(ys) + PAD_TOP + PAD_BOTTOM)


def _focus(inv_map):
    """The nodes to show first: the selected one and what its last click brought in (or
    its neighbours); everything when nothing is selected."""
    selected, g = inv_map.selected, inv_map.g
    if not selected or selected not in g:
        return list(g)
    last = inv_map.history[-1] if inv_map.history else {}
    added = last.get("added") if last.get("node") in (selected, f"more:{selected}") else None
    around = [n for n in added if n in g] if isinstance(added, list) and added \
        else list(g.predecessors(selected)) + list(g.successors(selected))
    return [selected, *around]


def _kept(inv_map) -> list[str]:
    """The root (the incident, or the one alert) and the alerts it holds."""
    if inv_map.root not in inv_map.g:
        return []
    return [inv_map.root, *(n for n in inv_map.g.successors(inv_map.root)
                            if inv_map.node(n)["kind"] == "alert")]


def _blocked(points, a, b, ends):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy or 1
    lo_x, hi_x = min(ax, bx) - CLEAR, max(ax, bx) + CLEAR
    lo_y, hi_y = min(ay, by) - CLEAR, max(ay, by) + CLEAR
    for node_id, (px, py) in points:
        if node_id in ends or not (lo_x <= px <= hi_x and lo_y <= py <= hi_y):
            continue
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        if math.hypot(ax + t * dx - px, ay + t * dy - py) < CLEAR:
            return True
    return False


def _edge_path(points, s, t, p1, p2, at=0.5):
    """The path of an edge from p1 to p2, its ends off the nodes' shapes: straight, or
    bent when a straight line would run through another node. Returns (d, label x, y),
    the label `at` that fraction of the way."""
    (x1, y1), (x2, y2) = p1, p2
    length = math.hypot(x2 - x1, y2 - y1)
    pad = RADIUS + 4
    if _blocked(points, p1, p2, (s, t)):
        # A quadratic curve bulging to the left of the direction of travel.
        bend = min(0.3 * length, 90)
        cx = (x1 + x2) / 2 + (y2 - y1) / length * bend
        cy = (y1 + y2) / 2 - (x2 - x1) / length * bend
        d1, d2 = math.hypot(cx - x1, cy - y1), math.hypot(x2 - cx, y2 - cy)
        sx, sy = x1 + (cx - x1) / d1 * pad, y1 + (cy - y1) / d1 * pad
        ex, ey = x2 - (x2 - cx) / d2 * (pad + 4), y2 - (y2 - cy) / d2 * (pad + 4)
        a, b, c = (1 - at) ** 2, 2 * (1 - at) * at, at ** 2
        return (f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}",
                round(a * x1 + b * cx + c * x2, 1), round(a * y1 + b * cy + c * y2 - 4, 1))
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    return (f"M{x1 + ux * pad:.1f},{y1 + uy * pad:.1f} "
            f"L{x2 - ux * (pad + 4):.1f},{y2 - uy * (pad + 4):.1f}",
            round(x1 + (x2 - x1) * at, 1), round(y1 + (y2 - y1) * at - 4, 1))


def draw(inv_map):
    """What the template draws: nodes, edges (those of the selected node last, so that
    they are on top) and the view boxes."""
    nodes = []
    for node_id, attrs in inv_map.g.nodes(data=True):
        x, y = inv_map.positions.get(node_id, (0, 0))
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
        shape = SHAPES.get(kind, "rect")
        lines = label_lines(attrs["label"], kind)
        nodes.append(DrawnNode(
            id=node_id, x=x, y=y, kind=kind, shape=shape, css=" ".join(css),
            label=attrs["label"], lines=lines, icon=ICONS.get(kind, "•"),
            points=POINTS.get(shape, ""), badge=badge,
            badge_y=LABEL_Y + LINE_HEIGHT * len(lines), selected=node_id == inv_map.selected,
            expanded=node_id in inv_map.expanded))
    points = [(n, inv_map.positions.get(n, (0, 0))) for n in inv_map.g]
    edges, near = [], []
    for s, t, relation in inv_map.edges():
        p1, p2 = inv_map.positions.get(s, (0, 0)), inv_map.positions.get(t, (0, 0))
        if math.hypot(p2[0] - p1[0], p2[1] - p1[1]) < 2 * RADIUS + 8:
            continue
        # A long edge of the selected node is named nearer its other end, where the
        # selected node's edges have spread apart; a short one in its middle, between
        # the labels of its two nodes.
        length = math.hypot(p2[0] - p1[0], p2[1] - p1[1])
        far = max(0.5, min(0.65, 1 - 90 / length))
        at = far if s == inv_map.selected else 1 - far if t == inv_map.selected else 0.5
        d, lx, ly = _edge_path(points, s, t, p1, p2, at)
        # Relations the events tell are free text ("logged on to"); the alerts' are keys.
        events = s.startswith("ev:") or t.startswith("ev:") or not (
            relation in STRUCTURAL or relation in RELATION_LABELS or t.startswith("dangling:"))
        css = ["edge-dangling" if t.startswith("dangling:") else
               "edge-events" if events else "edge",
               "edge-structural" if relation in STRUCTURAL else "edge-relation"]
        selected = inv_map.selected in (s, t)
        if selected:
            css.append("edge-focus")
            if not events and relation not in STRUCTURAL:
                # Named on the map; the many "logged on to" of a busy host only on hover.
                css.append("edge-named")
        edge = DrawnEdge(d, lx, ly, RELATION_LABELS.get(relation, relation.replace("_", " ")),
                         " ".join(css), "arrow-focus" if selected else
                         "arrow-faint" if relation in STRUCTURAL else "arrow")
        (near if selected else edges).append(edge)
    if inv_map.positions:
        box = _box(list(inv_map.positions.values()))
        focus = _box([inv_map.positions[n] for n in _focus(inv_map) if n in inv_map.positions])
        keep = _box([inv_map.positions[n] for n in _kept(inv_map) if n in inv_map.positions] or
                    list(inv_map.positions.values()))
    else:
        box = focus = keep = (-300, -200, 600, 400)
    return Drawing(nodes, edges + near, *(" ".join(str(round(v)) for v in b)
                                          for b in (box, focus, keep)))
