"""Inviting a person, in a real (headless) Chromium: the admin invites a user name, that user
signs in, sees the invitation and accepts it."""

from playwright.sync_api import expect

from inventory.models import Membership
from tests.browser.conftest import sign_in

HOSTILE = "<img src=x onerror=window.__x=1>"


def test_an_invited_user_accepts_after_signing_in(page, live_server, personas, problems):
    sub = personas.sub
    sign_in(page, live_server, "admin", then=f"/s/{sub.pk}/settings/")
    form = page.locator("form.row-form").filter(has_text="Invite a person")
    form.locator("input[name=username]").fill("outsider")
    form.locator("select[name=role]").select_option("shift_lead")
    form.locator("input[name=reason]").fill(f"night shift {HOSTILE}")
    form.get_by_role("button", name="Invite").click()
    expect(page.locator(".msg-success")).to_contain_text("Invitation for outsider saved")
    expect(page.locator("#invitations")).to_contain_text("outsider")
    assert not Membership.objects.filter(user=personas.outsider, subscription=sub).exists()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "outsider")
    banner = page.locator("#invitation-banner")
    expect(banner).to_contain_text("You are invited to a subscription")
    banner.get_by_role("link", name="see and accept").click()
    invitation = page.locator("form.invitation")
    expect(invitation).to_contain_text("Contoso")
    expect(invitation).to_contain_text(f"night shift {HOSTILE}")  # as text, not markup
    invitation.get_by_role("button", name="Accept").click()
    expect(page).to_have_url(f"{live_server.url}/s/{sub.pk}/queue/")
    expect(page.locator(".msg-success")).to_contain_text("You are now shift lead in Contoso")
    expect(page.locator("#invitation-banner")).to_have_count(0)
    assert Membership.objects.get(user=personas.outsider, subscription=sub).role == "shift_lead"
    assert page.evaluate("window.__x") is None
    problems.assert_none(page)
