"""The Defender plan, in a real (headless) Chromium: the admin turns it off, a Defender alert
is refused and shown as such, the admin turns it on again and replays it into the queue."""

import json
import os
import urllib.request

from playwright.sync_api import expect

from alerts.models import Alert
from inventory.roles import Scope
from tests.alerts.helpers import export_alert
from tests.browser.conftest import sign_in
from tests.conftest import make_token

SHOTS = os.environ.get("SOC_SCREENSHOTS")  # a directory: save the pages for a look


def post_alerts(live_server, token, body):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/alerts", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:  # noqa: S310 — the test's own server
        return json.loads(response.read())


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def turn(page, button, reason):
    page.locator(f"#plan-{page.sub_pk}").get_by_role("link", name=button).click()
    page.fill("input[name=reason]", reason)
    shoot(page, f"confirm-{button.split()[1].rstrip('…')}")
    page.get_by_role("button", name=f"Turn the plan {button.split()[1].rstrip('…')}").click()


def test_the_admin_turns_the_plan_off_and_on_and_replays_a_refused_alert(
        page, live_server, personas, problems):
    sub = personas.sub
    page.sub_pk = sub.pk
    token = make_token(sub, scopes=[Scope.INGEST])
    sign_in(page, live_server, "admin", then=f"/s/{sub.pk}/settings/")
    page.locator("#pricing").get_by_role("link", name="Pricing and settings").click()
    expect(page.locator(f"#plan-{sub.pk}")).to_contain_text("Defender plan On")

    turn(page, "Turn off…", "trial ended <b>now</b>")
    expect(page.locator(".msg-success")).to_contain_text("The Defender plan of Contoso is "
                                                         "now off")
    card = page.locator(f"#plan-{sub.pk}")
    expect(card).to_contain_text("Defender plan Off")
    expect(card).to_contain_text("changed last by admin")
    expect(card.locator(".off-periods")).to_contain_text("trial ended <b>now</b>")  # as text
    shoot(page, "pricing-off")

    answer = post_alerts(live_server, token, [export_alert()])
    assert answer["results"][0]["error"]["code"] == "defender_plan_off"

    page.get_by_role("link", name="Queue").click()
    expect(page.locator("#plan-banner")).to_contain_text(
        "Defender plan is off since")
    expect(page.locator("#plan-banner")).to_contain_text(
        "Microsoft alerts and custom detections are not accepted")
    shoot(page, "queue-banner")

    page.goto(f"{live_server.url}/s/{sub.pk}/settings/rejected/")
    row = page.locator("tbody tr").filter(has_text="defender_plan_off")
    expect(row).to_contain_text("The Defender plan of this subscription is off")
    shoot(page, "rejected")

    page.goto(f"{live_server.url}/s/{sub.pk}/pricing/")
    turn(page, "Turn on…", "renewed")
    expect(page.locator(f"#plan-{sub.pk}")).to_contain_text("Defender plan On")
    expect(page.locator(f"#plan-{sub.pk} .off-periods")).to_contain_text("renewed")

    page.get_by_role("link", name="Queue").click()
    banner = page.locator("#plan-banner")
    expect(banner).to_contain_text("The Defender plan was off from")
    banner.get_by_role("link", name="replay them").click()
    page.locator("tbody tr").filter(has_text="defender_plan_off").locator("a").first.click()
    page.get_by_role("button", name="Ingest it again").click()
    expect(page.locator(".msg-success")).to_contain_text("Replayed: created")

    alert = Alert.objects.get(subscription=sub)
    page.get_by_role("link", name="Queue").click()
    expect(page.locator("main")).to_contain_text(alert.display_name)
    shoot(page, "queue-after")
    problems.assert_none(page)
