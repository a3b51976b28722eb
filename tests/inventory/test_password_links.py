"""One-time set-password links: how a person new to the console, invited by an admin, gets a
password; single use, 24 hours, stored as a hash, and no tell whether the name existed."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from inventory.activity import Actor
from inventory.models import Activity, Invitation, Membership, PasswordLink
from inventory.password_links import issue_link
from inventory.people import invite

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new long passphrase"
LINK = re.compile(r'<code id="new-link-url">(http://testserver-site/set-password/([\w-]+)/)'
                  r'</code>')


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver-site"


def scrub(html: str) -> str:
    """A page without its per-request CSRF tokens."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", html)
    return re.sub(r'"X-CSRFToken": "\w+"', "", html)


def invite_on_page(client, sub, username, role="analyst", **extra):
    """Invite through the settings page; returns (settings page after it, link, secret)."""
    response = client.post(f"/s/{sub.pk}/settings/members/",
                           {"username": username, "role": role, **extra}, follow=True)
    assert response.status_code == 200
    match = LINK.search(response.content.decode())
    return response, match.group(1), match.group(2)


def set_password(client, secret, password=NEW_PASSWORD, again=None):
    return client.post(f"/set-password/{secret}/",
                       {"new_password1": password, "new_password2": again or password})


def test_it_creates_the_account_and_shows_an_absolute_link_once(p, as_user):
    client = as_user(p.admin)
    response, url, secret = invite_on_page(client, p.sub, "newcomer",
                                           email="newcomer@example.com")
    assert url.startswith("http://testserver-site/set-password/")
    assert response["Cache-Control"] == "no-store"
    newcomer = get_user_model().objects.get(username="newcomer")
    assert not newcomer.has_usable_password() and newcomer.email == "newcomer@example.com"
    assert not Membership.objects.filter(user=newcomer).exists()
    # Shown once: a reload does not show it again.
    assert secret not in client.get(f"/s/{p.sub.pk}/settings/").content.decode()


def test_it_stores_a_hash_of_the_secret_never_the_secret(p, as_user):
    _, url, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    link = PasswordLink.objects.get(username="newcomer")
    assert link.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = " ".join(str(v) for v in PasswordLink.objects.values().get().values())
    assert secret not in row
    assert secret not in " ".join(str(a) for a in Activity.objects.values_list(
        "before", "after", "reason", "target_label"))
    assert link.expires_at - link.created_at == timedelta(hours=24)


def test_the_new_person_sets_a_password_signs_in_and_is_a_member(p, as_user, client):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer", role="shift_lead")
    anonymous = Client()
    page = anonymous.get(f"/set-password/{secret}/")
    assert page.status_code == 200 and b"newcomer" in page.content
    assert page["Referrer-Policy"] == "same-origin" and page["Cache-Control"] == "no-store"
    response = set_password(anonymous, secret)
    assert response.status_code == 302 and response["Location"] == "/"
    assert anonymous.get("/")["Location"] == f"/s/{p.sub.pk}/dashboard/"
    newcomer = get_user_model().objects.get(username="newcomer")
    assert newcomer.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=newcomer, subscription=p.sub).role == "shift_lead"
    assert Invitation.objects.get(username="newcomer").state == "accepted"
    verbs = set(Activity.objects.filter(target_label="newcomer").values_list("verb", flat=True))
    assert {"user.create", "invitation.create", "password_link.issue", "password_link.use",
            "invitation.accept", "membership.grant"} <= verbs
    # And the password works on the sign-in form.
    fresh = Client()
    assert fresh.post("/login/", {"username": "newcomer", "password": NEW_PASSWORD}
                      ).status_code == 302


