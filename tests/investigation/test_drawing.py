"""What the map's SVG is drawn from: labels cut to two lines, the selected node's relations
named, alert → entity edges set apart from typed relations, and the first view."""

from investigation import drawing
from investigation.actions import initial_map
from investigation.drawing import label_lines
from tests.investigation.helpers import incident_with


def test_it_cuts_labels_to_two_short_lines_and_keeps_the_whole_label():
    assert label_lines("203.0.113.87", "ip") == ["203.0.113.87"]
    assert label_lines("Detected credential dumping with comsvcs.dll", "alert") == [
        "Detected", "credential dumpin…"]
    # A process or file keeps its program's name, not its folder.
    assert label_lines("C:\\Windows\\explorer.exe", "process") == ["explorer.exe"]
    assert label_lines("rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624",
                       "process") == ["rundll32.exe", "comsvcs.dll, Mini…"]
    # One long word breaks after a separator, else where the line is full.
    assert label_lines("CONTOSO\\administrator", "account") == ["CONTOSO\\", "administrator"]
    assert label_lines("x" * 60, "host") == ["x" * 18, "x" * 17 + "…"]


def test_the_selected_nodes_relations_are_named_and_drawn_last(p):
    incident, _ = incident_with(p.sub, count=2)
    m = initial_map(incident=incident)
    process = next(n for n, a in m.g.nodes(data=True) if a["kind"] == "process")
    m.selected = process
    drawn = drawing.draw(m)
    named = [e for e in drawn.edges if "edge-named" in e.css]
    assert sorted(e.label for e in named) == ["image file", "ran as", "ran on"]
    assert all("edge-focus" in e.css and e.marker == "arrow-focus" for e in named)
    # Its 3 relations and the 2 alerts that involve it are drawn on top of the rest.
    assert ["edge-focus" in e.css for e in drawn.edges][-6:] == [False] + [True] * 5
    # Alert → entity and incident → alert are thin; typed relations are not.
    involves = [e for e in drawn.edges if e.label == "involves"]
    assert involves and all("edge-structural" in e.css for e in involves)
    assert all(e.marker == "arrow-faint" for e in involves if "edge-focus" not in e.css)
    assert all("edge-relation" in e.css for e in named)


def test_the_focus_is_the_selected_node_and_what_its_click_brought(p):
    incident, _ = incident_with(p.sub, count=2)
    m = initial_map(incident=incident)
    drawn = drawing.draw(m)
    assert drawn.focus_box == drawn.view_box  # nothing selected: everything
    host = next(n for n, a in m.g.nodes(data=True) if a["kind"] == "host")
    m.selected = host
    m.positions["ev:ip:far"] = (5000, 5000)
    m.add_node("ev:ip:far", "ip", "10.0.0.1", origin="events")
    m.history.append({"node": host, "added": ["ev:ip:far"]})
    x, y, w, h = map(int, drawing.draw(m).focus_box.split())
    hx, hy = m.positions[host]
    assert x < hx < 5000 < x + w and y < hy < 5000 < y + h
    assert w < int(drawing.draw(m).view_box.split()[2]) + 1


def test_the_keep_box_holds_the_incident_and_its_alerts(p):
    incident, alerts = incident_with(p.sub, count=3)
    m = initial_map(incident=incident)
    x, y, w, h = map(int, drawing.draw(m).keep_box.split())
    for node in [m.root, *(f"alert:{a.pk}" for a in alerts)]:
        px, py = m.positions[node]
        assert x < px < x + w and y < py < y + h
    assert y + h < max(py for _, py in m.positions.values())  # not the entities below
