"""The activity page in a real (headless) Chromium: filter it, load older entries in place,
download its CSV; a bad filter is a form error."""

import csv
import io
import os
from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.inventory.conftest import T0, log_at

HOSTILE = "<img src=x onerror=window.__x=1>"


def test_an_analyst_filters_pages_and_exports_the_log(page, live_server, personas, problems):
    sub = personas.sub
    for i in range(60):
        log_at(sub, T0 + timedelta(minutes=i), verb="alert.dismiss", actor="alice",
               target_label=f"alert {i:02}", reason=f"known scanner {HOSTILE}",
               before={"status": "active"}, after={"status": "dismissed"})
    log_at(sub, T0, verb="token.create", actor="admin", target_type="token",
           target_label="=cmd|' /C calc'!A0")
    sign_in(page, live_server, "analyst", then=f"/s/{sub.pk}/activity/")
    form = page.locator("form.activity-filters")
    form.locator("input[name=verb]").fill("alert.")
    form.locator("input[name=since]").fill("2026-11-28")
    form.get_by_role("button", name="Apply").click()
    rows = page.locator("table.activity tbody tr:not(.more)")
    expect(rows).to_have_count(50)
    expect(page.locator("table.activity")).not_to_contain_text("token.create")
    page.get_by_role("link", name="Older entries").click()
    expect(rows).to_have_count(60)
    expect(page.locator("table.activity")).to_contain_text(f"known scanner {HOSTILE}")
    if os.environ.get("SCREENSHOTS"):  # for looking at it: SCREENSHOTS=/tmp/somewhere
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "activity.png"),
                        full_page=False)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith(f"activity-{sub.pk}-contoso-")
    lines = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(lines) == 61 and {line[2] for line in lines[1:]} == {"alert.dismiss"}

    assert page.evaluate("window.__x") is None
    problems.assert_none(page)

    # A bad value is the page again with the error (a 400, which the console reports).
    form.locator("input[name=until]").fill("soon")
    form.get_by_role("button", name="Apply").click()
    expect(page.locator("[role=alert]")).to_contain_text("'soon' is not a date or time")
    expect(form.locator("input[name=verb]")).to_have_value("alert.")
