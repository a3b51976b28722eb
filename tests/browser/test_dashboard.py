"""The dashboard on the demo, as the shift lead sees it after signing in."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from incidents.correlation import correlate
from inventory.demo import PRODUCTION, seed_estate
from investigation.management.commands.seed_demo import refresh_demo_alerts
from tests.browser.conftest import sign_in
from tests.browser.test_narrow import PHONE, fits
from tests.factories import make_alert

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_sign_in_lands_on_the_dashboard_drawn_in_svg(live_server, transactional_db, page,
                                                      problems):
    subs = seed_estate()
    refresh_demo_alerts(subs, force=True)
    correlate()
    sub = subs[PRODUCTION]
    sign_in(page, live_server, "lead", "lead-demo-pass", land=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert page.url.endswith(f"/s/{sub.pk}/dashboard/")
    chart = page.get_by_role("img", name="New alerts per day over 30 days, stacked by severity")
    expect(chart).to_be_visible()
    bars = chart.locator("rect.bar")
    assert bars.count() > 0
    # The palette reaches the SVG through classes: a high bar is the console's red.
    high = chart.locator("rect.bar.sev-high").first
    assert high.evaluate("r => getComputedStyle(r).fill") == "rgb(239, 68, 68)"
    box = high.bounding_box()
    assert box["height"] > 0 and box["width"] > 0
    expect(page.get_by_role("img", name="New alerts by hour of day over 30 days")
           .locator("rect.heat")).to_have_count(24)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    problems.assert_none(page)
    # A bar goes to the alert list of its day and severity; the queue is one click away.
    label = high.evaluate("r => r.parentElement.getAttribute('aria-label')")
    count = int(label.split(": ")[1].split()[0])
    high.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alerts")
    expect(page.locator("tbody tr.row-active, tbody tr.row-dismissed, tbody tr.row-resolved")
           ).to_have_count(count)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Queue")
    problems.assert_none(page)


@pytest.mark.browser_context(viewport=PHONE)
def test_the_dashboard_fits_a_phone(live_server, personas, page, problems):
    make_alert(personas.sub, alert_type="VM_" + "LongUnbrokenAlertType" * 12)
    correlate(subscription_id=personas.sub.pk)
    sign_in(page, live_server, "lead", land=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    fits(page)
    problems.assert_none(page)
