"""One-time set-password links: how a person an admin invited, new to the console, gets a
password they can use.

A link reads `SITE_URL/set-password/<secret>/`; the server keeps a SHA-256 of the 256-bit
secret only (as API tokens do), so a lookup is an indexed equality and a copy of the table
opens nothing. A link is good for LINK_HOURS and once: using it claims the row with a
conditional UPDATE, so two tabs racing set one password at most."""


import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Invitation, PasswordLink, Subscription
from socconsole.lib.digest import digest

LINK_HOURS = 24
MAX_SECRET = 128


class PasswordLinkError(Exception):
    """The link cannot set a password; the message is fit for whoever holds it.
    `expired` tells an expired link from an unknown or used one (which look alike)."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


UNKNOWN = "This link is not valid: it was used already, or never existed."
EXPIRED = (f"This link has expired: links are valid {LINK_HOURS} hours. Ask the admin who "
           "invited you for a new one.")


def link_url(secret: str) -> str:
    return settings.SITE_URL + reverse("inventory:set-password", kwargs={"secret": secret})


def issue_link(*, username: str, actor: Actor, user: AbstractBaseUser | None = None,
               subscription: Subscription | None = None, invitation: Invitation | None = None,
               ) -> tuple[PasswordLink, str]:
    """A fresh link for `user`; returns (link, its absolute URL). The user's earlier unused
    links stop working. With no `user`, a link that sets nothing (see people.invite). Must
    run in the caller's transaction when it is part of a larger change."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        if user is not None:
            PasswordLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now)\
                .update(expires_at=now)
        link = PasswordLink.objects.create(
            user=user, username=username, subscription=subscription, invitation=invitation,
            secret_hash=digest(secret), created_by=actor.user, created_at=now,
            expires_at=now + timedelta(hours=LINK_HOURS))
        # In the subscription's log the entry is the same whether the link sets a password
        # or not: the admin reads that log too.
        activity.record(
            actor=actor, verb="password_link.issue",
            target_type="invitation" if invitation else "user",
            target_id=invitation.pk if invitation else (user.pk if user else ""),
            target_label=username, subscription=subscription,
            after={"expires_at": link.expires_at.isoformat()})
    return link, link_url(secret)


def find_link(secret: str) -> PasswordLink:
    """The usable link for `secret`, or PasswordLinkError. A link that sets nothing is
    returned like any other: only using it tells."""
    if not secret or len(secret) > MAX_SECRET:
        raise PasswordLinkError(UNKNOWN)
    link = PasswordLink.objects.select_related("user").filter(secret_hash=digest(secret))\
        .first()
    if link is None or link.used_at is not None:
        raise PasswordLinkError(UNKNOWN)
    if link.expires_at <= timezone.now():
        raise PasswordLinkError(EXPIRED, expired=True)
    return link


def use_link(secret: str, password: str, *, address: str | None = None) -> AbstractBaseUser:
    """Set the password of the link's user and spend the link; if it came with a pending
    invitation, the user accepts it. The password is validated by the caller's form."""
    from inventory.people import accept_invitation

    with transaction.atomic():
        link = find_link(secret)
        now = timezone.now()
        claimed = PasswordLink.objects.filter(pk=link.pk, used_at__isnull=True,
                                              expires_at__gt=now).update(used_at=now)
        if not claimed:
            raise PasswordLinkError(UNKNOWN)
        user = link.user
        if user is not None and user.is_active:
            user.set_password(password)
            user.save(update_fields=["password"])
            activity.record(actor=Actor.of_user(user), verb="password_link.use",
                            target_type="user", target_id=user.pk,
                            target_label=user.get_username(),
                            subscription_id=link.subscription_id, after={"address": address})
            if link.invitation_id and Invitation.objects.filter(
                    pk=link.invitation_id, state=Invitation.State.PENDING,
                    expires_at__gt=now).exists():
                accept_invitation(link.invitation_id, user=user)
            return user
        # A link that sets nothing is spent and logged (outside any subscription), then
        # answered like a used one.
        activity.record(actor=Actor.of_system("set-password link"),
                        verb="password_link.refuse", target_type="user",
                        target_label=link.username, after={"address": address})
    raise PasswordLinkError(UNKNOWN)
