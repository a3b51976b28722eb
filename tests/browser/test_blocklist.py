"""Blocking the attacker's address from an alert, as an analyst clicks it, and the firewall
reading it from the feed."""

import urllib.request

from playwright.sync_api import expect

from response.models import BlockEntry
from tests.browser.conftest import sign_in
from tests.factories import make_alert, make_feed_token

HOSTILE = "<img src=x onerror=window.__x=1>"


def test_an_analyst_blocks_the_address_a_remediation_step_names(live_server, personas, page,
                                                                  problems):
    sub = personas.sub
    alert = make_alert(sub, display_name=f"C2 traffic {HOSTILE}",
                       remediation_steps=["Block 198.51.100.23 at the firewall."])
    _token, plaintext = make_feed_token(sub)
    sign_in(page, live_server, "analyst", then=f"/s/{sub.pk}/alerts/{alert.pk}/")

    step = page.locator(".checklist li").filter(has_text="198.51.100.23")
    step.locator("summary", has_text="Block 198.51.100.23").click()
    step.get_by_role("button", name="Block", exact=True).click()

    expect(page.locator("#messages")).to_contain_text("198.51.100.23 is on the blocklist until")
    page.get_by_role("link", name="Blocklist").click()
    row = page.locator("#entries tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("198.51.100.23")
    expect(row.get_by_role("link")).to_contain_text("C2 traffic <img")  # as text, escaped
    assert page.evaluate("window.__x") is None

    with urllib.request.urlopen(f"{live_server.url}/feeds/{plaintext}/blocklist.txt") as feed:
        assert feed.read() == b"198.51.100.23\n"

    problems.assert_none(page)

    # A private range waits for a shift lead.
    page.fill("#block input[name=address]", "10.1.2.0/24")
    page.fill("#block input[name=reason]", "lateral movement")
    page.locator("#block").get_by_role("button", name="Block").click()
    expect(page.locator("#block-error")).to_contain_text("A shift lead must confirm")
    assert BlockEntry.objects.count() == 1
    # The refusal is a 400 page, which Chromium logs; nothing else went wrong.
    assert [p for p in problems.all(page) if "400 (Bad Request)" not in p] == []
