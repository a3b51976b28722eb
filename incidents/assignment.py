"""Owning and escalating incidents: take, assign, escalate, acknowledge an escalation.

Each change writes the activity log in its transaction; an escalation sends an
email (Django's email backend) to the subscription's shift leads or to the
resource's workload owner.
"""

import unicodedata
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts.triage import TriageError, check_length, require_role
from incidents.models import Incident
from incidents.narrative import narrate
from inventory import activity
from inventory.activity import Actor
from inventory.models import Membership
from inventory.roles import Perm, Role, role_allows

MAY_NOT_TRIAGE = "Your role may not triage in this subscription."


def _locked(incident: Incident) -> Incident:
    # Lock the incident row only: PostgreSQL cannot lock the nullable side of a join.
    return Incident.objects.select_for_update(of=("self",)).select_related("resource")\
        .get(pk=incident.pk)


def acknowledge(row: Incident, now: datetime) -> None:
    """The SLA clock stops at the first human action."""
    if row.acknowledged_at is None:
        row.acknowledged_at = now


def assign(incident: Incident, *, to: AbstractBaseUser | None, actor: Actor,
           role: Role | None, reason: str = "") -> bool:
    """Assign to `to`, an active member who may triage (None: nobody the request could
    name); taking is assigning to oneself, assigning to anyone else is a shift lead's.
    NotAllowed for the actor's role, TriageError for the assignee."""
    require_role(role, Perm.TRIAGE, MAY_NOT_TRIAGE)
    if to is None or actor.user is None or to.pk != actor.user.pk:
        require_role(role, Perm.LEAD, "Only a shift lead may assign an incident to someone "
                     "else; take it yourself instead.")
    if to is None:
        raise TriageError("Choose whom to assign it to.")
    # A deactivated member keeps their membership row, but can no longer sign in to work it.
    if not to.is_active or not role_allows(_role(to, incident.subscription_id), Perm.TRIAGE):
        raise TriageError(f"{to.get_username()} is not an active analyst or shift lead of "
                          "this subscription.")
    check_length(reason, "reason")
    with transaction.atomic():
        row = _locked(incident)
        if row.assigned_to_id == to.pk:
            return False
        before = {"assigned_to": row.assigned_to.get_username() if row.assigned_to else None}
        now = timezone.now()
        row.assigned_to = to
        acknowledge(row, now)
        row.save(update_fields=["assigned_to", "acknowledged_at"])
        verb = "incident.take" if actor.user and actor.user.pk == to.pk else "incident.assign"
        activity.record(actor=actor, verb=verb, target_type="incident", target_id=row.pk,
                        target_label=row.title, subscription_id=row.subscription_id,
                        reason=reason, before=before, after={"assigned_to": to.get_username()})
    incident.assigned_to = to
    return True


def escalate(incident: Incident, *, to: str, note: str, actor: Actor,
             role: Role | None) -> bool:
    """Escalate to the shift leads or to the resource's workload owner, with a note."""
    require_role(role, Perm.TRIAGE, MAY_NOT_TRIAGE)
    note = (note or "").strip()
    if to not in ("leads", "owner"):
        raise TriageError("Escalate to the shift leads or to the workload owner.")
    if not note:
        raise TriageError("Say why you escalate: the note goes with the email.")
    check_length(note, "note")
    with transaction.atomic():
        row = _locked(incident)
        recipients = _recipients(row, to)
        if not recipients:
            raise TriageError("Nobody to escalate to: no shift lead with an email address, "
                              "or no owner email on this resource.")
        now = timezone.now()
        row.escalated, row.escalated_to, row.escalation_note = True, to, note
        row.escalation_acknowledged = False
        acknowledge(row, now)
        row.save(update_fields=["escalated", "escalated_to", "escalation_note",
                                "escalation_acknowledged", "acknowledged_at"])
        activity.record(actor=actor, verb="incident.escalate", target_type="incident",
                        target_id=row.pk, target_label=row.title,
                        subscription_id=row.subscription_id, reason=note,
                        after={"to": to, "recipients": recipients})
        subject, body = escalation_mail(row, to=to, note=note, actor=actor)
        transaction.on_commit(lambda: send_mail(subject, body, None, recipients,
                                                fail_silently=False))
    incident.escalated = True
    return True


def _one_line(text: str) -> str:
    """Text fit for a mail header: no line break or other control character survives."""
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c
                            for c in str(text)).split())


def escalation_mail(row: Incident, *, to: str, note: str, actor) -> tuple[str, str]:
    """The subject and plain-text body of an escalation: what, how bad, where, why, and
    an absolute link. The title comes from an alert (attacker-controlled): it is one line
    in the subject, so it cannot add a header."""
    title = _one_line(row.title)
    link = settings.SITE_URL + reverse("incidents:detail", kwargs={
        "sub": row.subscription_id, "incident_id": row.pk})
    resource = row.resource.name if row.resource_id else "no resource"
    severity = row.get_severity_display().capitalize()
    body = (f"{actor.label} escalated an incident to "
            f"{'the shift leads' if to == 'leads' else 'the workload owner'}.\n\n"
            f"Incident:  {title}\n"
            f"Severity:  {severity}\n"
            f"Resource:  {_one_line(resource)}\n"
            f"Link:      {link}\n\n"
            f"Note:\n{note}\n\n{narrate(row).description}\n")
    return f"[SOC] Escalated ({severity}): {title}"[:200], body


def acknowledge_escalation(incident: Incident, *, actor: Actor, role: Role | None,
                           reason: str = "") -> bool:
    """A shift lead acknowledges an escalation; False when there is none to acknowledge."""
    require_role(role, Perm.LEAD, "Only a shift lead may acknowledge an escalation.")
    with transaction.atomic():
        row = _locked(incident)
        if not row.escalated or row.escalation_acknowledged:
            return False
        row.escalation_acknowledged = True
        row.save(update_fields=["escalation_acknowledged"])
        activity.record(actor=actor, verb="incident.acknowledge", target_type="incident",
                        target_id=row.pk, target_label=row.title,
                        subscription_id=row.subscription_id, reason=reason)
    return True


def _role(user: AbstractBaseUser, subscription_id: int) -> Role | None:
    role = Membership.objects.filter(user=user, subscription_id=subscription_id)\
        .values_list("role", flat=True).first()
    return Role(role) if role else None


def _recipients(row: Incident, to: str) -> list[str]:
    if to == "owner":
        return [row.resource.owner_email] if row.resource_id and row.resource.owner_email \
            else []
    leads = get_user_model().objects.filter(
        memberships__subscription_id=row.subscription_id,
        memberships__role=Role.SHIFT_LEAD, is_active=True).exclude(email="")
    return sorted(set(leads.values_list("email", flat=True)))
