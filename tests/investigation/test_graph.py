"""Building the first map: merged entities, relations, dangling references, collapse,
deterministic layout, export."""

import json
import math
import xml.etree.ElementTree as ET

from investigation import layout
from investigation.actions import initial_map
from investigation.graph import Map, as_graphml, as_json, build
from tests.factories import native_alert
from tests.investigation.helpers import attack_entities, incident_with, ingest


def kinds(m):
    return sorted(a["kind"] for _, a in m.g.nodes(data=True))


def test_it_merges_the_same_entity_named_by_two_alerts(p):
    incident, alerts = incident_with(p.sub, count=2)
    m = build(p.sub.pk, incident=incident)
    assert kinds(m) == sorted(["incident", "alert", "alert", "host", "account", "ip",
                               "process", "file"])
    host = next(n for n, a in m.g.nodes(data=True) if a["kind"] == "host")
    # Both alerts point at the one host node.
    assert sorted(s for s, _, k in m.g.in_edges(host, keys=True) if k == "involves") == \
        sorted(f"alert:{a.pk}" for a in alerts)
    assert {(m.root, f"alert:{a.pk}") for a in alerts} <= {(s, t) for s, t, _ in m.edges()}


def test_it_keeps_the_typed_relations_between_entities(p):
    incident, _ = incident_with(p.sub, count=2)
    m = build(p.sub.pk, incident=incident)
    labels = {n: a["label"] for n, a in m.g.nodes(data=True)}
    relations = sorted((labels[s], labels[t], k) for s, t, k in m.edges()
                       if s.startswith("entity:") and t.startswith("entity:"))
    assert relations == [
        ("powershell.exe -enc AAAA", "CONTOSO\\alice", "runs_as"),
        ("powershell.exe -enc AAAA", "powershell.exe", "image"),
        ("powershell.exe -enc AAAA", "vm-inv-01", "runs_on"),
    ]


def test_it_shows_dangling_references_as_such(p):
    [alert] = ingest(p.sub, [native_alert(entities=attack_entities(dangling=True))])
    m = build(p.sub.pk, alert=alert)
    dangling = [(n, a) for n, a in m.g.nodes(data=True) if a["kind"] == "dangling"]
    assert len(dangling) == 1
    node, attrs = dangling[0]
    assert "99" in attrs["label"] and attrs["props"]["reference"] == "99"
    [(source, _, relation)] = list(m.g.in_edges(node, keys=True))
    assert m.node(source)["label"] == "evil.exe" and relation == "parent"


def test_the_layout_is_the_same_for_the_same_graph(p):
    incident, _ = incident_with(p.sub, count=3)
    first = initial_map(incident=incident)
    second = initial_map(incident=incident)
    assert first.positions == second.positions
    assert len(set(first.positions.values())) == first.g.number_of_nodes()  # no overlaps
    assert first.positions[first.root] == (0, 0)
    # Saved and loaded, the positions are the same integers.
    again = Map.from_state(json.loads(json.dumps(first.to_state())))
    assert again.positions == first.positions and again.edges() == first.edges()


def overlapping(m):
    """Pairs of nodes whose shapes and labels would overlap."""
    points = sorted(m.positions.items())
    return [(a, b) for i, (a, pa) in enumerate(points) for b, pb in points[i + 1:]
            if abs(pa[0] - pb[0]) < layout.CLEAR_W and abs(pa[1] - pb[1]) < layout.CLEAR_H]


def test_the_first_map_is_layered_alerts_in_time_order_then_entities_by_kind(p):
    incident, alerts = incident_with(p.sub, count=3)
    m = initial_map(incident=incident)
    y = {n: m.positions[n][1] for n in m.g}
    x = {n: m.positions[n][0] for n in m.g}
    by_kind = {a["kind"]: n for n, a in m.g.nodes(data=True)}
    alert_ids = [f"alert:{a.pk}" for a in sorted(alerts, key=lambda a: a.time)]
    # The alerts in one row under the incident, the first to happen on the left.
    assert len({y[a] for a in alert_ids}) == 1 and y[alert_ids[0]] > y[m.root]
    assert [x[a] for a in alert_ids] == sorted(x[a] for a in alert_ids)
    # Then what the attacker left, the process, and the host, account and IP below it:
    # the process's relations join neighbouring bands.
    assert y[alert_ids[0]] < y[by_kind["file"]] < y[by_kind["process"]] < y[by_kind["host"]]
    assert y[by_kind["host"]] == y[by_kind["account"]] == y[by_kind["ip"]]
    assert overlapping(m) == []
    # The incident sits over the middle of its alerts.
    assert x[m.root] == 0 and min(x[a] for a in alert_ids) == -max(x[a] for a in alert_ids)


def test_a_wide_band_wraps_into_rows_without_overlaps(p):
    incident, _ = incident_with(p.sub, count=1)
    for i in range(17):
        incident_with(p.sub, count=1, ip=f"192.0.2.{i}", start=incident.first_time)
    incident.refresh_from_db()
    m = initial_map(incident=incident)
    ips = [n for n, a in m.g.nodes(data=True) if a["kind"] == "ip"]
    assert len(ips) == 18
    rows = sorted({m.positions[n][1] for n in ips})
    assert len(rows) == 3 and rows[1] - rows[0] == layout.WRAP
    assert max(m.positions[n][1] for n in m.g if m.node(n)["kind"] == "process") < rows[0]
    assert overlapping(m) == []


