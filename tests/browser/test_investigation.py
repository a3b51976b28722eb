"""The investigation map on the demo incident, as an analyst clicks through it."""

from pathlib import Path
from urllib.parse import parse_qs

from playwright.sync_api import expect

from alerts.demo import seed_alerts
from alerts.models import Entity
from incidents.correlation import correlate
from incidents.models import Incident
from inventory.demo import PRODUCTION, seed_estate
from search.demo import seed_events
from tests.browser.conftest import sign_in

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def demo():
    subs = seed_estate()
    seed_alerts(subs, force=True)
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

    # The host: new nodes from its security events, and the demo's successful logon.
    host = node(page, sub, "host", "vm-web-01")
    click_and_wait(page, host)
    expect(host).to_have_class("node kind-host selected expanded")
    assert nodes.count() > first
    pane = page.locator("#inv-pane")
    expect(pane.locator(".pane-label")).to_have_text("vm-web-01")
    pane.get_by_role("tab", name="Logons").click()
    logon = pane.locator("#tab-logons tr").filter(has_text="4624").filter(
        has_text="CONTOSO\\svc-backup").filter(has_text="203.0.113.87")
    expect(logon).to_have_count(1)
    search = pane.get_by_role("link", name="Search events for this").get_attribute("href")
    path, query = search.split("?", 1)
    assert path == f"/s/{sub.pk}/search/"
    assert 'Computer =~ @"vm-web-01"' in parse_qs(query)["query"][0]

    # Two more: the attacker's address, then the dumping process.
    click_and_wait(page, node(page, sub, "ip", "203.0.113.87"))
    expect(pane.locator(".pane-label")).to_have_text("203.0.113.87")
    dump = node(page, sub, "process", "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, "
                                      "MiniDump 624 C:\\Windows\\Temp\\lsass.dmp full")
    click_and_wait(page, dump)
    pane.get_by_role("tab", name="Tree").click()
    expect(pane.locator("#tab-tree")).to_contain_text("powershell.exe -NoProfile")
    before = coordinates(page)
    assert len(before) > first

    # Reload, leave, and continue: the same map, the same coordinates, the same selection.
    page.reload()
    assert coordinates(page) == before
    page.goto(f"{live_server.url}/s/{sub.pk}/incidents/{incident.pk}/")
    page.get_by_role("link", name="Continue investigation").click()
    expect(nodes).to_have_count(len(before))
    assert coordinates(page) == before
    expect(page.locator("#inv-svg g.node.selected")).to_have_attribute(
        "data-node", dump.get_attribute("data-node"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "investigation.png"), full_page=True)

    # Undo steps back the last expansion only.
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#inv-svg g.node.selected")).to_have_attribute(
        "data-node", node(page, sub, "ip", "203.0.113.87").get_attribute("data-node"))
    problems.assert_none(page)
