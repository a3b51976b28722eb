"""The investigation map on the demo incident, as an analyst clicks through it."""

import re
from pathlib import Path
from urllib.parse import parse_qs

from playwright.sync_api import expect

from alerts.models import Entity
from incidents.correlation import correlate
from incidents.models import Incident
from inventory.demo import PRODUCTION, seed_estate
from investigation.management.commands.seed_demo import refresh_demo_alerts
from search.demo import seed_events
from tests.browser.conftest import sign_in

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def demo():
    subs = seed_estate()
    refresh_demo_alerts(subs, force=True)
    seed_events(subs[PRODUCTION])
    correlate()
    sub = subs[PRODUCTION]
    return sub, Incident.objects.get(subscription=sub, title__contains="vm-web-01")


def node(page, sub, kind, label):
    entity = Entity.objects.get(subscription=sub, kind=kind, label=label)
    return page.locator(f'#inv-svg g.node[data-node="entity:{entity.pk}"]')


def click_and_wait(page, target):
    """Click a node's shape, as an analyst would (its label lets clicks through), and wait
    for the map to come back."""
    version = page.locator("#inv-main").get_attribute("data-version")
    target.locator(".shape").click()
    expect(page.locator("#inv-main")).not_to_have_attribute("data-version", version)


def coordinates(page):
    return dict(page.locator("#inv-svg g.node").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.node, n.getAttribute('transform')])"))


def tab_rows(pane, tab):
    pane.get_by_role("tab", name=tab).click()
    return pane.locator(f"#tab-{tab.lower()} tr")


def test_an_analyst_follows_the_demo_attack_and_continues_after_a_reload(
        live_server, transactional_db, page, problems):
    sub, incident = demo()
    sign_in(page, live_server, "analyst", "analyst-demo-pass",
            then=f"/s/{sub.pk}/incidents/{incident.pk}/")
    page.get_by_role("button", name="Start investigation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Investigation: Security incident detected on vm-web-01")
    nodes = page.locator("#inv-svg g.node")
    first = nodes.count()
    assert first == 21  # the incident, 5 alerts, 15 entities
    pane = page.locator("#inv-pane")
    # Relation names are drawn for the selected node's edges only (and on hover).
    expect(page.locator("#inv-svg .edge-label:visible")).to_have_count(0)
    # A long label is cut on the map and whole in the node's tooltip.
    dump_label = ("rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 "
                  "C:\\Windows\\Temp\\lsass.dmp full")
    dump = node(page, sub, "process", dump_label)
    expect(dump.locator(".node-label tspan")).to_have_text(["rundll32.exe",
                                                          "comsvcs.dll, Mini…"])
    expect(dump.locator("title")).to_have_text(f"process: {dump_label}")

    # The brute-force address: it reached vm-web-01.
    attacker = node(page, sub, "ip", "203.0.113.87")
    click_and_wait(page, attacker)
    expect(pane.locator(".pane-label")).to_have_text("203.0.113.87")
    expect(tab_rows(pane, "Connections").filter(has_text="vm-web-01")).to_have_count(1)

    # The account it logged on as, then the host.
    click_and_wait(page, node(page, sub, "account", "CONTOSO\\svc-backup"))
    expect(pane.locator(".pane-label")).to_have_text("CONTOSO\\svc-backup")
    expect(page.locator("#inv-svg .edge-label:visible")).to_have_text(
        ["session of", "ran as", "ran as"])
    expect(tab_rows(pane, "Logons").filter(has_text="203.0.113.87")).not_to_have_count(0)
    host = node(page, sub, "host", "vm-web-01")
    before_host = nodes.count()
    click_and_wait(page, host)
    expect(host).to_have_class("node kind-host selected expanded")
    assert nodes.count() > before_host
    expect(pane.locator(".pane-label")).to_have_text("vm-web-01")
    logon = tab_rows(pane, "Logons").filter(has_text="4624").filter(
        has_text="CONTOSO\\svc-backup").filter(has_text="203.0.113.87")
    expect(logon).to_have_count(1)
    search = pane.get_by_role("link", name="Search events for this").get_attribute("href")
    path, query = search.split("?", 1)
    assert path == f"/s/{sub.pk}/search/"
    assert 'Computer =~ @"vm-web-01"' in parse_qs(query)["query"][0]

    # The dumping process, and its image file.
    click_and_wait(page, dump)
    expect(pane.locator(".pane-label")).to_have_text(dump_label)
    pane.get_by_role("tab", name="Tree").click()
    expect(pane.locator("#tab-tree")).to_contain_text("powershell.exe -NoProfile")
    image = node(page, sub, "file", "rundll32.exe")
    click_and_wait(page, image)
    expect(image).to_have_class("node kind-file selected expanded")
    expect(pane.locator(".pane-label")).to_have_text("rundll32.exe")
    pane.get_by_role("tab", name="Hashes").click()
    expect(pane.locator("#tab-hashes")).to_contain_text("vm-web-01")
    before = coordinates(page)
    assert len(before) > first
    # Every node of the map is clear of the others, label included.
    boxes = page.locator("#inv-svg g.node .shape").evaluate_all(
        "shapes => shapes.map(s => { const r = s.getBoundingClientRect(); "
        "return [r.x + r.width / 2, r.y + r.height / 2]; })")
    assert len({(round(x), round(y)) for x, y in boxes}) == len(boxes)

    # Reload, leave, and continue: the same map, the same coordinates, the same selection.
    page.reload()
    assert coordinates(page) == before
    page.goto(f"{live_server.url}/s/{sub.pk}/incidents/{incident.pk}/")
    page.get_by_role("link", name="Continue investigation").click()
    expect(nodes).to_have_count(len(before))
    assert coordinates(page) == before
    expect(page.locator("#inv-svg g.node.selected")).to_have_attribute(
        "data-node", image.get_attribute("data-node"))
    expect(pane.locator(".pane-label")).to_have_text("rundll32.exe")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "investigation.png"), full_page=True)

    # Undo steps back the last expansion only: the process is selected again.
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#inv-svg g.node.selected")).to_have_attribute(
        "data-node", dump.get_attribute("data-node"))
    problems.assert_none(page)


