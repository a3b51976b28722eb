"""Suppression rules: "dismiss and suppress similar".

A rule names an alert type and a scope (a resource, or an entity the alert names)
and expires. New alerts it matches are stored, dismissed with the rule named, and
counted on the rule. The preview and the ingest path use the same query
(`matching`), so the preview's count is what the rule would dismiss.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from alerts.models import Alert, AlertEntity, Entity, Status, SuppressionRule, Verdict
from alerts.triage import TriageError, change_alert, require_role
from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, Role

MAX_DAYS = 365
# What a rule's dismissal says of the alerts it dismisses: expected activity, not an attack.
VERDICT = Verdict.BENIGN_POSITIVE


def matching(subscription_id: int, alert_type: str, resource_id: int | None = None,
             entity_id: int | None = None) -> QuerySet[Alert]:
    """The alerts a rule with this scope matches (past or new)."""
    qs = Alert.objects.filter(subscription_id=subscription_id, alert_type=alert_type)
    if resource_id:
        qs = qs.filter(resource_id=resource_id)
    if entity_id:
        qs = qs.filter(mentions__entity_id=entity_id)
    return qs


def preview(subscription_id: int, alert_type: str, resource_id: int | None = None,
            entity_id: int | None = None) -> int:
    return matching(subscription_id, alert_type, resource_id, entity_id).distinct().count()


def scope_choices(alert: Alert, mentions: list | None = None) -> list[tuple[str, str]]:
    """The scopes a rule from this alert may take, as (value, label): its resource, then
    each entity of a known type it names. `mentions` (with their entities) saves a query."""
    if mentions is None:
        mentions = AlertEntity.objects.filter(alert=alert).select_related("entity")\
            .order_by("position")
    choices = []
    if alert.resource_id is not None:
        choices.append(("resource", f"the resource {alert.resource.name}"))
    seen = set()
    for m in mentions:
        if m.entity.known and m.entity_id not in seen:
            seen.add(m.entity_id)
            choices.append((f"entity:{m.entity_id}",
                            f"naming the {m.kind} {Truncator(m.entity.label).chars(60)}"))
    return choices


def parse_scope(alert: Alert, scope: str, choices: list[tuple[str, str]] | None = None
                ) -> tuple[int | None, int | None]:
    """(resource_id, entity_id) of a scope offered by `scope_choices`; TriageError for
    anything else. Only the offered values are parsed, so no input reaches the database."""
    if choices is None:
        choices = scope_choices(alert)
    if scope not in {value for value, _ in choices}:
        if scope == "resource":
            raise TriageError("This alert has no resource to scope the rule to.")
        if str(scope).startswith("entity:"):
            raise TriageError("Choose one of this alert's entities.")
        raise TriageError("Scope the rule to the resource or to one of the alert's entities.")
    if scope == "resource":
        return alert.resource_id, None
    return None, int(scope.removeprefix("entity:"))


def create_rule(*, alert: Alert, scope: str, days: int, reason: str,
                actor: Actor) -> SuppressionRule:
    """A rule from an alert: scope "resource" or "entity:<id>" (one of `scope_choices`)."""
    reason = (reason or "").strip()
    if not reason:
        raise TriageError("Say why these alerts may be suppressed.")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise TriageError(f"A rule lasts 1 to {MAX_DAYS} days.")
    if not alert.alert_type:
        raise TriageError("This alert has no type to suppress by.")
    resource_id, entity_id = parse_scope(alert, scope)
    with transaction.atomic():
        rule = SuppressionRule.objects.create(
            subscription_id=alert.subscription_id, alert_type=alert.alert_type,
            resource_id=resource_id, entity_id=entity_id, reason=reason[:2000],
            expires_at=timezone.now() + timedelta(days=days), created_by=actor.user)
        activity.record(actor=actor, verb="suppression.create", target_type="suppression",
                        target_id=rule.pk, target_label=str(rule),
                        subscription_id=alert.subscription_id, reason=reason,
                        after={"alert_type": rule.alert_type, "days": days,
                               "scope": rule.scope() if entity_id is None else
                               f"entity {Entity.objects.get(pk=entity_id).label}"})
    return rule


def suppress_similar(alert: Alert, *, scope: str, days: int, reason: str, actor: Actor,
                     role: Role | None) -> SuppressionRule:
    """"Dismiss and suppress similar": a rule from the alert, and the alert dismissed with
    the rule's verdict, together or not at all. Suppression is the shift lead's."""
    require_role(role, Perm.LEAD, "Only a shift lead may suppress alerts.")
    with transaction.atomic():
        rule = create_rule(alert=alert, scope=scope, days=days, reason=reason, actor=actor)
        change_alert(alert, action="dismiss", actor=actor, role=role, verdict=VERDICT,
                     reason=f"suppressed by rule {rule.pk}: {rule.reason}")
    return rule


def disable_rule(rule: SuppressionRule, *, actor: Actor, reason: str = "") -> bool:
    with transaction.atomic():
        changed = SuppressionRule.objects.filter(pk=rule.pk, disabled_at__isnull=True)\
            .update(disabled_at=timezone.now())
        if changed:
            activity.record(actor=actor, verb="suppression.disable", target_type="suppression",
                            target_id=rule.pk, target_label=str(rule),
                            subscription_id=rule.subscription_id, reason=reason)
    return bool(changed)


def apply_rules(subscription: Subscription, alert_ids: list[int], actor: Actor) -> int:
    """Dismiss the new alerts live rules match, naming the rule on each; returns how many.

    Runs in the ingest transaction, so its cost is per rule, not per alert: one read,
    one UPDATE and one counter per matching rule, and the activity (an entry per rule and
    one per alert, for the alert's own history) in one bulk insert."""
    if not alert_ids:
        return 0
    now = timezone.now()
    rules = list(SuppressionRule.objects.filter(subscription=subscription,
                                                disabled_at__isnull=True, expires_at__gt=now))
    entries = []
    for rule in rules:
        # The rule dismisses, not whoever sent the alert (`actor` is named in the reason).
        by_rule = activity.Actor.of_system(f"suppression rule {rule.pk}")
        # A dict, not DISTINCT: an entity scope joins mentions, and an alert may name the
        # entity twice. Alerts an earlier rule dismissed are no longer active.
        names = dict(matching(subscription.pk, rule.alert_type, rule.resource_id,
                              rule.entity_id)
                     .filter(pk__in=alert_ids, status=Status.ACTIVE)
                     .values_list("pk", "display_name"))
        if not names:
            continue
        ids = sorted(names)
        Alert.objects.filter(pk__in=ids).update(status=Status.DISMISSED, verdict=VERDICT,
                                                suppressed_by=rule)
        SuppressionRule.objects.filter(pk=rule.pk).update(matched=F("matched") + len(ids))
        entries.append({
            "actor": by_rule, "verb": "suppression.apply", "target_type": "suppression",
            "target_id": rule.pk, "target_label": str(rule), "subscription_id": subscription.pk,
            "reason": f"dismissed {len(ids)} new alert(s) sent by {actor.label}: "
                      f"{rule.reason}",
            "after": {"alerts": ids}})
        why = (f"dismissed automatically by suppression rule {rule.pk}: "
               f"{Truncator(rule.reason).chars(200)}")
        entries += [{
            "actor": by_rule, "verb": "alert.suppress", "target_type": "alert", "target_id": pk,
            "target_label": names[pk], "subscription_id": subscription.pk, "reason": why,
            "before": {"status": str(Status.ACTIVE), "verdict": ""},
            "after": {"status": str(Status.DISMISSED), "verdict": str(VERDICT),
                      "rule": rule.pk}} for pk in ids]
    if entries:
        activity.record_many(entries)
    return sum(1 for e in entries if e["verb"] == "alert.suppress")
