"""Sending events to the webhooks: one delivery per endpoint that chose the event, stored
in the change's transaction and queued once it commits (response.tasks sends them)."""

import uuid

from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from socconsole.lib.queueing import publish_on_commit

from .models import Delivery, Webhook
from .tasks import deliver
from .webhooks import may_manage


def emit(subscription_id: int, event: str, items: list[dict], request=None) -> list[Delivery]:
    """Queue `event` (one delivery per item of `items`) to every enabled webhook of the
    subscription that chose it. Call inside the change's transaction: the deliveries exist
    if and only if the change does, and they are sent once it commits."""
    hooks = [h for h in Webhook.objects.filter(subscription_id=subscription_id, enabled=True)
             if event in h.events]
    if not hooks or not items:
        return []
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create([
        Delivery(webhook=hook, event=event, next_attempt_at=now, request=request,
                 payload={"id": str(uuid.uuid4()), "event": event,
                          "subscription_id": subscription_id,
                          "created_at": now.isoformat(), "data": data})
        for hook in hooks for data in items])
    for d in deliveries:
        publish_on_commit(deliver, d.pk, later="the delivery sweep sends it")
    return deliveries


def resend(delivery: Delivery, *, actor: Actor, role) -> None:
    """Send a failed (or delivered) delivery again, from its first attempt."""
    may_manage(role)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).exclude(state=Delivery.State.PENDING)\
            .update(state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now())
        activity.record(actor=actor, verb="webhook.resend", target_type="webhook",
                        target_id=delivery.webhook_id, target_label=delivery.webhook.name,
                        subscription_id=delivery.webhook.subscription_id,
                        after={"delivery": delivery.pk, "event": delivery.event})
        publish_on_commit(deliver, delivery.pk, later="the delivery sweep sends it")