def test_a_link_works_once(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    assert set_password(Client(), secret).status_code == 302
    again = set_password(Client(), secret, password="someone else's passphrase")
    assert again.status_code == 404
    assert b"not valid" in again.content
    assert Client().get(f"/set-password/{secret}/").status_code == 404
    assert get_user_model().objects.get(username="newcomer").check_password(NEW_PASSWORD)
    assert Activity.objects.filter(verb="password_link.use").count() == 1


def test_a_link_expires_after_24_hours(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    PasswordLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = Client().get(f"/set-password/{secret}/")
    assert page.status_code == 410 and b"expired" in page.content
    assert set_password(Client(), secret).status_code == 410
    assert not get_user_model().objects.get(username="newcomer").has_usable_password()
    assert PasswordLink.objects.get().used_at is None


@pytest.mark.parametrize("secret", ["nope", "x" * 129, "a" * 43, "%00", "..%2f"])
def test_an_unknown_link_is_404_never_500(db, secret):
    assert Client().get(f"/set-password/{secret}/").status_code == 404
    assert set_password(Client(), secret).status_code == 404


def test_unknown_and_used_links_answer_the_same_page(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    set_password(Client(), secret)
    used = Client().get(f"/set-password/{secret}/")
    unknown = Client().get("/set-password/never-issued/")
    assert used.status_code == unknown.status_code == 404

    assert scrub(used.content.decode()) == scrub(unknown.content.decode())


def test_the_password_is_checked_by_djangos_validators_and_typed_twice(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    client = Client()
    mismatch = set_password(client, secret, again="another long passphrase")
    assert mismatch.status_code == 400 and b"didn" in mismatch.content
    short = set_password(client, secret, password="short")
    assert short.status_code == 400 and b"too short" in short.content
    common = set_password(client, secret, password="password1234")
    assert common.status_code == 400 and b"too common" in common.content
    # Refusals do not spend the link.
    assert PasswordLink.objects.get().used_at is None
    assert set_password(client, secret).status_code == 302


def test_a_new_name_and_an_existing_name_look_alike_to_the_admin(p, as_user,
                                                                 django_user_model):
    client = as_user(p.admin)
    django_user_model.objects.create_user("retired", password=PASSWORD, is_active=False)
    answers = {}
    for name in ("outsider", "newcomer", "retired", "Outsider"):
        before = Activity.objects.filter(subscription=p.sub).count()
        response, url, secret = invite_on_page(client, p.sub, name)
        html = response.content.decode().replace(secret, "SECRET").replace(name, "NAME")
        html = scrub(html)
        # The invitations table lists every pending name; drop it, and compare the rest.
        html = re.sub(r'<table class="table" id="invitations">.*?</table>', "", html, flags=re.S)
        html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", html)
        link_page = Client().get(f"/set-password/{secret}/")
        link_html = scrub(link_page.content.decode().replace(name, "NAME"))
        link_html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", link_html)
        log = list(Activity.objects.filter(subscription=p.sub).order_by("id")[before:]
                   .values_list("verb", "target_type", "actor_user"))
        answers[name] = (html, link_page.status_code, link_html, log)
    assert len({a[0] for a in answers.values()}) == 1  # the settings page after inviting
    assert {a[1] for a in answers.values()} == {200}
    assert len({a[2] for a in answers.values()}) == 1  # the page the link opens
    assert len({tuple(a[3]) for a in answers.values()}) == 1  # the subscription's log
    # Only the new name got an account.
    assert not django_user_model.objects.filter(username="Outsider").exists()
    assert django_user_model.objects.filter(username__iexact="outsider").count() == 1


def test_a_link_for_an_existing_account_sets_nothing(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "outsider")
    response = set_password(Client(), secret)
    assert response.status_code == 404 and b"not valid" in response.content
    p.outsider.refresh_from_db()
    assert p.outsider.check_password(PASSWORD)
    assert not Membership.objects.filter(user=p.outsider, subscription=p.sub).exists()
    assert Invitation.objects.get(username="outsider").state == "pending"
    refused = Activity.objects.get(verb="password_link.refuse")
    assert refused.subscription_id is None  # not in the inviting admin's log
    assert set_password(Client(), secret).status_code == 404


def test_an_unused_account_passwordless_from_elsewhere_is_not_offered(p, as_user):
    # An account created for another subscription must not be taken over by this one's
    # admin, even while it has no password yet.
    invite(subscription=p.other, username="newcomer", role="analyst",
           actor=Actor.of_user(p.outsider))
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    assert set_password(Client(), secret).status_code == 404
    assert not get_user_model().objects.get(username="newcomer").has_usable_password()


def test_inviting_again_gives_a_fresh_link_and_voids_the_old(p, as_user):
    client = as_user(p.admin)
    _, _, first = invite_on_page(client, p.sub, "newcomer")
    _, _, second = invite_on_page(client, p.sub, "newcomer", role="shift_lead")
    assert set_password(Client(), first).status_code == 410  # voided: answered as expired
    assert set_password(Client(), second).status_code == 302
    newcomer = get_user_model().objects.get(username="newcomer")
    assert Membership.objects.get(user=newcomer).role == "shift_lead"


def test_the_link_page_and_the_invite_form_check_csrf(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    strict = Client(enforce_csrf_checks=True)
    assert set_password(strict, secret).status_code == 403
    strict.force_login(p.admin)
    assert strict.post(f"/s/{p.sub.pk}/settings/members/",
                       {"username": "other", "role": "analyst"}).status_code == 403
    assert strict.post(f"/s/{p.sub.pk}/settings/members/{p.analyst.pk}/remove/"
                       ).status_code == 403
    assert not get_user_model().objects.get(username="newcomer").has_usable_password()
    assert Membership.objects.filter(user=p.analyst, subscription=p.sub).exists()


def test_the_link_page_answers_405_to_other_methods(p, as_user):
    _, _, secret = invite_on_page(as_user(p.admin), p.sub, "newcomer")
    assert Client().put(f"/set-password/{secret}/").status_code == 405


@pytest.mark.parametrize("who", ["analyst", "lead"])
def test_analysts_and_leads_get_403_and_no_link(p, as_user, who):
    client = as_user(getattr(p, who))
    response = client.post(f"/s/{p.sub.pk}/settings/members/",
                           {"username": "newcomer", "role": "admin"})
    assert response.status_code == 403
    assert client.post(f"/s/{p.sub.pk}/settings/members/{p.analyst.pk}/remove/"
                       ).status_code == 403
    assert not PasswordLink.objects.exists()
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_outsiders_get_404_and_no_link(p, as_user):
    client = as_user(p.outsider)
    assert client.post(f"/s/{p.sub.pk}/settings/members/",
                       {"username": "newcomer", "role": "admin"}).status_code == 404
    assert client.post(f"/s/{p.sub.pk}/settings/members/{p.analyst.pk}/remove/"
                       ).status_code == 404
    assert not PasswordLink.objects.exists()


def test_issuing_a_link_voids_the_users_earlier_ones(db, django_user_model):
    user = django_user_model.objects.create_user("erin")
    system = Actor.of_system("tests")
    _, first = issue_link(username="erin", user=user, actor=system)
    _, second = issue_link(username="erin", user=user, actor=system)
    assert set_password(Client(), first.rsplit("/", 2)[1]).status_code == 410
    assert set_password(Client(), second.rsplit("/", 2)[1]).status_code == 302


def test_withdrawing_the_invitation_voids_its_link(p, as_user):
    client = as_user(p.admin)
    _, _, secret = invite_on_page(client, p.sub, "newcomer")
    invitation = Invitation.objects.get(username="newcomer")
    client.post(f"/s/{p.sub.pk}/settings/invitations/{invitation.pk}/revoke/")
    assert set_password(Client(), secret).status_code == 410
    assert not get_user_model().objects.get(username="newcomer").has_usable_password()
