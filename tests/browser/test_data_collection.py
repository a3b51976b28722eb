"""Data collection in a real (headless) Chromium: the admin turns automatic provisioning
off, events for a new VM are refused and the VM is listed as not monitored while the
existing VMs keep collecting; the admin then turns collection on for it by hand."""

import json
import os

from playwright.sync_api import expect

from inventory.models import Resource
from inventory.roles import Scope
from tests.browser.conftest import sign_in
from tests.conftest import make_token
from tests.search.factories import default_workspace, ingest

SHOTS = os.environ.get("SCREENSHOTS_DIR")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def events(computer):
    return [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4625, "Computer": computer,
             "Account": "CONTOSO\\eve"}]


def test_provisioning_off_leaves_a_new_vm_unmonitored(page, live_server, personas, problems):
    sub = personas.sub
    ws = default_workspace(sub)
    for name in ("vm-web-01", "vm-sql-01"):
        ingest(ws, "SecurityEvent", events(name))
    token = make_token(sub, scopes=(Scope.INGEST,))
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(page, live_server, "admin", then=f"/s/{sub.pk}/settings/policy/")
    expect(page.locator("#auto-provisioning-state")).to_have_text("On")
    expect(page.locator("#collection-counts")).to_contain_text("2 resources collect")
    page.locator("#data-collection input[name=reason]").fill("Agents are installed by hand now")
    page.get_by_role("button", name="Turn automatic provisioning off").click()
    expect(page.locator(".msg-success")).to_contain_text("Automatic provisioning is off.")
    expect(page.locator("#auto-provisioning-state")).to_have_text("Off")
    expect(page.locator("#collection-counts")).to_contain_text(
        "does not stop collection on resources that already collect")
    expect(page.locator("#collection-counts")).to_contain_text("2 resources collect")
    shot(page, "security-policy")

    url = f"{live_server.url}/api/v1/workspaces/{ws.workspace_id}/events?table=SecurityEvent"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    answer = page.request.post(url, data=json.dumps(events("vm-new-07")), headers=headers)
    assert answer.ok
    [result] = answer.json()["results"]
    assert result["status"] == "rejected" and result["error"]["code"] == "collection_off"
    assert page.request.post(url, data=json.dumps(events("vm-web-01")),
                             headers=headers).json()["accepted"] == 1

    page.get_by_role("link", name="Inventory", exact=True).click()
    new = page.locator("#resources tr").filter(has_text="vm-new-07")
    expect(new.locator(".collection")).to_contain_text("not monitored")
    for name in ("vm-web-01", "vm-sql-01"):
        row = page.locator("#resources tr").filter(has_text=name)
        expect(row.locator(".collection")).to_contain_text("collecting")
        expect(row.locator(".collection")).not_to_contain_text("not monitored")
    shot(page, "inventory")
    page.get_by_label("Not monitored only").check()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#resources tbody tr")).to_have_count(1)
    expect(page.locator("#resources")).to_contain_text("vm-new-07")

    new = page.locator("#resources tr").filter(has_text="vm-new-07")
    new.locator("input[name=reason]").fill("Agent installed on vm-new-07")
    new.get_by_role("button", name="Start collecting").click()
    expect(page.locator(".msg-success")).to_contain_text("Data collection is on for vm-new-07")
    assert Resource.objects.get(name="vm-new-07").collecting is True
    assert page.request.post(url, data=json.dumps(events("vm-new-07")),
                             headers=headers).json()["accepted"] == 1

    page.goto(f"{live_server.url}/s/{sub.pk}/settings/refused-events/")
    expect(page.locator("#refused-events")).to_contain_text("collection_off")
    expect(page.locator("#refused-events")).to_contain_text("vm-new-07")
    shot(page, "refused-events")
    problems.assert_none(page)
