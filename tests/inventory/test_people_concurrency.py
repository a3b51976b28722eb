"""Races on people: two admins demoting each other at once, two tabs spending one link."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from inventory.activity import Actor
from inventory.models import Membership
from inventory.password_links import PasswordLinkError, issue_link, use_link
from inventory.people import grant_role
from inventory.subscriptions import InventoryError


def race(*calls):
    """Run the calls at the same moment, each in its own thread and connection; returns
    what each returned or raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - looked at by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_leave_one_admin(p):
    grant_role(subscription=p.sub, user=p.lead, role="admin", actor=Actor.of_system())
    results = race(
        lambda: grant_role(subscription=p.sub, user=p.lead, role="analyst",
                           actor=Actor.of_user(p.admin)),
        lambda: grant_role(subscription=p.sub, user=p.admin, role="analyst",
                           actor=Actor.of_user(p.lead)))
    assert Membership.objects.filter(subscription=p.sub, role="admin").count() == 1
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1
    if connection.vendor == "postgresql":  # SQLite refuses the second writer as "locked"
        assert isinstance(failed[0], InventoryError)
        assert "is the last admin of Contoso" in str(failed[0])


@pytest.mark.django_db(transaction=True)
def test_two_tabs_spending_one_link_set_one_password(db):
    user = get_user_model().objects.create_user("erin")
    _, url = issue_link(username="erin", user=user, actor=Actor.of_system())
    secret = url.rsplit("/", 2)[1]
    results = race(lambda: use_link(secret, "the first long passphrase"),
                   lambda: use_link(secret, "the second long passphrase"))
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1
    user.refresh_from_db()
    assert sum(user.check_password(pw) for pw in ("the first long passphrase",
                                                   "the second long passphrase")) == 1
    if connection.vendor == "postgresql":
        [lost] = [r for r in results if isinstance(r, Exception)]
        assert isinstance(lost, PasswordLinkError)
