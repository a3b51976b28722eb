"""The pages the shift lead on call reads on a phone: 390 px wide, nothing wider."""

import pytest
from playwright.sync_api import expect

from incidents.correlation import correlate
from incidents.models import IncidentAlert
from search.demo import seed_events
from tests.browser.conftest import sign_in
from tests.factories import make_alert

PHONE = {"width": 390, "height": 844}


def fits(page):
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    box = sign_out.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], box


@pytest.mark.browser_context(viewport=PHONE)
def test_the_queue_incident_alert_and_search_pages_fit_a_phone(live_server, personas, page,
                                                                problems):
    token = "SQBFAFgA" * 40  # a long unbroken value, as attackers' commands are
    # A child process whose parent's command line is that value: the alert page names the
    # parent in the child's relations as well as in its own heading.
    processes = [{"$id": "1", "Type": "host", "HostName": "vm-phone-01"},
                 {"$id": "2", "Type": "process", "ProcessId": "0x10",
                  "CommandLine": f"powershell.exe -EncodedCommand {token}"},
                 {"$id": "3", "Type": "process", "ProcessId": "0x11",
                  "CommandLine": "rundll32.exe comsvcs.dll, MiniDump",
                  "ParentProcess": {"$ref": "2"}, "Host": {"$ref": "1"}}]
    alerts = [make_alert(personas.sub, display_name=f"Encoded PowerShell {token} step {n}",
                         compromised_entity="vm-phone-01", entities=processes,
                         start_time=f"2026-11-27T{10 + n:02d}:00:00Z") for n in range(3)]
    correlate(subscription_id=personas.sub.pk)
    incident = IncidentAlert.objects.get(alert=alerts[0]).incident
    seed_events(personas.sub)
    sign_in(page, live_server, "lead")
    fits(page)
    # The queue: a card per incident, its title and its actions on screen.
    row = page.locator(f"#incident-{incident.pk}")
    expect(row.get_by_role("button", name="Dismiss")).to_be_visible()
    assert row.bounding_box()["width"] <= PHONE["width"]
    # The navigation is reachable: it scrolls in its own row, not the page.
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue"))\
        .to_be_visible()
    for path in (f"/s/{personas.sub.pk}/incidents/{incident.pk}/",
                 f"/s/{personas.sub.pk}/alerts/{alerts[0].pk}/",
                 f"/s/{personas.sub.pk}/alerts/",
                 f"/s/{personas.sub.pk}/search/"):
        page.goto(f"{live_server.url}{path}")
        fits(page)
    # A search's result table scrolls within its own box.
    page.fill("#id_query", "SecurityEvent | project TimeGenerated, Computer, Account, "
                           "CommandLine, Activity | take 20")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#run-status table.results")).to_be_visible()
    fits(page)
    problems.assert_none(page)
