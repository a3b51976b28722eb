"""Adding a person is an invitation that the invited user accepts after signing in; the
admin learns nothing about whether the name exists, or belongs to another subscription."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Activity, Invitation, Membership

PASSWORD = "correct horse battery staple"


def invite(client, sub, username, role="analyst", **extra):
    return client.post(f"/s/{sub.pk}/settings/members/",
                       {"username": username, "role": role, **extra}, follow=True)


def message_of(response, username):
    html = response.content.decode()
    [message] = re.findall(r'<li class="msg msg-\w+">(.*?)</li>', html, re.S)
    return message.replace(username, "NAME")


def test_an_admin_cannot_add_a_user_of_another_subscription(p, as_user):
    response = invite(as_user(p.admin), p.sub, "outsider", role="admin")
    assert response.status_code == 200
    assert not Membership.objects.filter(user=p.outsider, subscription=p.sub).exists()
    invitation = Invitation.objects.get(subscription=p.sub, username="outsider")
    assert invitation.state == "pending" and invitation.role == "admin"
    assert invitation.invited_by == p.admin


def test_the_answer_is_the_same_whether_the_name_exists(p, as_user, django_user_model):
    django_user_model.objects.create_user("retired", password=PASSWORD, is_active=False)
    client = as_user(p.admin)
    answers = {name: invite(client, p.sub, name) for name in
               ("outsider", "no-such-user", "retired", "Outsider")}
    assert {r.status_code for r in answers.values()} == {200}
    assert len({message_of(r, name) for name, r in answers.items()}) == 1
    assert "Invitation for NAME saved" in message_of(answers["outsider"], "outsider")
    assert b"No active user" not in b"".join(r.content for r in answers.values())
    assert Invitation.objects.filter(subscription=p.sub).count() == 4


def test_the_invited_user_sees_it_after_signing_in_and_accepts(p, client, as_user):
    invite(as_user(p.admin), p.sub, "outsider", role="shift_lead", reason="night shift")
    client.post("/logout/")
    response = client.post("/login/", {"username": "outsider", "password": PASSWORD},
                           follow=True)
    assert b'id="invitation-banner"' in response.content
    page = client.get("/invitations/").content.decode()
    assert "Contoso" in page and "Shift lead" in page and "night shift" in page
    invitation = Invitation.objects.get(username="outsider")
    response = client.post(f"/invitations/{invitation.pk}/accept/")
    assert response["Location"] == f"/s/{p.sub.pk}/queue/"
    assert Membership.objects.get(user=p.outsider, subscription=p.sub).role == "shift_lead"
    invitation.refresh_from_db()
    assert invitation.state == "accepted" and invitation.answered_at is not None
    verbs = set(Activity.objects.filter(subscription=p.sub, actor_user=p.outsider)
                .values_list("verb", flat=True))
    assert verbs == {"membership.grant", "invitation.accept"}
    # Once only.
    client.post(f"/invitations/{invitation.pk}/accept/")
    assert Activity.objects.filter(verb="invitation.accept").count() == 1
    assert b'id="invitation-banner"' not in client.get(f"/s/{p.sub.pk}/queue/").content


def test_a_new_user_finds_the_invitation_on_the_empty_home_page(p, as_user,
                                                                django_user_model):
    newcomer = django_user_model.objects.create_user("newcomer", password=PASSWORD)
    invite(as_user(p.admin), p.sub, "newcomer")
    page = as_user(newcomer).get("/").content.decode()
    assert "No subscriptions yet" in page and "Accept" in page and "Contoso" in page


def test_the_invited_user_may_decline(p, as_user):
    invite(as_user(p.admin), p.sub, "outsider")
    invitation = Invitation.objects.get(username="outsider")
    client = as_user(p.outsider)
    assert client.post(f"/invitations/{invitation.pk}/decline/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.state == "declined"
    assert not Membership.objects.filter(user=p.outsider, subscription=p.sub).exists()
    response = client.post(f"/invitations/{invitation.pk}/accept/", follow=True)
    assert b"declined already" in response.content
    assert not Membership.objects.filter(user=p.outsider, subscription=p.sub).exists()


def test_nobody_else_accepts_an_invitation(p, as_user):
    invite(as_user(p.admin), p.sub, "outsider", role="admin")
    invitation = Invitation.objects.get(username="outsider")
    for answer in ("accept", "decline"):
        response = as_user(p.analyst).post(f"/invitations/{invitation.pk}/{answer}/")
        assert response.status_code == 404
    assert Membership.objects.get(user=p.analyst, subscription=p.sub).role == "analyst"
    assert Invitation.objects.get(pk=invitation.pk).state == "pending"
    assert as_user(p.analyst).post(f"/invitations/{invitation.pk}/maybe/").status_code == 404
    assert as_user(p.analyst).get("/invitations/").content.count(b"Accept") == 0


def test_an_expired_or_withdrawn_invitation_cannot_be_accepted(p, as_user):
    # One test client: as_user() signs it in as that person.
    invite(as_user(p.admin), p.sub, "outsider")
    invitation = Invitation.objects.get(username="outsider")
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    response = as_user(p.outsider).post(f"/invitations/{invitation.pk}/accept/", follow=True)
    assert b"has expired" in response.content
    assert b'id="invitation-banner"' not in response.content
    invite(as_user(p.admin), p.sub, "outsider")  # again: the same invitation, a new expiry
    invitation = Invitation.objects.get(username="outsider", state="pending",
                                        expires_at__gt=timezone.now())
    admin = as_user(p.admin)
    assert admin.get(f"/s/{p.sub.pk}/settings/").content.count(b"Withdraw") == 1
    admin.post(f"/s/{p.sub.pk}/settings/invitations/{invitation.pk}/revoke/")
    response = as_user(p.outsider).post(f"/invitations/{invitation.pk}/accept/", follow=True)
    assert b"revoked already" in response.content
    assert not Membership.objects.filter(user=p.outsider, subscription=p.sub).exists()


def test_inviting_a_name_twice_keeps_one_pending_invitation(p, as_user):
    admin = as_user(p.admin)
    invite(admin, p.sub, "outsider", role="analyst")
    invite(admin, p.sub, "outsider", role="shift_lead")
    [invitation] = Invitation.objects.filter(username="outsider")
    assert invitation.role == "shift_lead"
    assert list(Activity.objects.filter(target_type="invitation", verb__startswith="invitation.")
                .values_list("verb", flat=True)) == ["invitation.change", "invitation.create"]


@pytest.mark.parametrize("who", ["lead", "analyst"])
def test_only_an_admin_invites(p, as_user, who):
    response = invite(as_user(getattr(p, who)), p.sub, "outsider")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_invitations_of_another_subscription_are_404(p, as_user):
    invite(as_user(p.admin), p.sub, "someone")
    invitation = Invitation.objects.get()
    # The outsider is an admin of Fabrikam, not of Contoso.
    response = as_user(p.outsider).post(
        f"/s/{p.other.pk}/settings/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 404
    assert Invitation.objects.get().state == "pending"


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "two words", "a/b"])
def test_a_name_no_user_could_have_is_refused_on_the_form(p, as_user, name):
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/members/",
                                     {"username": name, "role": "analyst"})
    assert response.status_code == 400
    assert b"Enter a valid username" in response.content
    assert b"<script>alert(1)</script>" not in response.content
    assert not Invitation.objects.filter(subscription=p.sub).exists()
