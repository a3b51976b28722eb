"""Where the nodes go: computed on the server, the same for the same graph, incremental.

The first map is layered, top to bottom: the incident (or the one alert), its alerts
left to right in the order they happened, then the entities in bands by kind — what
the attacker left (files, hashes, URLs, …), the processes, and at the bottom the hosts,
accounts, addresses and sessions. The typed relations (a process's image file, the host
it ran on) then join neighbouring bands, and the nodes analysts expand most (hosts,
accounts, IPs) have free space below them. Within a band a node sits under the nodes
it is tied to (networkx gives the neighbours), so the attack reads left to right.

An expansion never moves a node already placed: the new ones go in the first free spots
of a lattice around the expanded node, on the side facing away from the rest of the
map, where a straight edge from the expanded node does not run through another node.
Only integers are stored, so a saved map redraws to the same pixel.
"""

import math

import networkx as nx

from investigation.graph import kind_rank

# Room for a node and its label (two lines of about 20 characters at 12px).
COLUMN = 150        # horizontal distance between neighbours in a band
BAND = 125          # vertical distance between bands
WRAP = 105          # vertical distance between the rows of a band that wraps
PER_ROW = 7         # a band wider than this wraps
CELL_W = 150        # the lattice on which expansions are placed
CELL_H = 95
CLEAR_W = 140       # two nodes closer than this horizontally …
CLEAR_H = 80        # … and this vertically overlap (node and label)
EDGE_CLEAR = 30     # an edge passing closer than this to a node's centre runs through it
REACH = 9           # lattice cells searched around an expanded node, each way
NEAR = 60           # the spots nearest to it weighed for a node's other ties

TOP = "incident"
ALERTS = 1
BANDS = [
    # (band, kinds); every other kind goes with the artefacts
    (2, ("file", "filehash", "url", "dns", "registry-key", "registry-value", "malware",
         "mailbox", "azure-resource", "dangling")),
    (3, ("process",)),
    (4, ("host", "account", "ip", "host-logon-session")),
]
ARTEFACTS = 2
BAND_OF = {kind: band for band, kinds in BANDS for kind in kinds}


def _order_key(inv_map, node_id):
    attrs = inv_map.node(node_id)
    return (kind_rank(attrs["kind"]), attrs["kind"], attrs["label"].lower(), node_id)


def place(inv_map, new_ids=None, around=None):
    """Give positions to the nodes that have none: all of them for a first map, else
    around `around` (the expanded node). Returns the ids placed."""
    missing = [n for n in inv_map.g if n not in inv_map.positions]
    if not missing:
        return []
    if not inv_map.positions:
        _layered(inv_map)
    else:
        _incremental(inv_map, missing, around)
    return missing


def band_of(inv_map, node_id):
    attrs = inv_map.node(node_id)
    kind = attrs["kind"]
    if node_id == inv_map.root:
        return 0
    if kind in ("alert", "incident"):
        return ALERTS
    if kind == "group":
        of = (attrs.get("props") or {}).get("of")
        return ALERTS if of == "alert" else BAND_OF.get(of, ARTEFACTS)
    return BAND_OF.get(kind, ARTEFACTS)


def _layered(inv_map):
    undirected = inv_map.g.to_undirected(as_view=True)
    root = inv_map.root if inv_map.root in inv_map.g else \
        min(inv_map.g, key=lambda n: _order_key(inv_map, n))
    bands = {}
    for n in inv_map.g:
        if n != root:
            band = band_of(inv_map, n) if root == inv_map.root else ARTEFACTS
            bands.setdefault(band, []).append(n)
    x, rows = {}, {}
    # Alerts keep the order they were added in (the order they happened); each band below
    # follows what it is tied to: processes the alerts, artefacts and hosts the processes.
    for band in sorted(bands, key=lambda b: (b != ALERTS, b != 3, b)):
        members = bands[band]
        if band == ALERTS:
            ordered, wanted = members, {n: i * COLUMN for i, n in enumerate(members)}
        else:
            wanted = {}
            for n in members:
                near = [x[p] for p in sorted(undirected[n]) if p in x]
                wanted[n] = sum(near) / len(near) if near else None
            last = max((w for w in wanted.values() if w is not None), default=0.0)
            wanted = {n: last + COLUMN if w is None else w for n, w in wanted.items()}
            # Nodes of one band tied to each other (a file and its hash) sit side by side.
            inside = nx.connected_components(undirected.subgraph(members))
            block = {}
            for component in inside:
                key = (min(wanted[n] for n in component), min(component))
                block.update({n: key for n in component})
            ordered = sorted(members, key=lambda n: (block[n], wanted[n], *_order_key(inv_map, n)))
        rows[band] = max(1, math.ceil(len(ordered) / PER_ROW))
        x.update(_spread(ordered, wanted, rows[band]))
        bands[band] = ordered
    alerts = bands.get(ALERTS) or [n for n in x]
    middle = (min(x[n] for n in alerts) + max(x[n] for n in alerts)) / 2 if alerts else 0.0
    inv_map.positions[root] = (0, 0)
    top = 0
    for band in sorted(bands):
        top += BAND
        for i, n in enumerate(bands[band]):
            # A wide band wraps into staggered rows, so that its edges pass between nodes.
            inv_map.positions[n] = (round(x[n] - middle), top + i % rows[band] * WRAP)
        top += (rows[band] - 1) * WRAP


