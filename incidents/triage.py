"""Triage of incidents: dismiss with a verdict, resolve, activate, comment.

Dismissing or resolving an incident does the same to its active alerts;
activating it again re-activates the alerts that were closed with it. Every
change writes the activity log in its transaction.
"""

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from alerts.models import Alert, Status
from alerts.triage import (
    TriageError,
    change_alert,
    check_length,
    check_may_change,
    comment_text,
    planned,
)
from incidents.models import HandoverNote, Incident, IncidentAlert
from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Role


def change_incident(incident: Incident, *, action: str, actor: Actor, role: Role | None,
                    verdict: str = "", reason: str = "") -> bool:
    """Apply a triage action to an incident and its alerts; False when nothing changed.
    NotAllowed when `role` (the actor's, in the incident's subscription) may not."""
    status, verdict = planned(action, verdict, reason)
    with transaction.atomic():
        row = Incident.objects.select_for_update().get(pk=incident.pk)
        check_may_change(role, action, row.status)
        if row.status == status and row.verdict == verdict:
            return False
        before = {"status": row.status, "verdict": row.verdict}
        previous = row.status
        row.status, row.verdict = status, verdict
        row.acknowledged_at = row.acknowledged_at or timezone.now()
        row.save(update_fields=["status", "verdict", "acknowledged_at"])
        activity.record(actor=actor, verb=f"incident.{action}", target_type="incident",
                        target_id=row.pk, target_label=row.title,
                        subscription_id=row.subscription_id, reason=reason, before=before,
                        after={"status": str(status), "verdict": str(verdict)})
        # The alerts follow: active ones when closing, the ones closed with it when opening.
        alerts = Alert.objects.filter(membership__incident=row)
        alerts = alerts.filter(status=previous) if action == "activate" else \
            alerts.filter(status=Status.ACTIVE)
        for alert in alerts.only("id", "display_name", "subscription_id", "status"):
            change_alert(alert, action=action, actor=actor, role=role, verdict=verdict,
                         reason=reason, incident_id=row.pk)
        incident.status, incident.verdict = row.status, row.verdict
    return True


def comment_incident(incident: Incident, *, actor: Actor, comment: str) -> None:
    comment = comment_text(comment)
    with transaction.atomic():
        Incident.objects.filter(pk=incident.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now())
        activity.record(actor=actor, verb="incident.comment", target_type="incident",
                        target_id=incident.pk, target_label=incident.title,
                        subscription_id=incident.subscription_id, reason=comment)


def follow_alerts(alert_ids: Iterable[int]) -> None:
    """After alerts changed status: a standalone incident mirrors its alert; every incident
    takes the severity of its worst active alert."""
    ids = set(IncidentAlert.objects.filter(alert_id__in=alert_ids)
              .values_list("incident_id", flat=True))
    for incident in Incident.objects.filter(pk__in=ids).select_for_update():
        alerts = list(Alert.objects.filter(membership__incident=incident)
                      .only("status", "verdict", "severity"))
        active = [a for a in alerts if a.status == Status.ACTIVE]
        fields = {"severity": min(a.severity for a in active or alerts),
                  "active_count": len(active)}
        if incident.standalone and alerts:
            fields.update(status=alerts[0].status, verdict=alerts[0].verdict)
        Incident.objects.filter(pk=incident.pk).update(**fields)


def write_handover(subscription: Subscription, *, actor: Actor, text: str) -> HandoverNote:
    text = (text or "").strip()
    if not text:
        raise TriageError("A handover note needs some text.")
    check_length(text, "handover note")
    with transaction.atomic():
        note = HandoverNote.objects.create(subscription=subscription, author=actor.user,
                                           text=text)
        activity.record(actor=actor, verb="queue.handover", target_type="handover",
                        target_id=note.pk, target_label="shift handover",
                        subscription=subscription, reason=note.text)
    return note


BULK_LIMIT = 500


def bulk_change(incidents: Sequence[Incident], *, action: str, actor: Actor,
                role: Role | None, verdict: str = "", reason: str = "") -> int:
    """Apply one triage action to many incidents; returns how many changed."""
    if action not in ("dismiss", "resolve"):
        raise TriageError("Only dismiss and resolve work on many incidents at once.")
    planned(action, verdict, reason)  # refuse bad input before touching anything
    return sum(change_incident(i, action=action, actor=actor, role=role, verdict=verdict,
                               reason=reason) for i in incidents[:BULK_LIMIT])
