"""Where the nodes go: computed on the server, the same for the same graph, incremental.

The first map is radial: the alert or incident in the middle, then each breadth-first
layer of the graph (networkx) on a ring, every node near the angle of the nodes that
brought it in. An expansion never moves a node already placed: the new ones go on arcs
around the node that was expanded, facing away from the middle of the map, in the first
free spots. Only integers are stored, so a saved map redraws to the same pixel.
"""

import math

import networkx as nx

from investigation.graph import kind_rank

RING = 190          # distance between rings of the first map
SPACING = 130       # distance between neighbours on a ring (room for a label)
MIN_DISTANCE = 95   # no two nodes closer than this
ARC = 150           # first arc around an expanded node
ARC_STEP = 110      # distance between further arcs


def _order_key(m, node_id):
    attrs = m.node(node_id)
    return (kind_rank(attrs["kind"]), attrs["kind"], attrs["label"].lower(), node_id)


def place(m, new_ids=None, around=None):
    """Give positions to the nodes that have none: all of them for a first map, else
    around `around` (the expanded node). Returns the ids placed."""
    missing = [n for n in m.g if n not in m.positions]
    if not missing:
        return []
    if not m.positions:
        _radial(m)
    else:
        _incremental(m, missing, around)
    return missing


def _radial(m):
    undirected = m.g.to_undirected(as_view=True)
    root = m.root if m.root in m.g else min(m.g, key=lambda n: _order_key(m, n))
    layers = [list(layer) for layer in nx.bfs_layers(undirected, [root])]
    reached = {n for layer in layers for n in layer}
    rest = sorted((n for n in m.g if n not in reached), key=lambda n: _order_key(m, n))
    if rest:
        layers.append(rest)
    angle = {root: -math.pi / 2}
    m.positions[root] = (0, 0)
    for depth, layer in enumerate(layers[1:], start=1):
        wanted = {}
        for n in layer:
            near = [angle[p] for p in sorted(undirected[n]) if p in angle]
            wanted[n] = _circular_mean(near) if near and depth > 1 else None
        radius = max(RING * depth, len(layer) * SPACING / (2 * math.pi))
        step = SPACING / radius
        if depth == 1 or any(w is None for w in wanted.values()) or \
                len(layer) * step >= 2 * math.pi:
            ordered = sorted(layer, key=lambda n: (wanted[n] or 0.0, *_order_key(m, n)))
            step = 2 * math.pi / len(ordered)
            start = -math.pi / 2 if depth == 1 else (wanted[ordered[0]] or 0.0)
            slots = [start + i * step for i in range(len(ordered))]
        else:
            ordered = sorted(layer, key=lambda n: (wanted[n], *_order_key(m, n)))
            slots, previous = [], None
            for n in ordered:
                a = wanted[n] if previous is None else max(wanted[n], previous + step)
                slots.append(a)
                previous = a
            # Centre the run on what the nodes wanted, so it does not drift one way.
            shift = (sum(wanted[n] for n in ordered) - sum(slots)) / len(ordered)
            slots = [a + shift for a in slots]
        for n, a in zip(ordered, slots, strict=True):
            angle[n] = a
            m.positions[n] = (round(radius * math.cos(a)), round(radius * math.sin(a)))


def _circular_mean(angles):
    return math.atan2(sum(math.sin(a) for a in angles), sum(math.cos(a) for a in angles))


class _Grid:
    """The placed points in cells of MIN_DISTANCE, to find a free spot quickly."""

    def __init__(self, points):
        self.cells = {}
        for p in points:
            self.add(p)

    def _cell(self, p):
        return (math.floor(p[0] / MIN_DISTANCE), math.floor(p[1] / MIN_DISTANCE))

    def add(self, p):
        self.cells.setdefault(self._cell(p), []).append(p)

    def free(self, p):
        cx, cy = self._cell(p)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for q in self.cells.get((cx + dx, cy + dy), ()):
                    if math.hypot(p[0] - q[0], p[1] - q[1]) < MIN_DISTANCE:
                        return False
        return True


def _incremental(m, missing, around):
    placed = list(m.positions.values())
    cx = sum(p[0] for p in placed) / len(placed)
    cy = sum(p[1] for p in placed) / len(placed)
    grid = _Grid(placed)
    undirected = m.g.to_undirected(as_view=True)
    groups = {}
    for n in sorted(missing, key=lambda n: _order_key(m, n)):
        neighbours = sorted(p for p in undirected[n] if p in m.positions)
        if around in m.positions and around in undirected[n]:
            anchor = around
        elif neighbours:
            anchor = neighbours[0]
        else:
            anchor = around if around in m.positions else min(m.positions)
        groups.setdefault(anchor, []).append(n)
    for anchor in sorted(groups, key=lambda a: (a != around, a)):
        ax, ay = m.positions[anchor]
        facing = math.atan2(ay - cy, ax - cx) if math.hypot(ax - cx, ay - cy) > 1 \
            else -math.pi / 2
        spots = _spots(ax, ay, facing)
        for n in groups[anchor]:
            for p in spots:
                if grid.free(p):
                    break
            m.positions[n] = p
            grid.add(p)


def _spots(ax, ay, facing):
    """Candidate points around (ax, ay): arcs of growing radius, the direction `facing`
    first, then alternately either side of it, the whole circle on outer arcs."""
    radius = ARC
    while True:
        step = SPACING / radius
        count = max(1, int(2 * math.pi / step))
        step = 2 * math.pi / count
        for i in range(count):
            offset = (i + 1) // 2 * step * (1 if i % 2 else -1)
            a = facing + offset
            yield (round(ax + radius * math.cos(a)), round(ay + radius * math.sin(a)))
        radius += ARC_STEP
