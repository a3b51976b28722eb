"""Response actions the console asks of the team's playbooks: isolate a host, disable an
account. The request is recorded and audited on the incident's timeline, sent as a webhook
event, and its delivery's outcome is written on the same timeline."""

from django.db import transaction

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows

from .dispatch import emit
from .models import ActionRequest, Webhook

MAX_TEXT = 4000


class ActionError(Exception):
    """A response action that cannot be requested; the message is fit for the user."""


def request_action(subscription: Subscription, kind: str, target: str, *, actor: Actor, role,
                   reason: str, alert=None, incident=None) -> ActionRequest:
    if not role_allows(role, Perm.RESPOND):
        raise ActionError("Your role may not request response actions.")
    try:
        kind = ActionRequest.Kind(kind)
    except ValueError:
        raise ActionError("Choose host isolation or disabling an account.") from None
    target, reason = (target or "").strip(), (reason or "").strip()
    if not target or len(target) > 512:
        raise ActionError("Name the host or account (at most 512 characters).")
    if not reason or len(reason) > MAX_TEXT:
        raise ActionError(f"Give a reason (at most {MAX_TEXT:,} characters).")
    if not any(kind.value in h.events for h in
               Webhook.objects.filter(subscription=subscription, enabled=True)):
        raise ActionError(f"No playbook takes “{kind.label}” yet: a shift lead or an admin "
                          "registers a webhook for it (Webhooks page).")
    with transaction.atomic():
        request = ActionRequest.objects.create(
            subscription=subscription, kind=kind, target=target, reason=reason, alert=alert,
            incident=incident, requested_by_label=actor.label[:200])
        target_type, target_id, label = request.timeline_target()
        activity.record(actor=actor, verb=kind.value, target_type=target_type,
                        target_id=target_id, target_label=label, subscription=subscription,
                        reason=reason, after={"request": request.pk, "target": target})
        emit(subscription.pk, kind.value, [
            {"request_id": request.pk, "target": target, "reason": reason,
             "alert_id": request.alert_id, "incident_id": request.incident_id,
             "by": actor.label}], request=request)
    return request
