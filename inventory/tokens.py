"""API tokens: shown once, stored as a SHA-256 of a high-entropy secret.

A token reads `soc_<prefix>_<secret>`. The prefix finds the row by a unique
index; the secret (256 bits) is compared as a SHA-256 in constant time. A
password hash per request would cost milliseconds for no gain: the secret is
random, not a human password.
"""

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import ApiToken, Subscription
from inventory.roles import (
    DEFAULT_SCOPES,
    SERVICE_SCOPES,
    Perm,
    Role,
    Scope,
    role_allows,
    scopes_allow,
)
from socconsole.lib.digest import digest, matches

TOKEN_PREFIX = "soc_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    """A token request that cannot be honoured; the message is fit for the user."""


def create_token(*, subscription: Subscription, name: str, actor: Actor,
                 user: AbstractBaseUser | None = None, scopes: Iterable[str] = DEFAULT_SCOPES,
                 reason: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns (token, plaintext). The plaintext is never stored."""
    scopes = tuple(Scope(s) for s in scopes)
    name = (name or "").strip()
    if not name:
        raise TokenError("A token needs a name.")
    if user is None and not set(scopes) <= SERVICE_SCOPES:
        raise TokenError("A token without a user is a service identity: ingest and read only.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            subscription=subscription, user=user, name=name[:120], prefix=prefix,
            secret_hash=digest(secret), scopes=[s.value for s in scopes], created_by=actor.user,
        )
        activity.record(
            actor=actor, verb="token.create", target_type="api_token", target_id=token.pk,
            target_label=str(token), subscription=subscription, reason=reason,
            after={"name": token.name, "user": user.get_username() if user else None,
                   "scopes": token.scopes},
        )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def revoke_token(token: ApiToken, *, actor: Actor, reason: str = "") -> bool:
    """Revoke a token; idempotent (a second call changes nothing and logs nothing)."""
    with transaction.atomic():
        now = timezone.now()
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now)
        if not changed:
            return False
        token.revoked_at = now
        activity.record(
            actor=actor, verb="token.revoke", target_type="api_token", target_id=token.pk,
            target_label=str(token), subscription=token.subscription, reason=reason,
            before={"active": True}, after={"active": False},
        )
    return True


def verify_token(plaintext: str | None) -> ApiToken | None:
    """The active ApiToken for a presented string, or None. Constant-time on the secret."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = plaintext[len(TOKEN_PREFIX):].partition("_")
    if not sep or len(prefix) != 12 or not secret or len(secret) > 128 or \
            prefix.strip("0123456789abcdef"):
        return None
    token = (ApiToken.objects.select_related("user", "subscription")
             .filter(prefix=prefix, revoked_at__isnull=True).first())
    if token is None or not matches(token.secret_hash, secret):
        return None
    if token.user is not None and not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # Bounded to one write a minute per token, so the hot path stays read-only.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_allows(token: ApiToken, perm: Perm | str) -> bool:
    """Rights = scopes ∩ the user's *current* role (a service token: its scopes only)."""
    perm = Perm(perm)
    if not scopes_allow(token.scopes, perm):
        return False
    if token.user is None:
        return set(token.scopes) <= SERVICE_SCOPES
    from inventory.access import role_for

    return role_allows(role_for(token.user, token.subscription_id), perm)


def token_role(token: ApiToken) -> Role | None:
    """The role a token acts with, for the domain functions that decide who may change
    what: its user's current role (a service token has none). The API checks the scope
    first (`require`, `acting_on`), and `act` carries every right a role has in triage."""
    if token.user is None:
        return None
    from inventory.access import role_for

    return role_for(token.user, token.subscription_id)
