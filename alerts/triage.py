"""Triage of one alert: dismiss with a verdict, resolve, activate again, comment.

Each change is one function with keyword-only actor and reason that writes the
activity log in the change's transaction; the page, the API and the incident
actions all call these.
"""

from django.db import transaction

from alerts.models import DISMISS_VERDICTS, Alert, Status, Verdict
from alerts.signals import alert_status_changed
from inventory import activity

ACTIONS = ("dismiss", "resolve", "activate")
TEXT_LIMIT = 4000   # a comment, reason or note, as the forms and the API schema say


class TriageError(Exception):
    """A triage request that cannot be honoured; the message is fit for the user."""


def target_state(action, verdict=""):
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


def check_reason(action, reason):
    """Resolving says what was done: the comment is its audited reason."""
    if action == "resolve" and not (reason or "").strip():
        raise TriageError("Resolving needs a comment: say what was done.")


def change_alert(alert, *, action, actor, verdict="", reason=""):
    """Apply a triage action to an alert; False when it was already in that state."""
    status, verdict = target_state(action, verdict)
    check_reason(action, reason)
    with transaction.atomic():
        row = Alert.objects.select_for_update().only("status", "verdict", "display_name",
                                                      "subscription_id").get(pk=alert.pk)
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


def comment_alert(alert, *, actor, comment):
    comment = (comment or "").strip()
    if not comment:
        raise TriageError("A comment needs some text.")
    check_length(comment)
    with transaction.atomic():
        activity.record(actor=actor, verb="alert.comment", target_type="alert",
                        target_id=alert.pk, target_label=alert.display_name,
                        subscription_id=alert.subscription_id, reason=comment)
