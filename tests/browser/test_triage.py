"""The incident queue and triage as a user clicks through them, in a real (headless) Chromium."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from incidents.correlation import correlate
from incidents.models import Incident, IncidentAlert
from inventory.models import Resource
from tests.browser.conftest import sign_in
from tests.factories import make_alert

HOSTILE = "<img src=x onerror=window.__x=1>"
ROWS = "#queue-body tr[id^=incident-]"


def sign_out(page, live_server):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")


def standalone(subscription, resource, **fields):
    """An alert alone on its own resource: no entities, its own compromised entity."""
    return make_alert(subscription, compromised_entity=resource, entities=[], **fields)


def on_one_resource(subscription, resource, *names, **fields):
    """Alerts one hour apart on `resource` (compromised entity and host); correlated, they
    are one incident, which is returned with the alerts."""
    alerts = [make_alert(
        subscription, display_name=name, compromised_entity=resource,
        start_time=f"2026-11-27T{10 + n:02d}:00:00Z",
        **{"entities": [
            {"$id": "1", "Type": "host", "HostName": resource, "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "CONTOSO"},
            {"$id": "3", "Type": "ip", "Address": "203.0.113.50"},
        ], **fields}) for n, name in enumerate(names)]
    correlate(subscription_id=subscription.pk)
    incidents = {IncidentAlert.objects.get(alert=a).incident_id for a in alerts}
    assert len(incidents) == 1, incidents
    return Incident.objects.get(pk=incidents.pop()), alerts


def incident_of(alert):
    return IncidentAlert.objects.get(alert=alert).incident


def counts(page):
    """{"High": 1, ...} as the severity counters show it."""
    shown = {}
    for text in page.locator("#sev-counts li").all_inner_texts():
        word, n = text.split()
        shown[word] = int(n)
    return shown


def counter(page, word):
    return page.locator("#sev-counts a").filter(has_text=word).locator("strong")


def no_injected_code(page):
    """The hostile markup ran nowhere: no handler set the flag and no <img> was built."""
    assert page.evaluate("window.__x") is None, page.url
    assert page.locator("img[src='x'], img[onerror]").count() == 0, page.url


# 1. The queue, worst first


def test_the_queue_is_ranked_by_severity_with_counters(live_server, personas, page, problems):
    standalone(personas.sub, "vm-low-01", severity="low", display_name="Port scan")
    standalone(personas.sub, "vm-high-01", severity="high", display_name="Ransomware note")
    standalone(personas.sub, "vm-med-01", severity="medium", display_name="Odd sign-in")
    standalone(personas.other, "vm-fab-01", severity="high", display_name="Fabrikam secret")
    correlate()

    sign_in(page, live_server, "analyst")

    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/queue/")
    expect(page.get_by_role("heading", level=1, name="Queue")).to_be_visible()
    rows = page.locator(ROWS)
    expect(rows).to_have_count(3)
    assert rows.locator("td:nth-child(3) > a").all_text_contents() == [
        "Ransomware note", "Odd sign-in", "Port scan"]
    assert rows.locator(".sev").all_text_contents() == ["High", "Medium", "Low"]
    assert rows.locator("td:nth-child(4)").all_inner_texts() == [
        "vm-high-01", "vm-med-01", "vm-low-01"]
    assert counts(page) == {"High": 1, "Medium": 1, "Low": 1, "Informational": 0}
    expect(page.get_by_text("Fabrikam secret")).to_have_count(0)
    problems.assert_none(page)


# 2. From the queue to an incident, then to one of its alerts


def test_open_an_incident_then_one_of_its_alerts(live_server, personas, page, problems):
    standalone(personas.sub, "vm-other-01", severity="low", display_name="Unrelated")
    incident, (first, second) = on_one_resource(
        personas.sub, "vm-db-01", "Brute force against SQL", "Suspicious SQL export")
    # The escalation form names the workload owner: a long name must not widen the page.
    Resource.objects.filter(pk=incident.resource_id).update(
        owner_name="Dana Whitfield-Montgomery",
        owner_email="dana.whitfield-montgomery@security-operations.contoso.example")
    sign_in(page, live_server, "analyst")

    title = "Security incident detected on vm-db-01"
    row = page.locator(ROWS).filter(has_text=title)
    expect(row).to_have_count(1)
    expect(row.locator("td.right").first).to_have_text("2")  # its alerts
    expect(row.locator(".tag").filter(has_text="incident")).to_be_visible()
    row.get_by_role("link", name=title).click()

    expect(page).to_have_url(
        f"{live_server.url}/s/{personas.sub.pk}/incidents/{incident.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_label("Escalate to")).to_contain_text("Dana Whitfield-Montgomery")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    alerts = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Alerts")))
    expect(alerts.locator("h2 .count")).to_have_text("2")
    assert alerts.locator("tbody td:nth-child(2) > a").all_text_contents() == [
        "Brute force against SQL", "Suspicious SQL export"]  # oldest first
    reasons = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Why these alerts belong together"))
    expect(reasons).to_be_visible()
    expect(reasons.locator("li").filter(has_text="same_resource")).to_contain_text(
        "All 2 alerts are on vm-db-01.")
    expect(reasons.locator("li").filter(has_text="within_window")).to_contain_text(
        "within 24 hours")
    expect(reasons.locator("li").filter(has_text="shared_entity").filter(
        has_text="203.0.113.50")).to_have_count(1)
    expect(page.get_by_text("Unrelated")).to_have_count(0)

    alerts.get_by_role("link", name="Suspicious SQL export").click()

    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/alerts/{second.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Suspicious SQL export")
    problems.assert_none(page)


# 3. Dismissing from the queue, in place


def test_dismiss_with_a_verdict_from_the_queue_updates_the_row_in_place(
        live_server, personas, page, problems):
    standalone(personas.sub, "vm-high-01", severity="high", display_name="Ransomware note")
    medium = standalone(personas.sub, "vm-med-01", severity="medium", display_name="Odd sign-in")
    standalone(personas.sub, "vm-med-02", severity="medium", display_name="Odd token use")
    correlate()
    incident = incident_of(medium)
    sign_in(page, live_server, "analyst")
    queue_url = page.url
    expect(counter(page, "Medium")).to_have_text("2")
    row = page.locator(f"#incident-{incident.pk}")
    expect(row.locator(".status")).to_have_text("Active")
    page.evaluate("window.__sameDocument = true")

    row.get_by_label("Verdict").select_option(label="False positive")
    row.get_by_role("button", name="Dismiss").click()

    expect(row.locator(".status")).to_have_text("Dismissed")
    expect(row).to_contain_text("False positive")
    expect(row).to_have_class("row-dismissed")
    expect(row.get_by_role("button", name="Dismiss")).to_have_count(0)
    expect(row.get_by_role("button", name="Activate")).to_be_visible()
    expect(counter(page, "Medium")).to_have_text("1")
    expect(counter(page, "High")).to_have_text("1")
    expect(page.locator("#sev-counts")).to_have_count(1)  # swapped, not added
    expect(page.locator(ROWS)).to_have_count(3)
    assert page.url == queue_url
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped it; no navigation
    expect(page.locator("header.topbar")).to_have_count(1)
    incident.refresh_from_db()
    assert (incident.status, incident.verdict) == ("dismissed", "false_positive")
    medium.refresh_from_db()
    assert (medium.status, medium.verdict) == ("dismissed", "false_positive")
    problems.assert_none(page)

    # A fresh load agrees: the dismissed incident has left the active queue.
    page.reload()
    expect(page.locator(ROWS)).to_have_count(2)
    expect(page.locator(f"#incident-{incident.pk}")).to_have_count(0)
    expect(counter(page, "Medium")).to_have_text("1")
    problems.assert_none(page)


def test_dismissing_an_incident_of_many_alerts_asks_first(live_server, personas, page,
                                                         problems):
    incident, alerts = on_one_resource(personas.sub, "vm-many-01", "Brute force", "Logon",
                                       "Dump")
    single = incident_of(standalone(personas.sub, "vm-one-01", severity="low",
                                    display_name="Port scan"))
    sign_in(page, live_server, "analyst")
    row = page.locator(f"#incident-{incident.pk}")
    asked = []

    def answer(accept):
        def on_dialog(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        page.once("dialog", on_dialog)

    # The button: refused at the question, nothing changes.
    row.get_by_label("Verdict").select_option(label="Benign positive")
    answer(False)
    row.get_by_role("button", name="Dismiss").click()
    assert asked == ["Dismiss 3 active alerts as benign positive, with the incident "
                     f"“{incident.title}”?"]
    expect(row.locator(".status")).to_have_text("Active")
    incident.refresh_from_db()
    assert incident.status == "active"

    # The key d asks too; accepted, it dismisses them all.
    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    answer(True)
    page.keyboard.press("d")
    expect(row.locator(".status")).to_have_text("Dismissed")
    assert len(asked) == 2 and "3 active alerts" in asked[1]
    for alert in alerts:
        alert.refresh_from_db()
        assert (alert.status, alert.verdict) == ("dismissed", "benign_positive")

    # One alert: one click, no question.
    page.locator(f"#incident-{single.pk}").get_by_role("button", name="Dismiss").click()
    expect(page.locator(f"#incident-{single.pk} .status")).to_have_text("Dismissed")
    assert len(asked) == 2
    problems.assert_none(page)


def test_the_incident_page_asks_too_before_dismissing_many_alerts(live_server, personas,
                                                                  page, problems):
    incident, alerts = on_one_resource(personas.sub, "vm-many-02", "Brute force", "Dump")
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/incidents/{incident.pk}/")
    triage = page.locator("section.triage")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    triage.get_by_role("button", name="Dismiss").click()
    assert asked == ["Dismiss 2 active alerts as false positive, with the incident "
                     f"“{incident.title}”?"]
    incident.refresh_from_db()
    assert incident.status == "active"
    page.once("dialog", lambda dialog: dialog.accept())
    triage.get_by_role("button", name="Dismiss").click()
    expect(page.locator(".alert-head .status")).to_contain_text("Dismissed")
    incident.refresh_from_db()
    assert incident.status == "dismissed"
    problems.assert_none(page)


# 4. Escalating to the shift leads


def test_escalate_to_the_leads_who_see_and_acknowledge_it(live_server, personas, page,
                                                           problems):
    personas.lead.email = "lead@example.com"
    personas.lead.save()
    standalone(personas.sub, "vm-other-01", severity="high", display_name="Not escalated")
    incident, _ = on_one_resource(personas.sub, "vm-db-01", "Brute force", "Data export")
    detail = f"/s/{personas.sub.pk}/incidents/{incident.pk}/"
    sign_in(page, live_server, "analyst", then=detail)
    owner = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Owner and escalation"))
    expect(owner.get_by_role("button", name="Acknowledge the escalation")).to_have_count(0)

    owner.get_by_label("Escalate to").select_option(label="the shift leads")
    owner.get_by_label("Note").fill("Looks like exfiltration; please look now.")
    owner.get_by_role("button", name="Escalate").click()

    expect(page).to_have_url(f"{live_server.url}{detail}")
    expect(page.locator("#messages .msg-success")).to_have_text(
        "Escalated; the email is on its way.")
    expect(page.locator(".alert-head .tag-escalated")).to_have_text(
        "escalated to the shift leads")
    expect(owner.locator(".notice")).to_have_text(
        "Escalated: Looks like exfiltration; please look now.")
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]
    assert "Looks like exfiltration" in mail.outbox[0].body
    problems.assert_none(page)

    sign_out(page, live_server)
    sign_in(page, live_server, "lead")
    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/queue/")
    expect(page.locator(ROWS)).to_have_count(2)
    filters = page.get_by_role("form", name="Filter the queue")
    filters.get_by_label("Escalated").check()
    filters.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"[?&]escalated=on"))
    rows = page.locator(ROWS)
    expect(rows).to_have_count(1)
    row = page.locator(f"#incident-{incident.pk}")
    expect(row.locator(".tag-escalated")).to_have_text("escalated")
    expect(filters.get_by_label("Escalated")).to_be_checked()
    row.get_by_role("link", name="Security incident detected on vm-db-01").click()

    expect(page).to_have_url(f"{live_server.url}{detail}")
    page.get_by_role("button", name="Acknowledge the escalation").click()

    expect(page.locator("#messages .msg-success")).to_have_text("Escalation acknowledged.")
    expect(page.locator(".alert-head .tag-escalated")).to_have_text(
        "escalated to the shift leads, acknowledged")
    expect(page.get_by_role("button", name="Acknowledge the escalation")).to_have_count(0)
    page.goto(f"{live_server.url}/s/{personas.sub.pk}/queue/?escalated=on")
    expect(page.locator(f"#incident-{incident.pk} .tag-escalated")).to_have_text(
        "escalation acknowledged")
    problems.assert_none(page)


# 5. Attacker-written text


@pytest.mark.parametrize("csp", [
    pytest.param(True, id="with-csp"),
    # Chromium told to ignore the CSP: escaping alone must keep the markup inert.
    pytest.param(False, id="escaping-alone", marks=pytest.mark.browser_context(bypass_csp=True)),
])
def test_hostile_text_stays_text_on_the_queue_and_incident_pages(live_server, personas, page,
                                                                 problems, csp):
    hostile_entities = [
        {"$id": "1", "Type": "host", "HostName": HOSTILE},
        {"$id": "2", "Type": "account", "Name": HOSTILE, "NTDomain": "CONTOSO"},
    ]
    incident, (first, _) = on_one_resource(personas.sub, "vm-hostile", HOSTILE, HOSTILE,
                                           description=HOSTILE, entities=hostile_entities)
    # One alone too, so that the queue shows the hostile text as a title.
    lone = standalone(personas.sub, "vm-hostile-2", display_name=HOSTILE, description=HOSTILE)
    correlate()
    sign_in(page, live_server, "analyst")

    # The queue.
    rows = page.locator(ROWS)
    expect(rows).to_have_count(2)
    expect(page.locator(f"#incident-{incident_of(lone).pk}").get_by_role(
        "link", name=HOSTILE, exact=True)).to_be_visible()
    no_injected_code(page)

    # Searched for, the text goes back into the search box (an attribute) and into the rows.
    filters = page.get_by_role("form", name="Filter the queue")
    filters.get_by_role("searchbox", name="Search titles and entities").fill(HOSTILE)
    filters.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(filters.get_by_role("searchbox", name="Search titles and entities")).to_have_value(
        HOSTILE)
    expect(page.get_by_role("link", name=HOSTILE, exact=True)).to_be_visible()
    no_injected_code(page)

    # The incident.
    page.goto(f"{live_server.url}/s/{personas.sub.pk}/queue/")
    page.get_by_role("link", name="Security incident detected on vm-hostile").click()
    expect(page).to_have_url(
        f"{live_server.url}/s/{personas.sub.pk}/incidents/{incident.pk}/")
    expect(page.locator("p.lead")).to_contain_text(HOSTILE)  # the description names them
    alerts = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Alerts")))
    links = alerts.get_by_role("link", name=HOSTILE, exact=True)
    expect(links).to_have_count(2)
    reasons = page.locator("ul.reasons")
    expect(reasons).to_contain_text(HOSTILE)  # "They share the account …"
    expect(page.locator("#timeline")).to_be_visible()
    no_injected_code(page)

    # An alert of it.
    links.first.click()
    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/alerts/{first.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    expect(page.locator("p.prewrap")).to_have_text(HOSTILE)
    expect(page.locator("#entities li.entity-host .entity-head strong")).to_have_text(HOSTILE)
    no_injected_code(page)

    # Triage with a hostile comment: the timeline shows it as text.
    page.goto(f"{live_server.url}/s/{personas.sub.pk}/incidents/{incident.pk}/")
    comment = page.locator("form.row-form").filter(
        has=page.get_by_role("button", name="Add comment"))
    comment.get_by_label("Comment").fill(HOSTILE)
    comment.get_by_role("button", name="Add comment").click()
    expect(page.locator("#messages .msg-success")).to_have_text("Comment added.")
    expect(page.locator("#timeline .prewrap").filter(has_text=HOSTILE)).to_have_count(1)
    no_injected_code(page)

    problems.assert_none(page)


# 6. Resolving, and only a shift lead reopening


def test_resolve_from_the_incident_page_and_only_a_lead_reopens(live_server, personas, page,
                                                                problems):
    incident, alerts = on_one_resource(personas.sub, "vm-db-01", "Brute force", "Data export")
    detail = f"/s/{personas.sub.pk}/incidents/{incident.pk}/"
    sign_in(page, live_server, "analyst", then=detail)
    triage = page.locator("section.triage")
    resolve = triage.locator("form").filter(
        has=page.get_by_role("button", name="Resolve as true positive"))

    resolve.get_by_label("Comment").fill("Reimaged vm-db-01 and rotated alice's password.")
    resolve.get_by_role("button", name="Resolve as true positive").click()

    expect(page).to_have_url(f"{live_server.url}{detail}")
    expect(page.locator("#messages .msg-success")).to_have_text("Resolved.")
    expect(page.locator(".alert-head .status")).to_have_text("Resolved")
    expect(page.locator(".alert-head .tag")).to_have_text("True positive")
    resolved = page.locator("#timeline li.verb-incidentresolve")
    expect(resolved).to_have_count(1)
    expect(resolved).to_contain_text("analyst resolved it (true positive)")
    expect(resolved.locator(".prewrap")).to_have_text(
        "Reimaged vm-db-01 and rotated alice's password.")
    alert_rows = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=re.compile(r"^Alerts"))).locator("tbody .status")
    expect(alert_rows).to_have_text(["Resolved", "Resolved"])  # the alerts follow
    # An analyst may not reopen what is resolved: no button, and no form to find it by.
    expect(page.get_by_role("button", name="Activate again")).to_have_count(0)
    expect(triage.get_by_role("button", name="Resolve as true positive")).to_have_count(0)
    expect(triage.get_by_role("button", name="Add comment")).to_be_visible()
    problems.assert_none(page)

    sign_out(page, live_server)
    sign_in(page, live_server, "lead", then=detail)
    activate = page.locator("section.triage form").filter(
        has=page.get_by_role("button", name="Activate again"))
    expect(activate).to_have_count(1)
    activate.get_by_label("Comment").fill("Seen again on the same host.")
    activate.get_by_role("button", name="Activate again").click()

    expect(page.locator("#messages .msg-success")).to_have_text("Active again.")
    expect(page.locator(".alert-head .status")).to_have_text("Active")
    expect(page.locator(".alert-head .tag")).to_have_count(0)  # no verdict
    expect(page.locator("section.triage").get_by_role(
        "button", name="Resolve as true positive")).to_be_visible()
    expect(page.locator("#timeline li.verb-incidentactivate")).to_contain_text(
        "lead made it active again, and 2 of its alerts with it Seen again on the same host.")
    expect(alert_rows).to_have_text(["Active", "Active"])
    incident.refresh_from_db()
    assert (incident.status, incident.verdict) == ("active", "")
    problems.assert_none(page)


def test_keys_resolve_with_a_comment_and_keep_the_place(live_server, personas, page,
                                                         problems):
    standalone(personas.sub, "vm-k1", severity="high", display_name="First")
    second = standalone(personas.sub, "vm-k2", severity="medium", display_name="Second")
    standalone(personas.sub, "vm-k3", severity="low", display_name="Third")
    correlate()
    sign_in(page, live_server, "analyst")
    # Esc leaves any field of the page for the rows.
    page.get_by_role("searchbox", name="Search titles and entities").click()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    selected = page.locator("#queue-body tr.selected")
    expect(selected).to_contain_text("Second")

    page.keyboard.press("r")  # no comment yet: r asks for one
    comment = selected.get_by_role("textbox", name=re.compile("^Comment to resolve"))
    expect(comment).to_be_focused()
    page.keyboard.type("Reset the token and closed the session.")
    page.keyboard.press("Enter")

    row = page.locator(f"#incident-{incident_of(second).pk}")
    expect(row.locator(".status")).to_have_text("Resolved")
    expect(row).to_have_class(re.compile(r"\bselected\b"))  # swapped, still the place
    page.keyboard.press("j")
    expect(page.locator("#queue-body tr.selected")).to_contain_text("Third")
    problems.assert_none(page)


def test_long_unbroken_text_does_not_widen_the_page(live_server, personas, page, problems):
    token = "SQBFAFgA" * 200  # an encoded command, a hash, a URL: no place to break
    incident, _ = on_one_resource(personas.sub, "vm-wide-01", "Encoded " + token, "Next")
    sign_in(page, live_server, "analyst")
    page.get_by_label("Note").fill(token)
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".handover .prewrap")).to_contain_text(token[:40])
    page.wait_for_load_state("load")  # styles applied before measuring
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.goto(f"{live_server.url}/s/{personas.sub.pk}/incidents/{incident.pk}/")
    page.locator("section.triage textarea[name=comment]").fill(token)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#timeline")).to_contain_text(token[:40])
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    problems.assert_none(page)


def test_dismissing_the_selected_asks_first(live_server, personas, page, problems):
    many, _ = on_one_resource(personas.sub, "vm-many-03", "Brute force", "Dump")
    one = incident_of(standalone(personas.sub, "vm-one-03", severity="low",
                                 display_name="Port scan"))
    sign_in(page, live_server, "analyst")
    for incident in (many, one):
        page.locator(f"#incident-{incident.pk} input[name=ids]").check()
    bar = page.locator("#bulk-form")
    bar.get_by_label("Verdict for the selected").select_option(label="Benign positive")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    bar.get_by_role("button", name="Dismiss selected").click()
    assert asked == ["Dismiss every active alert of the 2 selected as benign positive?"]
    for incident in (many, one):
        incident.refresh_from_db()
        assert incident.status == "active"
    page.once("dialog", lambda dialog: dialog.accept())
    bar.get_by_role("button", name="Dismiss selected").click()
    expect(page.locator(".messages, .flash, [role=status]").first).to_contain_text("2 of 2")
    for incident in (many, one):
        incident.refresh_from_db()
        assert (incident.status, incident.verdict) == ("dismissed", "benign_positive")
    problems.assert_none(page)
