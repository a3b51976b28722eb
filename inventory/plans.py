"""The Defender plan of a subscription: turning it on or off, and what it covers.

With the plan off, alerts in the Microsoft formats and the console's own detections are
refused at ingestion (kept as rejected items, replayable once it is on again); native
alerts from other products still flow, as they are not part of the paid plan.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Activity, PlanOffPeriod, Subscription
from inventory.roles import Perm, Role, role_allows
from inventory.subscriptions import InventoryError

# The formats Microsoft Defender for Cloud and Sentinel deliver (alerts.ingest.parse).
PLAN_FORMATS = frozenset({"arm", "export", "sentinel"})
# Ingestion sources that are the console's own detections (custom rules, indicator
# matches): detections/ ingests its alerts with one of these, and so is refused too.
PLAN_SOURCES = frozenset({"detection"})
REFUSAL_CODE = "defender_plan_off"
MAX_REASON = 500
# How long the queue still says that coverage was off, after the plan is on again: as long
# as the refused items are kept (alerts.rejected.RETENTION).
RECENT = timedelta(days=7)


def word(on: bool) -> str:
    return "on" if on else "off"


def covered_by_plan(*, format: str, source: str = "") -> bool:  # noqa: A002
    """Whether an alert of `format` from `source` needs the Defender plan: the Microsoft
    formats, and the console's own detections (whatever their format). Every path that
    creates alerts asks this, with `refusal`."""
    return format in PLAN_FORMATS or source in PLAN_SOURCES


def refusal(subscription: Subscription) -> str | None:
    """Why items covered by the plan are refused in `subscription` now, or None (plan on).
    Read from the database, not the (possibly stale) instance."""
    state = Subscription.objects.filter(pk=subscription.pk)\
        .values_list("defender_plan", "defender_plan_changed_at", "created_at").first()
    if state is None or state[0]:
        return None
    since = state[1] or state[2]
    return (f"The Defender plan of this subscription is off (since {since:%Y-%m-%d %H:%M} "
            "UTC): Microsoft alerts and custom detections are not accepted. The item is "
            "kept; an admin can replay it after turning the plan on (Pricing and settings).")


def set_defender_plan(subscription: Subscription, *, on: bool, actor: Actor, reason: str,
                      role: Role | None = None) -> bool:
    """Turn the Defender plan of `subscription` on or off, with a reason, logged with its
    off period in one transaction. Idempotent: the state it already has changes and logs
    nothing (returns False). An admin's right; the system (manage.py) needs no role."""
    if actor.kind != Activity.ActorKind.SYSTEM and not role_allows(role, Perm.ADMINISTER):
        raise PermissionDenied("Only an admin may change the Defender plan.")
    if not isinstance(on, bool):
        raise InventoryError("The Defender plan is on or off.")
    reason = (reason or "").strip()
    if not reason:
        raise InventoryError("Say why the Defender plan changes: a reason is required.")
    if len(reason) > MAX_REASON:
        raise InventoryError(f"The reason is at most {MAX_REASON} characters.")
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if current.defender_plan == on:
            _copy(current, subscription)
            return False
        now, label = timezone.now(), actor.label[:200]
        Subscription.objects.filter(pk=current.pk).update(
            defender_plan=on, defender_plan_changed_at=now, defender_plan_changed_by=label)
        if on:
            PlanOffPeriod.objects.filter(subscription=current, ended_at__isnull=True)\
                .update(ended_at=now, ended_by=label, reason_on=reason)
        else:
            PlanOffPeriod.objects.create(subscription=current, started_at=now,
                                         started_by=label, reason_off=reason)
        activity.record(actor=actor, verb="subscription.defender_plan",
                        target_type="subscription", target_id=current.pk,
                        target_label=current.name, subscription=current, reason=reason,
                        before={"defender_plan": word(not on)},
                        after={"defender_plan": word(on)})
        current.defender_plan, current.defender_plan_changed_at = on, now
        current.defender_plan_changed_by = label
        _copy(current, subscription)
    return True


def _copy(source: Subscription, target: Subscription) -> None:
    for name in ("defender_plan", "defender_plan_changed_at", "defender_plan_changed_by"):
        setattr(target, name, getattr(source, name))


def off_periods(subscription: Subscription, limit: int = 20) -> list[PlanOffPeriod]:
    """The periods the plan was off, newest first (the current one, if off, first)."""
    return list(PlanOffPeriod.objects.filter(subscription=subscription)[:limit])


def banner_period(subscription: Subscription) -> PlanOffPeriod | None:
    """The off period the subscription's pages tell of: the current one, or one that ended
    in the last `RECENT` (its refused items can still be replayed). No query when the plan
    is on and has not changed lately, which is nearly always."""
    changed = subscription.defender_plan_changed_at
    if subscription.defender_plan and (changed is None or changed < timezone.now() - RECENT):
        return None
    return PlanOffPeriod.objects.filter(subscription=subscription).first()
