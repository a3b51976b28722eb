"""Building the first map: merged entities, relations, dangling references, collapse,
deterministic layout, export."""

import json
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
    points = list(m.positions.values())
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) > 0 for i, a in enumerate(points)
               for b in points[i + 1:])


def test_a_huge_incident_opens_collapsed_by_kind_with_counts(p):
    incident, _ = incident_with(p.sub, count=4)
    m = build(p.sub.pk, incident=incident, max_alerts=3)
    groups = {n: a for n, a in m.g.nodes(data=True) if a["kind"] == "group"}
    assert groups["group:alerts"]["count"] == 4
    assert {n: a["count"] for n, a in groups.items() if n != "group:alerts"} == {
        "group:host": 1, "group:account": 1, "group:ip": 1, "group:process": 1,
        "group:file": 1}
    assert m.g.number_of_nodes() == 1 + len(groups)


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
