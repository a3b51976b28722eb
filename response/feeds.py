"""Feed tokens: what a firewall puts in the blocklist's URL. Shown once, kept as SHA-256
like API tokens, revocable; a feed token reads its subscription's feed and nothing else."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from socconsole.lib.digest import digest, matches

from .models import FeedToken

PREFIX = "socfeed_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class FeedTokenError(Exception):
    """A feed token request that cannot be honoured; the message is fit for the user."""


def feed_url(plaintext: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("response:feed", args=[plaintext])


def create_feed_token(*, subscription: Subscription, name: str, actor: Actor,
                      reason: str = "") -> tuple[FeedToken, str]:
    """A new feed token; returns (token, plaintext). The plaintext is never stored."""
    name = (name or "").strip()
    if not name:
        raise FeedTokenError("A feed token needs a name (the firewall that reads it).")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with transaction.atomic():
        token = FeedToken.objects.create(subscription=subscription, name=name[:120],
                                         prefix=prefix, secret_hash=digest(secret),
                                         created_by_label=actor.label[:200])
        activity.record(actor=actor, verb="feed_token.create", target_type="feed_token",
                        target_id=token.pk, target_label=str(token),
                        subscription=subscription, reason=reason, after={"name": token.name})
    return token, f"{PREFIX}{prefix}_{secret}"


def revoke_feed_token(token: FeedToken, *, actor: Actor, reason: str = "") -> bool:
    with transaction.atomic():
        now = timezone.now()
        if not FeedToken.objects.filter(pk=token.pk, revoked_at__isnull=True)\
                .update(revoked_at=now):
            return False
        token.revoked_at = now
        activity.record(actor=actor, verb="feed_token.revoke", target_type="feed_token",
                        target_id=token.pk, target_label=str(token),
                        subscription_id=token.subscription_id, reason=reason,
                        before={"active": True}, after={"active": False})
    return True


def verify_feed_token(plaintext: str | None) -> FeedToken | None:
    """The active FeedToken for a presented string, or None; constant-time on the secret."""
    if not plaintext or not plaintext.startswith(PREFIX):
        return None
    prefix, sep, secret = plaintext[len(PREFIX):].partition("_")
    if not sep or len(prefix) != 12 or not secret or len(secret) > 128 or \
            prefix.strip("0123456789abcdef"):
        return None
    token = FeedToken.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not matches(token.secret_hash, secret):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        FeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
