"""The alert pages as a user clicks through them, in a real (headless) Chromium."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from inventory.people import grant_role
from tests.browser.conftest import sign_in
from tests.conftest import SYSTEM, make_subscription
from tests.factories import make_alert

GENERIC_LOGIN_ERROR = "That user name and password do not match an active account."
HOSTILE = "<img src=x onerror=window.__x=1>"
SHOTS = Path("/tmp/browser-shots")


def alert_titles(page):
    return page.locator("#alert-body td:nth-child(2) > a").all_text_contents()


def no_injected_code(page):
    """The hostile markup ran nowhere: no handler set the flag and no <img> was built."""
    assert page.evaluate("window.__x") is None, page.url
    assert page.locator("img[src='x'], img[onerror]").count() == 0, page.url


# 1. Signing in


def test_sign_in_then_the_alert_list_ranked_by_severity(live_server, personas, page,
                                                            problems):
    make_alert(personas.sub, severity="low", display_name="Port scan from a known scanner")
    make_alert(personas.sub, severity="high", display_name="Ransomware note written")
    make_alert(personas.sub, severity="medium", display_name="Unusual sign-in location")
    make_alert(personas.other, severity="high", display_name="Fabrikam secret")

    sign_in(page, live_server, "analyst")

    # The queue (a click from the dashboard sign-in lands on); the Alerts tab lists every
    # alert.
    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/queue/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/alerts/")
    expect(page.get_by_role("heading", level=1, name="Alerts")).to_be_visible()
    expect(page.locator(".topbar .user")).to_have_text("analyst")
    # Inserted low, high, medium: shown high, medium, low.
    assert alert_titles(page) == ["Ransomware note written", "Unusual sign-in location",
                                  "Port scan from a known scanner"]
    assert page.locator("#alert-body .sev").all_text_contents() == ["High", "Medium", "Low"]
    expect(page.get_by_text("Fabrikam secret")).to_have_count(0)
    problems.assert_none(page)


@pytest.mark.parametrize("username", ["analyst", "nobody-by-that-name"])
def test_a_wrong_password_shows_the_generic_error(live_server, personas, page, problems,
                                                  username):
    sign_in(page, live_server, username, "not the password")

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("alert")).to_have_text(GENERIC_LOGIN_ERROR)
    expect(page.locator("#id_username")).to_have_value(username)
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.locator("header.topbar")).to_have_count(0)
    problems.assert_none(page)


# 2. An alert's details and its raw payload


def test_the_details_show_grouped_entities_relations_and_load_the_raw_payload(
        live_server, personas, page, problems):
    make_alert(personas.sub, severity="low", display_name="Something minor")
    alert = make_alert(
        personas.sub, severity="high", display_name="Suspicious process on vm-web-01",
        correlation_key="raw-marker-5f1c",  # kept in the payload, never shown on the page
        remediation_steps=["Isolate vm-web-01.", "Reset alice's password."],
        extended_links=[{"href": "https://example.com/report", "label": "Full report"}],
        entities=[
            {"$id": "1", "Type": "host", "HostName": "vm-web-01", "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "CONTOSO"},
            {"$id": "3", "Type": "process", "ProcessId": "4242", "CommandLine": "evil.exe -x",
             "CreationTimeUtc": "2026-11-27T10:00:00Z", "Host": {"$ref": "1"},
             "Account": {"$ref": "2"}},
        ])
    detail_url = f"{live_server.url}/s/{personas.sub.pk}/alerts/{alert.pk}/"
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/alerts/")

    page.get_by_role("link", name="Suspicious process on vm-web-01").click()

    expect(page).to_have_url(detail_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Suspicious process on vm-web-01")
    entities = page.locator("#entities")
    # One heading per kind, in the console's order, each with its own list of mentions.
    assert [t.split()[0] for t in entities.locator("h3").all_text_contents()] == [
        "host", "account", "process"]
    expect(entities.locator("li.entity-host")).to_have_count(1)
    expect(entities.locator("li.entity-host .entity-head")).to_contain_text("vm-web-01")
    expect(entities.locator("li.entity-account .entity-head")).to_contain_text("alice")
    process = entities.locator("li.entity-process")
    expect(process).to_have_count(1)
    runs_on = process.locator(".edges li").filter(has_text="runs_on")
    expect(runs_on).to_contain_text("vm-web-01")
    expect(process.locator(".edges li").filter(has_text="runs_as")).to_contain_text("alice")
    # The relation links to the host's mention on the same page.
    host_id = entities.locator("li.entity-host").get_attribute("id")
    expect(runs_on.get_by_role("link")).to_have_attribute("href", f"#{host_id}")
    expect(page.get_by_role("link", name="Full report")).to_have_attribute(
        "href", "https://example.com/report")
    expect(page.locator("pre.raw")).to_have_count(0)
    expect(page.get_by_text("raw-marker-5f1c")).to_have_count(0)

    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="Show the payload as sent").click()

    raw = page.locator("#raw-slot > pre.raw")
    expect(raw).to_contain_text('"correlation_key": "raw-marker-5f1c"')
    expect(page.get_by_role("link", name="Show the payload as sent")).to_have_count(0)
    assert page.url == detail_url
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped it in; no navigation
    expect(page.locator("header.topbar")).to_have_count(1)  # a fragment, not a page in a page
    problems.assert_none(page)

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "alert-details.png"), full_page=True)


# 3. Attacker-written text


@pytest.mark.parametrize("csp", [
    pytest.param(True, id="with-csp"),
    # Chromium told to ignore the CSP: escaping alone must keep the markup inert.
    pytest.param(False, id="escaping-alone", marks=pytest.mark.browser_context(bypass_csp=True)),
])
def test_hostile_alert_text_stays_text(live_server, personas, page, problems, csp):
    alert = make_alert(
        personas.sub, display_name=HOSTILE, description=HOSTILE, alert_type=HOSTILE,
        remediation_steps=[HOSTILE], extended_properties={HOSTILE: HOSTILE},
        extended_links=[{"href": "javascript:window.__x=1", "label": HOSTILE}],
        entities=[{"$id": "1", "Type": "host", "HostName": HOSTILE},
                  {"$id": "2", "Type": HOSTILE, "Name": HOSTILE}])
    detail_url = f"{live_server.url}/s/{personas.sub.pk}/alerts/{alert.pk}/"
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/alerts/")

    # The list.
    title = page.get_by_role("link", name=HOSTILE, exact=True)
    expect(title).to_be_visible()
    expect(page.locator("#alert-body .small")).to_contain_text(HOSTILE)  # the alert type
    no_injected_code(page)

    # The details.
    title.click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    expect(page).to_have_title(re.compile(re.escape(HOSTILE)))
    expect(page.locator(".alert-head code")).to_have_text(HOSTILE)
    expect(page.locator("p.prewrap")).to_have_text(HOSTILE)
    expect(page.locator("ol.checklist span")).to_have_text(HOSTILE)
    extended = page.locator("section.card").filter(
        has=page.get_by_role("heading", name="Extended properties"))
    expect(extended.locator("th")).to_have_text(HOSTILE)
    expect(extended.locator("td")).to_have_text(HOSTILE)
    entities = page.locator("#entities")
    expect(entities.locator("li.entity-host .entity-head strong")).to_have_text(HOSTILE)
    # The unknown entity type is its group's heading, and is flagged.
    expect(entities.locator("h3").filter(has_text=HOSTILE)).to_have_count(1)
    expect(entities.get_by_text("unknown type")).to_have_count(1)
    no_injected_code(page)

    # The javascript: link is shown as text, not as a link; clicking its label does nothing.
    links = page.locator("section.card").filter(has=page.get_by_role("heading", name="Links"))
    expect(links).to_contain_text(HOSTILE)
    expect(links).to_contain_text("javascript:window.__x=1")
    expect(links.get_by_role("link")).to_have_count(0)
    expect(page.locator("a[href^='javascript:' i]")).to_have_count(0)
    links.get_by_text(HOSTILE).click()
    links.get_by_text("javascript:window.__x=1").click()
    assert page.url == detail_url
    no_injected_code(page)

    # The raw payload, swapped into the page.
    page.get_by_role("link", name="Show the payload as sent").click()
    raw = page.locator("#raw-slot > pre.raw")
    expect(raw).to_contain_text(f'"display_name": "{HOSTILE}"')
    expect(raw).to_contain_text('"href": "javascript:window.__x=1"')
    expect(raw.locator("*")).to_have_count(0)  # only text inside
    no_injected_code(page)

    # And the raw payload's own page.
    page.goto(f"{detail_url}raw/")
    expect(page.locator("pre.raw")).to_contain_text(f'"description": "{HOSTILE}"')
    expect(page.locator(".page-head a")).to_have_text(HOSTILE)
    no_injected_code(page)

    problems.assert_none(page)


# 4. Nothing goes wrong in the console


def test_no_console_errors_or_csp_violations(live_server, personas, page, problems):
    alert = make_alert(personas.sub, extended_links=[
        {"href": "https://example.com/report", "label": "Full report"}])

    page.goto(f"{live_server.url}/login/")
    expect(page.locator("#id_username")).to_be_focused()
    problems.assert_none(page)
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/alerts/")
    expect(page).to_have_url(f"{live_server.url}/s/{personas.sub.pk}/alerts/")
    problems.assert_none(page)
    page.get_by_role("link", name=alert.display_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(alert.display_name)
    page.get_by_role("link", name="Show the payload as sent").click()
    expect(page.locator("#raw-slot > pre.raw")).to_be_visible()
    problems.assert_none(page)
    # The stylesheet and scripts loaded (a blocked or missing one would also be an error).
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(15, 20, 25)"


def test_the_csp_blocks_inline_script_and_the_fixture_notices(live_server, page, problems):
    """Makes sure the assertions above could fail: an inline script is refused and reported."""
    page.goto(f"{live_server.url}/login/")
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__inline = 1";
      document.body.append(s);
    }""")
    page.wait_for_function("(window.__csp || []).length > 0")
    assert page.evaluate("window.__inline") is None
    assert page.evaluate("window.__csp") == ["script-src-elem"]
    # The binding and the console message arrive asynchronously.
    for _ in range(100):
        if problems.csp_violations and problems.console_errors:
            break
        page.wait_for_timeout(20)
    assert any("script-src-elem" in v for v in problems.csp_violations), problems.all()
    assert any("Content Security Policy" in e for e in problems.console_errors), problems.all()


