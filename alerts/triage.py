"""Triage of one alert: dismiss with a verdict, resolve, activate again, comment.

Each change is one function with keyword-only actor, role and reason that writes the
activity log in the change's transaction; the page, the API and the incident
actions all call these. Who may make a change is decided here, from the role the
actor acts with, and nowhere else.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from alerts.models import DISMISS_VERDICTS, Alert, Status, Verdict
from alerts.signals import alert_status_changed
from inventory import activity
from inventory.activity import Actor
from inventory.roles import Perm, Role, role_allows

ACTIONS = ("dismiss", "resolve", "activate")
TEXT_LIMIT = 4000   # a comment, reason or note, as the forms and the API schema say


class TriageError(Exception):
    """A triage request that cannot be honoured; the message is fit for the user."""


class NotAllowed(PermissionDenied):
    """A change the actor's role may not make. The pages and the API both answer a
    PermissionDenied with 403; a TriageError is the request's own fault (400)."""


def require_role(role: Role | None, perm: Perm, message: str) -> None:
    if not role_allows(role, perm):
        raise NotAllowed(message)


def check_may_change(role: Role | None, action: str, status: str) -> None:
    """Triage needs its right; re-opening something resolved is the shift lead's."""
    require_role(role, Perm.TRIAGE, "Your role may not triage in this subscription.")
    if action == "activate" and status == Status.RESOLVED:
        require_role(role, Perm.LEAD, "Only a shift lead may reopen a resolved item.")


def target_state(action: str, verdict: str = "") -> tuple[Status, str]:
    """(status, verdict) an action leads to; TriageError for a bad action or verdict."""
    if action == "dismiss":
        if verdict not in DISMISS_VERDICTS:
            raise TriageError("Dismissing needs a verdict: false positive, benign positive or "
                              "not applicable.")
        return Status.DISMISSED, verdict
    if action == "resolve":
        return Status.RESOLVED, Verdict.TRUE_POSITIVE
    if action == "activate":
        return Status.ACTIVE, ""
    raise TriageError(f"Unknown action {action!r}.")


def check_length(text: str, what: str = "comment") -> None:
    """Refuse text over the limit rather than cut it: what was written is what is kept."""
    if len(text or "") > TEXT_LIMIT:
        raise TriageError(f"The {what} is {len(text):,} characters long; keep it to "
                          f"{TEXT_LIMIT:,}.")


def check_reason(action: str, reason: str) -> None:
    """Resolving says what was done: the comment is its audited reason."""
    if action == "resolve" and not (reason or "").strip():
        raise TriageError("Resolving needs a comment: say what was done.")


def planned(action: str, verdict: str, reason: str) -> tuple[Status, str]:
    """(status, verdict) a valid request leads to; TriageError before anything is touched."""
    state = target_state(action, verdict)
    check_reason(action, reason)
    check_length(reason)
    return state


def comment_text(comment: str) -> str:
    """A comment on an alert or incident, stripped; TriageError when there is none."""
    comment = (comment or "").strip()
    if not comment:
        raise TriageError("A comment needs some text.")
    check_length(comment)
    return comment


def change_alert(alert: Alert, *, action: str, actor: Actor, role: Role | None,
                 verdict: str = "", reason: str = "", incident_id: int | None = None) -> bool:
    """Apply a triage action to an alert; False when it was already in that state.
    NotAllowed when `role` (the actor's, in the alert's subscription) may not.
    `incident_id`: the alert follows that incident, and its log entry says so."""
    status, verdict = planned(action, verdict, reason)
    if incident_id is not None:  # the limit is the person's text, not ours around it
        reason = f"with incident {incident_id}" + (f": {reason}" if reason else "")
    with transaction.atomic():
        row = Alert.objects.select_for_update().only("status", "verdict", "display_name",
                                                      "subscription_id").get(pk=alert.pk)
        check_may_change(role, action, row.status)  # on the locked row: no stale status
        if row.status == status and row.verdict == verdict:
            return False
        before = {"status": row.status, "verdict": row.verdict}
        Alert.objects.filter(pk=row.pk).update(status=status, verdict=verdict)
        alert.status, alert.verdict = status, verdict
        activity.record(actor=actor, verb=f"alert.{action}", target_type="alert",
                        target_id=row.pk, target_label=row.display_name,
                        subscription_id=row.subscription_id, reason=reason, before=before,
                        after={"status": str(status), "verdict": str(verdict)})
        alert_status_changed.send(sender=Alert, alert_ids=[row.pk])
    return True


def comment_alert(alert: Alert, *, actor: Actor, comment: str) -> None:
    comment = comment_text(comment)
    with transaction.atomic():
        activity.record(actor=actor, verb="alert.comment", target_type="alert",
                        target_id=alert.pk, target_label=alert.display_name,
                        subscription_id=alert.subscription_id, reason=comment)