def inside(page, locator, box):
    """Whether every element of `locator` is drawn within `box` (a bounding rectangle)."""
    rects = locator.evaluate_all("els => els.map(e => { const r = e.getBoundingClientRect(); "
                                 "return [r.left, r.top, r.right, r.bottom]; })")
    return rects and all(box["x"] - 1 <= left and right <= box["x"] + box["width"] + 1
                         and box["y"] - 1 <= top and bottom <= box["y"] + box["height"] + 1
                         for left, top, right, bottom in rects)


def test_expanding_the_busy_demo_host_adds_12_one_per_process_and_keeps_the_incident(
        live_server, transactional_db, page, problems):
    sub, incident = demo()
    sign_in(page, live_server, "analyst", "analyst-demo-pass",
            then=f"/s/{sub.pk}/incidents/{incident.pk}/")
    page.get_by_role("button", name="Start investigation").click()
    nodes = page.locator("#inv-svg g.node")
    expect(nodes).to_have_count(21)
    host = node(page, sub, "host", "vm-web-01")
    click_and_wait(page, host)
    # 12 new nodes and "+N more" for the rest.
    expect(nodes).to_have_count(21 + 12 + 1)
    more = page.locator(f'#inv-svg g.node[data-node="more:{host.get_attribute("data-node")}"]')
    expect(more).to_have_count(1)
    left = int(more.locator(".node-label").text_content().split()[0].lstrip("+"))
    assert left > 0
    # The processes the alerts name are not drawn again from the events: one per program.
    programs = page.locator('#inv-svg g.node[data-kind="process"] .node-label tspan:first-child')\
        .all_text_contents()
    names = [p.split(" ")[0].lower() for p in programs]
    assert len(names) == len(set(names)), names
    assert {"explorer.exe", "powershell.exe", "rundll32.exe"} <= set(names)
    merged = node(page, sub, "process", "C:\\Windows\\explorer.exe")
    expect(merged).not_to_have_class(re.compile(r"\bfrom-events\b"))
    # The incident and its alerts are still in view, with the host.
    svg = page.locator("#inv-svg").bounding_box()
    assert inside(page, page.locator('#inv-svg g.node[data-kind="incident"] .shape'), svg)
    assert inside(page, page.locator('#inv-svg g.node[data-kind="alert"] .shape'), svg)
    assert inside(page, host.locator(".shape"), svg)
    # The pane's tabs are on one line.
    tops = page.locator("#inv-pane [role=tab]").evaluate_all(
        "tabs => tabs.map(t => Math.round(t.getBoundingClientRect().top))")
    assert len(tops) == 5 and len(set(tops)) == 1, tops

    # "+N more" brings the next ones, 12 at most.
    click_and_wait(page, more)
    expect(nodes).to_have_count(21 + 12 + min(left, 12) + (1 if left > 12 else 0))
    problems.assert_none(page)


def test_a_map_too_big_to_read_at_once_opens_on_the_alert_it_is_about(
        live_server, personas, page, problems):
    from tests.factories import make_alert

    entities = [{"$id": "1", "Type": "host", "HostName": "vm-many-01"}] + [
        {"$id": str(n), "Type": "process", "ProcessId": str(n), "CommandLine": f"job{n}.exe",
         "Host": {"$ref": "1"}} for n in range(2, 102)]
    alert = make_alert(personas.sub, display_name="Many processes", entities=entities)
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/alerts/{alert.pk}/")
    page.get_by_role("button", name="Start investigation").click()
    expect(page.locator("#inv-svg g.node")).to_have_count(1 + 101)
    svg = page.locator("#inv-svg").bounding_box()
    assert inside(page, page.locator('#inv-svg g.node[data-kind="alert"] .shape'), svg)
    problems.assert_none(page)