# 5. Signing out


def test_sign_out_returns_to_the_login_page(live_server, personas, page, problems):
    sign_in(page, live_server, "analyst", then=f"/s/{personas.sub.pk}/alerts/")
    list_url = f"{live_server.url}/s/{personas.sub.pk}/alerts/"
    expect(page).to_have_url(list_url)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(list_url)
    expect(page).to_have_url(f"{live_server.url}/login/?next=/s/{personas.sub.pk}/alerts/")
    expect(page.locator("#id_password")).to_be_visible()
    problems.assert_none(page)


def test_an_htmx_request_after_sign_out_goes_to_the_login_page(live_server, personas, page,
                                                               problems):
    alert = make_alert(personas.sub)
    sign_in(page, live_server, "analyst")
    detail_url = f"{live_server.url}/s/{personas.sub.pk}/alerts/{alert.pk}/"
    page.goto(detail_url)
    # Signed out in another tab: the same cookies.
    other = page.context.new_page()
    other.goto(f"{live_server.url}/s/{personas.sub.pk}/alerts/")
    other.get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(f"{live_server.url}/login/")
    other.close()

    page.get_by_role("link", name="Show the payload as sent").click()

    page.wait_for_url(lambda url: url != detail_url)  # wherever htmx sends it, fail fast
    assert page.url.startswith(f"{live_server.url}/login/?next="), page.url
    assert f"/s/{personas.sub.pk}/alerts/{alert.pk}/" in unquote(page.url)
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator("pre.raw")).to_have_count(0)
    problems.assert_none(page)


