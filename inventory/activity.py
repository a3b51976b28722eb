"""The activity log: who changed what, when and why. Append-only."""

from dataclasses import dataclass

from django.db import transaction

from inventory.models import Activity, ApiToken


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, a token (and its user, if any), or the system."""

    user: object = None
    token: ApiToken | None = None
    system: str = ""

    @classmethod
    def of_user(cls, user):
        return cls(user=user)

    @classmethod
    def of_token(cls, token):
        return cls(user=token.user, token=token)

    @classmethod
    def of_system(cls, name="system"):
        return cls(system=name)

    @property
    def kind(self):
        if self.token is not None:
            return Activity.ActorKind.TOKEN
        if self.user is not None:
            return Activity.ActorKind.USER
        return Activity.ActorKind.SYSTEM

    @property
    def label(self):
        if self.token is not None:
            owner = self.token.user.get_username() if self.token.user else "service"
            return f"token {self.token.name} ({owner})"
        if self.user is not None:
            return self.user.get_username()
        return self.system or "system"


def record(*, actor, verb, target_type, target_id="", target_label="", subscription=None,
           subscription_id=None, reason="", before=None, after=None):
    """Write one activity row. Must run inside the transaction of the change it records."""
    _check_atomic()
    row = _row(actor=actor, verb=verb, target_type=target_type, target_id=target_id,
               target_label=target_label, subscription=subscription,
               subscription_id=subscription_id, reason=reason, before=before, after=after)
    row.save(force_insert=True)
    return row


def record_many(entries):
    """Write several rows in one statement; `entries` are `record`'s keyword arguments."""
    _check_atomic()
    Activity.objects.bulk_create([_row(**entry) for entry in entries], batch_size=500)


def _check_atomic():
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("activity.record must be called inside the change's transaction")


def _row(*, actor, verb, target_type, target_id="", target_label="", subscription=None,
         subscription_id=None, reason="", before=None, after=None):
    return Activity(
        subscription_id=subscription.pk if subscription is not None else subscription_id,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        target_label=str(target_label)[:300],
        reason=reason or "",
        before=before,
        after=after,
    )