def test_an_expansion_keeps_every_placed_node_where_it_was(p):
    incident, _ = incident_with(p.sub, count=2)
    m = initial_map(incident=incident)
    before = dict(m.positions)
    host = next(n for n, a in m.g.nodes(data=True) if a["kind"] == "host")
    for i in range(30):
        m.add_node(f"ev:ip:{i}", "ip", f"10.0.0.{i}", origin="events")
        m.add_edge(f"ev:ip:{i}", host, "connected to")
    placed = layout.place(m, around=host)
    assert len(placed) == 30
    assert {n: m.positions[n] for n in before} == before
    # In free space: no node or label over another, …
    assert overlapping(m) == []
    # … near the host, on the side away from the rest of the map.
    hx, hy = m.positions[host]
    for n in placed:
        x, y = m.positions[n]
        assert abs(x - hx) <= layout.REACH * layout.CELL_W
        assert abs(y - hy) <= layout.REACH * layout.CELL_H
    cx = sum(x for x, _ in before.values()) / len(before)
    cy = sum(y for _, y in before.values()) / len(before)
    mx = sum(m.positions[n][0] for n in placed) / len(placed)
    my = sum(m.positions[n][1] for n in placed) / len(placed)
    assert (mx - hx) * (hx - cx) + (my - hy) * (hy - cy) > 0
    # The same expansion of the same map lands on the same spots.
    again = initial_map(incident=incident)
    for i in range(30):
        again.add_node(f"ev:ip:{i}", "ip", f"10.0.0.{i}", origin="events")
        again.add_edge(f"ev:ip:{i}", host, "connected to")
    layout.place(again, around=host)
    assert again.positions == m.positions


def test_an_expansion_puts_a_node_near_the_others_it_is_tied_to(p):
    incident, _ = incident_with(p.sub, count=1)
    m = initial_map(incident=incident)
    host = next(n for n, a in m.g.nodes(data=True) if a["kind"] == "host")
    for i in range(6):
        m.add_node(f"ev:account:{i}", "account", f"user{i}", origin="events")
        m.add_edge(f"ev:account:{i}", host, "logged on to")
    layout.place(m, around=host)
    m.add_node("ev:ip:x", "ip", "10.9.9.9", origin="events")
    m.add_edge("ev:ip:x", host, "connected to")
    m.add_edge("ev:ip:x", "ev:account:5", "logon as")
    layout.place(m, around=host)
    (ax, ay), (ix, iy) = m.positions["ev:account:5"], m.positions["ev:ip:x"]
    others = [m.positions[f"ev:account:{i}"] for i in range(5)]
    def cells(x, y):
        return math.hypot((ix - x) / layout.CELL_W, (iy - y) / layout.CELL_H)

    assert cells(ax, ay) < sum(cells(x, y) for x, y in others) / len(others)


def test_a_huge_incident_opens_collapsed_by_kind_with_counts(p):
    incident, _ = incident_with(p.sub, count=4)
    m = build(p.sub.pk, incident=incident, max_alerts=3)
    groups = {n: a for n, a in m.g.nodes(data=True) if a["kind"] == "group"}
    assert groups["group:alerts"]["count"] == 4
    assert {n: a["count"] for n, a in groups.items() if n != "group:alerts"} == {
        "group:host": 1, "group:account": 1, "group:ip": 1, "group:process": 1,
        "group:file": 1}
    assert m.g.number_of_nodes() == 1 + len(groups)


def test_an_alert_of_many_entities_opens_with_the_first_and_a_more_node(p):
    from investigation.expand import LIMIT, expand

    [alert] = ingest(p.sub, [native_alert(entities=[
        {"$id": str(i), "Type": "ip", "Address": f"198.51.100.{i}"} for i in range(1, 31)])])
    m = build(p.sub.pk, alert=alert, max_entities=10)
    assert kinds(m) == sorted(["alert", "more"] + ["ip"] * 10)
    more = f"more:alert:{alert.pk}"
    assert m.node(more)["count"] == 20 and m.node(more)["label"] == "+20 more"
    layout.place(m)
    added = expand(m, p.sub.pk, more)
    assert len(added) == LIMIT + 1 and m.node(more)["count"] == 20 - LIMIT
    # Under the limit nothing is left out.
    assert len(build(p.sub.pk, alert=alert).ids_of("entity")) == 30


def test_the_json_and_graphml_exports_carry_nodes_edges_and_properties(p):
    incident, _ = incident_with(p.sub, count=2)
    m = initial_map(incident=incident)
    data = as_json(m, p.sub.pk)
    assert {n["kind"] for n in data["nodes"]} >= {"incident", "alert", "host"}
    host = next(n for n in data["nodes"] if n["kind"] == "host")
    assert host["properties"]["HostName"] == "vm-inv-01" and "first_seen" in host["properties"]
    assert {"source", "target", "relation"} == set(data["edges"][0])
    root = ET.fromstring(as_graphml(m, p.sub.pk))
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert len(root.findall(".//g:node", ns)) == len(data["nodes"])
    assert len(root.findall(".//g:edge", ns)) == len(data["edges"])


def test_a_damaged_state_loads_what_fits_and_drops_the_rest():
    m = Map.from_state({"root": 5, "nodes": [["a", {"kind": "host", "label": "x", "sev": "no"}],
                                            ["b", {"kind": 1}], "junk", ["c", {
                                                "kind": "ip", "label": "y"}]],
                        "edges": [["a", "c", "r"], ["a", "zz", "r"], [1, 2, 3]],
                        "positions": {"a": [1, 2], "c": ["x", 1], "zz": [0, 0]},
                        "expanded": ["a", "zz", 7], "selected": "zz", "history": "nope"})
    assert sorted(m.g) == ["a", "c"] and "sev" not in m.node("a")
    assert m.edges() == [("a", "c", "r")]
    assert m.positions == {"a": (1, 2)} and m.expanded == ["a"] and m.selected == ""
    assert m.history == [] and m.root == "a"
    assert Map.from_state("not a dict").g.number_of_nodes() == 0