# 6. The subscription switcher


def test_the_switcher_lists_only_the_users_subscriptions(live_server, personas, page,
                                                         problems):
    northwind = make_subscription("Northwind")
    grant_role(subscription=northwind, user=personas.analyst, role="shift_lead", actor=SYSTEM)
    make_subscription("Tailspin")  # nobody's
    sign_in(page, live_server, "analyst")
    switcher = page.locator("details.switcher")
    menu = switcher.locator(".switcher-menu")
    expect(switcher.locator("summary")).to_contain_text("Contoso")
    expect(menu).to_be_hidden()

    switcher.locator("summary").click()

    expect(menu).to_be_visible()
    items = menu.get_by_role("link")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Contoso")
    expect(items.nth(0)).to_contain_text("Analyst")
    expect(items.nth(0)).to_have_attribute("aria-current", "true")
    expect(items.nth(1)).to_contain_text("Northwind")
    expect(items.nth(1)).to_contain_text("Shift lead")
    expect(menu).not_to_contain_text("Fabrikam")
    expect(menu).not_to_contain_text("Tailspin")

    items.filter(has_text="Northwind").click()

    expect(page).to_have_url(f"{live_server.url}/s/{northwind.pk}/")
    expect(switcher.locator("summary")).to_contain_text("Northwind")
    problems.assert_none(page)
