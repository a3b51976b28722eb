"""A person new to the console, in a real (headless) Chromium: the admin invites them, copies
the one-time link, and the new analyst sets a password through it and works the queue."""

import pytest
from playwright.sync_api import expect

from inventory.models import Membership
from tests.browser.conftest import sign_in

NEW_PASSWORD = "a long passphrase of my own"


def expect_only_status(problems, status):
    """The browser logs the page's intended error status; anything else is a problem."""
    assert [e for e in problems.console_errors if f"status of {status}" not in e] == []
    problems.console_errors.clear()


@pytest.mark.browser_context(permissions=["clipboard-read", "clipboard-write"])
def test_an_invited_new_analyst_sets_a_password_and_sees_the_queue(
        page, live_server, personas, problems, settings):
    settings.SITE_URL = live_server.url
    sub = personas.sub
    sign_in(page, live_server, "admin", then=f"/s/{sub.pk}/settings/")
    form = page.locator("form.row-form").filter(has_text="Invite a person")
    form.locator("input[name=username]").fill("nadia")
    form.locator("input[name=email]").fill("nadia@example.com")
    form.locator("select[name=role]").select_option("analyst")
    form.locator("input[name=reason]").fill("joins the night shift")
    form.get_by_role("button", name="Invite").click()
    box = page.locator("#new-link")
    expect(box).to_contain_text("Set-password link for nadia")
    expect(box).to_contain_text("24 hours")
    box.get_by_role("button", name="Copy").click()
    link = page.evaluate("navigator.clipboard.readText()")
    assert link.startswith(f"{live_server.url}/set-password/")
    page.screenshot(path="/tmp/people-invite.png", full_page=True)
    page.reload()  # shown once
    expect(page.locator("#new-link")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Set your password")
    expect(page.locator("form")).to_contain_text("nadia")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", "not the same one at all")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.locator(".errors")).to_contain_text("didn")
    expect_only_status(problems, 400)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.screenshot(path="/tmp/people-set-password.png", full_page=True)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page).to_have_url(f"{live_server.url}/s/{sub.pk}/dashboard/")  # the landing page
    expect(page.locator(".msg-success")).to_contain_text("Your password is set")
    assert Membership.objects.get(user__username="nadia", subscription=sub).role == "analyst"
    page.get_by_role("button", name="Sign out").click()

    # The link is spent; the password is the way in now.
    page.goto(link)
    expect(page.locator("#link-refused")).to_contain_text("This link is not valid")
    page.screenshot(path="/tmp/people-link-used.png", full_page=True)
    expect_only_status(problems, 404)
    sign_in(page, live_server, "nadia", password=NEW_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/s/{sub.pk}/queue/")
    expect(page.locator("h1")).to_contain_text("Queue")
    page.screenshot(path="/tmp/people-queue.png", full_page=True)
    problems.assert_none(page)
