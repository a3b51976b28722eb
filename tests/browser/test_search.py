"""Searching the demo's events in a real (headless) Chromium."""

import re

from playwright.sync_api import expect

from search.demo import seed_events
from search.models import QueryRun
from tests.browser.conftest import sign_in
from tests.search.factories import ingest

FAILED_BY_ACCOUNT = ('SecurityEvent\n| where EventID == 4625 and IpAddress == "203.0.113.87"\n'
                     '| summarize Failures = count() by Account\n| sort by Failures\n| take 5')
DUMP = ('SecurityEvent\n| where EventID == 4688 and CommandLine has "comsvcs.dll"\n'
        '| project TimeGenerated, Computer, Account, CommandLine')


def run(page, query, range_="24h"):
    page.fill("#id_query", query)
    page.select_option("select[name=range]", range_)
    page.get_by_role("button", name="Search").click()


def test_an_analyst_finds_the_attack_in_the_demo_events(page, live_server, personas, problems):
    seed_events(personas.sub)
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/search/")
    expect(page.get_by_role("heading", name="Search events")).to_be_visible()
    # The custom range's fields only show for a custom range.
    expect(page.locator("input[name=start]")).to_be_hidden()

    run(page, FAILED_BY_ACCOUNT)
    status = page.locator("#run-status")
    expect(status.locator("table.results")).to_be_visible()
    expect(status).to_contain_text("5 rows")
    expect(status.locator("th").first).to_contain_text("Account")
    assert re.search(r"CONTOSO\\\S+\s+5", status.inner_text())
    # The URL names the run, so the result can be shared and reloaded.
    run_id = QueryRun.objects.latest("pk").pk
    expect(page).to_have_url(re.compile(rf"\?run={run_id}$"))

    run(page, DUMP)
    expect(status.locator("tbody tr")).to_have_count(1)
    expect(status).to_contain_text("comsvcs.dll, MiniDump 624")

    page.reload()
    expect(page.locator("#id_query")).to_have_value(DUMP)
    expect(status).to_contain_text("comsvcs.dll, MiniDump 624")
    problems.assert_none(page)


def test_a_mistake_is_shown_under_the_query_at_its_place(page, live_server, personas,
                                                         problems):
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/search/")
    run(page, "SecurityEvent\n| where EventID == 4625\n| summarize count() by Acount")
    error = page.locator(".query-error")
    expect(error).to_contain_text("line 3, column 24")
    expect(error).to_contain_text("unknown column 'Acount'")
    expect(error.locator("pre.caret")).to_contain_text("^")
    problems.assert_none(page)


def test_hostile_event_text_stays_inert(page, live_server, personas, problems):
    ws = personas.sub.workspaces.get(is_default=True)
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4688,
                                  "CommandLine": "<img src=x onerror=window.__x=1>"}])
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/search/")
    run(page, "SecurityEvent | project CommandLine", range_="query")
    expect(page.locator("#run-status")).to_contain_text("<img src=x onerror=window.__x=1>")
    assert page.evaluate("window.__x") is None
    problems.assert_none(page)