def _spread(ordered, wanted, rows):
    """x for each node, in order, as near as may be to what it wanted and COLUMN apart
    from its neighbour in the same row."""
    step = COLUMN / rows
    xs, previous = {}, None
    for n in ordered:
        xs[n] = wanted[n] if previous is None else max(wanted[n], previous + step)
        previous = xs[n]
    # Centre the run on what the nodes wanted, so it does not drift one way.
    shift = sum(wanted[n] - xs[n] for n in ordered) / len(ordered) if ordered else 0.0
    return {n: v + shift for n, v in xs.items()}


class _Grid:
    """The placed points in cells, to find a free spot and a clear edge quickly."""

    def __init__(self, points):
        self.cells = {}
        for p in points:
            self.add(p)

    @staticmethod
    def _cell(x, y):
        return (math.floor(x / CLEAR_W), math.floor(y / CLEAR_H))

    def add(self, p):
        self.cells.setdefault(self._cell(*p), []).append(p)

    def free(self, p):
        cx, cy = self._cell(*p)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for q in self.cells.get((cx + dx, cy + dy), ()):
                    if abs(p[0] - q[0]) < CLEAR_W and abs(p[1] - q[1]) < CLEAR_H:
                        return False
        return True

    def clear(self, a, b):
        """Whether the segment a–b passes no placed point but its ends."""
        (ax, ay), (bx, by) = a, b
        (x0, y0), (x1, y1) = self._cell(min(ax, bx) - EDGE_CLEAR, min(ay, by) - EDGE_CLEAR), \
            self._cell(max(ax, bx) + EDGE_CLEAR, max(ay, by) + EDGE_CLEAR)
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy or 1
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                for q in self.cells.get((cx, cy), ()):
                    if q == a or q == b:
                        continue
                    t = max(0.0, min(1.0, ((q[0] - ax) * dx + (q[1] - ay) * dy) / length2))
                    if math.hypot(ax + t * dx - q[0], ay + t * dy - q[1]) < EDGE_CLEAR:
                        return False
        return True


def _incremental(inv_map, missing, around):
    placed = list(inv_map.positions.values())
    xs, ys = [p[0] for p in placed], [p[1] for p in placed]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_w, half_h = max((max(xs) - min(xs)) / 2, CELL_W), max((max(ys) - min(ys)) / 2, CELL_H)
    grid = _Grid(placed)
    undirected = inv_map.g.to_undirected(as_view=True)
    groups = {}
    for n in sorted(missing, key=lambda n: _order_key(inv_map, n)):
        neighbours = sorted(p for p in undirected[n] if p in inv_map.positions)
        if around in inv_map.positions and around in undirected[n]:
            anchor = around
        elif neighbours:
            anchor = neighbours[0]
        else:
            anchor = around if around in inv_map.positions else min(inv_map.positions)
        groups.setdefault(anchor, []).append(n)
    for anchor in sorted(groups, key=lambda a: (a != around, a)):
        ax, ay = inv_map.positions[anchor]
        # Away from the middle of the map, measured in its own proportions: a node of the
        # bottom band faces down even when it is off to one side.
        fx, fy = (ax - cx) / half_w, (ay - cy) / half_h
        norm = math.hypot(fx, fy)
        facing = (fx / norm, fy / norm) if norm > 0.05 else (0.0, 1.0)
        spots = _spots(ax, ay, facing)
        nearest = sorted(range(len(spots)), key=lambda i: (spots[i][0], i))
        taken = set()
        for n in groups[anchor]:
            # Near the anchor, and near the other placed nodes it is tied to (an address
            # by the account that logged on from it).
            others = [inv_map.positions[p] for p in sorted(undirected[n])
                      if p != anchor and p in inv_map.positions]
            ranked = nearest
            if others:
                # Among the nearer spots only: the far ones are seldom free-and-better.
                ranked = sorted(nearest[:NEAR], key=lambda i: (
                    spots[i][0] + sum(math.hypot((spots[i][1][0] - ox) / CELL_W,
                                                 (spots[i][1][1] - oy) / CELL_H)
                                      for ox, oy in others) / len(others), i)) + nearest[NEAR:]
            chosen = None
            for tries, i in enumerate(ranked):
                p = spots[i][1]
                if i in taken or not grid.free(p):
                    continue
                if chosen is None:
                    chosen = (i, p)  # the best free spot, if no edge from it is clear
                if grid.clear((ax, ay), p):
                    chosen = (i, p)
                    break
                if tries > 24:
                    break
            if chosen is None:  # the lattice around the anchor is full: go further out
                chosen = (-1, _far_spot(grid, ax, ay, facing))
            taken.add(chosen[0])
            inv_map.positions[n] = chosen[1]
            grid.add(chosen[1])


def _spots(ax, ay, facing):
    """(cost, point) for the lattice points around (ax, ay): the nearer the cheaper, and
    a point beside the anchor costs 2.5 times, behind it 4 times, one in front of it."""
    fx, fy = facing
    out = []
    for i in range(-REACH, REACH + 1):
        for j in range(-REACH, REACH + 1):
            if i == 0 and j == 0:
                continue
            dx, dy = i * CELL_W, j * CELL_H
            along = (dx * fx + dy * fy) / math.hypot(dx, dy)
            out.append((math.hypot(i, j) * (3 - 2 * along), (ax + dx, ay + dy)))
    return out


def _far_spot(grid, ax, ay, facing):
    step = 1
    while True:
        x = round(ax + facing[0] * CELL_W * (REACH + step))
        y = round(ay + facing[1] * CELL_H * (REACH + step))
        for k in range(0, 40):
            p = (x + k * CELL_W, y)
            if grid.free(p):
                return p
        step += 1
