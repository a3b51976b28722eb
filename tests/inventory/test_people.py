"""Changing and removing memberships: the last admin of a subscription stays, whoever asks and
through whichever door (domain function, settings page, manage.py)."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from inventory.activity import Actor
from inventory.models import Activity, Membership, PasswordLink
from inventory.people import grant_role, remove_member
from inventory.subscriptions import InventoryError

LAST_ADMIN = "admin is the last admin of Contoso"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def role_of(user, sub):
    return Membership.objects.filter(user=user, subscription=sub)\
        .values_list("role", flat=True).first()


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_it_keeps_the_last_admin(p, change):
    actor = Actor.of_user(p.admin)
    with pytest.raises(InventoryError, match=LAST_ADMIN):
        if change == "demote":
            grant_role(subscription=p.sub, user=p.admin, role="analyst", actor=actor)
        else:
            remove_member(subscription=p.sub, user=p.admin, actor=actor)
    assert role_of(p.admin, p.sub) == "admin"
    assert not Activity.objects.filter(verb__in=["membership.change", "membership.remove"],
                                       target_id=str(p.admin.pk)).exists()


def test_an_admin_may_step_down_when_another_admin_remains(p):
    grant_role(subscription=p.sub, user=p.lead, role="admin", actor=Actor.of_user(p.admin))
    grant_role(subscription=p.sub, user=p.admin, role="analyst", actor=Actor.of_user(p.admin))
    assert role_of(p.admin, p.sub) == "analyst"
    # Now the former lead is the last one.
    with pytest.raises(InventoryError, match="lead is the last admin"):
        remove_member(subscription=p.sub, user=p.lead, actor=Actor.of_user(p.lead))
    # Other members come and go as before.
    assert remove_member(subscription=p.sub, user=p.analyst, actor=Actor.of_user(p.lead))


def messages_of(response):
    return re.findall(r'<li class="msg msg-(\w+)">(.*?)</li>', response.content.decode(), re.S)


def test_the_page_refuses_to_demote_the_last_admin(p, as_user):
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/members/",
                                     {"username": "admin", "role": "analyst"})
    assert response.status_code == 400
    [(kind, text)] = messages_of(response)
    assert kind == "error" and LAST_ADMIN in text and "make another member admin" in text
    assert role_of(p.admin, p.sub) == "admin"


def test_the_page_refuses_to_remove_the_last_admin(p, as_user):
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/members/{p.admin.pk}/remove/")
    assert response.status_code == 400
    [(kind, text)] = messages_of(response)
    assert kind == "error" and LAST_ADMIN in text
    assert role_of(p.admin, p.sub) == "admin"


def test_an_admin_who_steps_down_on_the_page_lands_where_they_may_go(p, as_user):
    grant_role(subscription=p.sub, user=p.lead, role="admin", actor=Actor.of_user(p.admin))
    client = as_user(p.admin)
    response = client.post(f"/s/{p.sub.pk}/settings/members/",
                           {"username": "admin", "role": "analyst"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert role_of(p.admin, p.sub) == "analyst"
    response = client.post(f"/s/{p.sub.pk}/settings/members/{p.lead.pk}/remove/")
    assert response.status_code == 403  # an analyst now


def test_an_admin_removes_themself_when_another_admin_remains(p, as_user):
    grant_role(subscription=p.sub, user=p.lead, role="admin", actor=Actor.of_user(p.admin))
    response = as_user(p.admin).post(f"/s/{p.sub.pk}/settings/members/{p.admin.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert role_of(p.admin, p.sub) is None


def test_the_command_refuses_to_demote_or_remove_the_last_admin(p):
    with pytest.raises(CommandError, match=LAST_ADMIN):
        run("grant_role", "--subscription", "Contoso", "--user", "admin", "--role", "analyst")
    with pytest.raises(CommandError, match=LAST_ADMIN):
        run("grant_role", "--subscription", "Contoso", "--user", "admin", "--remove")
    assert role_of(p.admin, p.sub) == "admin"


def test_the_command_removes_a_member(p):
    out = run("grant_role", "--subscription", "Contoso", "--user", "analyst", "--remove",
              "--reason", "left the team")
    assert "analyst removed from Contoso." in out
    assert role_of(p.analyst, p.sub) is None
    entry = Activity.objects.get(verb="membership.remove")
    assert entry.reason == "left the team" and entry.actor_label == "manage.py"
    assert "was not a member" in run("grant_role", "--subscription", "Contoso",
                                     "--user", "analyst", "--remove")
    with pytest.raises(CommandError, match="either --role ROLE or --remove"):
        run("grant_role", "--subscription", "Contoso", "--user", "analyst")


def test_the_command_prints_a_link_that_sets_a_new_users_password(p):
    out = run("grant_role", "--subscription", "Contoso", "--user", "erin", "--role", "analyst")
    [secret] = re.findall(r"/set-password/([\w-]+)/", out)
    assert "changepassword" not in out
    response = Client().post(f"/set-password/{secret}/", {
        "new_password1": "a brand new long passphrase",
        "new_password2": "a brand new long passphrase"})
    assert response.status_code == 302


def test_set_password_link_issues_a_fresh_link_and_voids_the_old(p):
    first = re.findall(r"/set-password/([\w-]+)/", run("set_password_link", "--user", "analyst"))
    out = run("set_password_link", "--user", "analyst")
    [second] = re.findall(r"/set-password/([\w-]+)/", out)
    assert out.startswith("Link for analyst") and "24 hours" in out
    data = {"new_password1": "a brand new long passphrase",
            "new_password2": "a brand new long passphrase"}
    assert Client().post(f"/set-password/{first[0]}/", data).status_code == 410
    assert Client().post(f"/set-password/{second}/", data).status_code == 302
    p.analyst.refresh_from_db()
    assert p.analyst.check_password("a brand new long passphrase")
    assert Activity.objects.filter(verb="password_link.issue").count() == 2
    assert PasswordLink.objects.filter(used_at__isnull=False).count() == 1


def test_set_password_link_refuses_unknown_and_deactivated_users(p):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("set_password_link", "--user", "nobody")
    p.lead.is_active = False
    p.lead.save()
    with pytest.raises(CommandError, match="deactivated"):
        run("set_password_link", "--user", "lead")
