"""A one-mebibyte alert title in a real browser: the queue still loads at once."""

import json
import time

from playwright.sync_api import expect

from tests.alerts.helpers import ingest
from tests.browser.conftest import sign_in

MiB = 1024 * 1024


def test_the_queue_with_a_one_mebibyte_title_loads_in_under_two_seconds(
        live_server, personas, page, problems):
    ingest(personas.sub, json.dumps(
        {"id": "big-1", "display_name": "A" * (MiB - 10), "severity": "low"}).encode())
    ingest(personas.sub, [{"id": f"n-{i}", "display_name": f"Neighbour {i}",
                           "severity": "medium"} for i in range(20)])
    sign_in(page, live_server, "analyst")
    url = f"{live_server.url}/s/{personas.sub.pk}/queue/"

    started = time.monotonic()
    response = page.goto(url, wait_until="load")
    elapsed = time.monotonic() - started

    assert response.ok
    assert elapsed < 2, f"the queue took {elapsed:.2f}s"
    assert len(response.body()) < 200_000
    big = page.locator("td a .clipped")
    expect(big).to_have_count(1)
    assert big.inner_text() == "A" * 199 + "…"
    assert big.get_attribute("title") == "A" * 512  # the whole stored title, on hover
    # The row is no wider than the others: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    expect(page.get_by_role("link", name="Neighbour 3")).to_be_visible()
    problems.assert_none(page)


def test_the_alert_and_raw_pages_of_unbroken_long_fields_do_not_scroll_sideways(
        live_server, personas, page, problems):
    """Each stored value is shown whole on the alert's own page, wrapped to the screen."""
    report = ingest(personas.sub, {
        "id": "long-1", "display_name": "A" * 600, "severity": "high",
        "alert_type": "T" * 600, "compromised_entity": "R" * 600,
        "remediation_steps": ["S" * 600], "description": "D" * 600,
        "extended_properties": {"K" * 600: "V" * 5000}})  # its warning names the key
    alert_id = report.results[0].id
    sign_in(page, live_server, "analyst")
    for path in (f"/s/{personas.sub.pk}/alerts/{alert_id}/",
                 f"/s/{personas.sub.pk}/alerts/{alert_id}/raw/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], f"{path} is {width} px wide"
    problems.assert_none(page)
