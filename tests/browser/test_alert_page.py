"""The alert page's suppression, activity and incident link, in a real (headless) Chromium."""

import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert
from tests.browser.conftest import sign_in
from tests.factories import make_alert

HOSTILE = "<img src=x onerror=window.__x=1>"


def no_injected_code(page):
    assert page.evaluate("window.__x") is None, page.url
    assert page.locator("img[src='x'], img[onerror]").count() == 0, page.url


@pytest.mark.parametrize("csp", [
    pytest.param(True, id="with-csp"),
    # Chromium told to ignore the CSP: escaping alone must keep the markup inert.
    pytest.param(False, id="escaping-alone", marks=pytest.mark.browser_context(bypass_csp=True)),
])
def test_a_suppressed_alert_names_its_rule_and_shows_its_activity(live_server, personas, page,
                                                                   problems, csp):
    from incidents.correlation import correlate

    sub = personas.sub.pk
    first = make_alert(personas.sub, alert_type="Scan", compromised_entity="vm-scan")
    make_alert(personas.sub, alert_type="Scan", compromised_entity="vm-scan")

    # The shift lead suppresses similar alerts, with a hostile reason.
    sign_in(page, live_server, "lead", then=f"/s/{sub}/alerts/{first.pk}/")
    form = page.locator("#suppress-form")
    expect(page.locator("#suppress-preview")).to_have_text(
        "Matches 2 past alerts (this one included).")
    form.get_by_label("Reason").fill(HOSTILE)
    form.get_by_role("button", name="Dismiss and suppress").click()
    expect(page.locator(".alert-head .status")).to_have_text("Dismissed · Benign positive")
    no_injected_code(page)

    # A new alert like it arrives, is dismissed by the rule, and joins an incident.
    later = make_alert(personas.sub, alert_type="Scan", compromised_entity="vm-scan",
                       display_name="Later scan")
    correlate()
    assert Alert.objects.get(pk=later.pk).status == "dismissed"
    page.goto(f"{live_server.url}/s/{sub}/alerts/{later.pk}/")
    notice = page.locator("#suppressed-by")
    expect(notice).to_have_text(
        f"Dismissed automatically by suppression rule «{HOSTILE}», verdict Benign positive.")
    expect(page.locator(".alert-head .status")).to_have_text("Dismissed · Benign positive")
    expect(page.locator("#part-of")).to_contain_text("Part of incident: Security incident "
                                                     "detected on vm-scan")
    no_injected_code(page)
    notice.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/suppression/#rule-\d+$"))
    expect(page.locator("tr:target")).to_contain_text(HOSTILE)
    no_injected_code(page)

    # A comment, hostile, shows in the alert's activity as text.
    page.go_back()
    page.locator("section.triage textarea[name=comment]").fill(HOSTILE)
    page.get_by_role("button", name="Add comment").click()
    entries = page.locator("#activity li")
    expect(entries).to_have_count(3)
    expect(entries.nth(0)).to_contain_text("the alert «Later scan» arrived")
    expect(entries.nth(1)).to_contain_text("dismissed the alert «Later scan» as benign positive")
    expect(entries.nth(1)).to_contain_text("dismissed automatically by suppression rule")
    expect(entries.nth(2)).to_contain_text("lead commented on the alert")
    expect(entries.nth(2).locator(".prewrap")).to_have_text(HOSTILE)
    no_injected_code(page)

    # The incident's own page tells it too, and its link leads back.
    page.locator("#part-of a").click()
    expect(page.locator("#timeline li.verb-alertsuppress")).to_contain_text(
        "dismissed automatically by suppression rule")
    no_injected_code(page)

    problems.assert_none(page)
