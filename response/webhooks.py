"""Outgoing webhooks (playbooks): register an endpoint for chosen events; each event makes
one delivery per endpoint, signed, sent by Celery with retries and back-off, logged, and
never lost: one that keeps failing is marked failed and can be resent."""

import json
import logging
import time
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows

from .models import Delivery, Webhook
from .outbound import OutboundError, check_url, post_json, signature

logger = logging.getLogger(__name__)

EVENTS = {
    "alert.created": "An alert is created",
    "incident.escalated": "An incident is escalated",
    "incident.resolved": "An incident is resolved",
    "address.blocked": "An address is blocked",
    "host.isolation_requested": "Host isolation is requested",
    "account.disable_requested": "Disabling an account is requested",
}
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30  # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts


class WebhookError(Exception):
    """A webhook change that cannot be made; the message is fit for the user."""


def _may_manage(role):
    if not role_allows(role, Perm.DETECTIONS):
        raise WebhookError("Only shift leads and admins manage webhooks.")


def create_webhook(subscription: Subscription, *, name: str, url: str, secret: str,
                   events, allow_private: bool, actor: Actor, role) -> Webhook:
    _may_manage(role)
    name, url, secret = (name or "").strip(), (url or "").strip(), secret or ""
    if not name:
        raise WebhookError("Name the webhook (the playbook it starts).")
    try:
        check_url(url)
    except OutboundError as exc:
        raise WebhookError(str(exc)) from None
    if len(secret) < 16:
        raise WebhookError("The secret is at least 16 characters: the receiver checks each "
                           "delivery's signature with it.")
    events = sorted(set(events))
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise WebhookError(f"Choose events among {', '.join(EVENTS)}.")
    with transaction.atomic():
        hook = Webhook.objects.create(subscription=subscription, name=name[:120], url=url,
                                      secret=secret[:200], events=events,
                                      allow_private=allow_private,
                                      created_by_label=actor.label[:200])
        activity.record(actor=actor, verb="webhook.create", target_type="webhook",
                        target_id=hook.pk, target_label=hook.name, subscription=subscription,
                        after={"url": url, "events": events, "allow_private": allow_private})
    return hook


def delete_webhook(hook: Webhook, *, actor: Actor, role) -> None:
    _may_manage(role)
    with transaction.atomic():
        activity.record(actor=actor, verb="webhook.delete", target_type="webhook",
                        target_id=hook.pk, target_label=hook.name,
                        subscription_id=hook.subscription_id, before={"url": hook.url})
        hook.delete()


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
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _publish(ids))
    return deliveries


def _publish(delivery_ids):
    """Queue the first attempts; a broker that cannot be reached only delays them (the
    deliveries are stored, and the sweep sends what is due)."""
    from .tasks import deliver

    try:
        for delivery_id in delivery_ids:
            deliver.apply_async(args=[delivery_id], ignore_result=True)
    except (BrokerError, OSError) as exc:
        logger.warning("webhook deliveries %s not queued (the sweep will send them): %s",
                       delivery_ids[:10], exc)


def attempt(delivery_id: int) -> Delivery | None:
    """Send a pending delivery once; record the outcome and when to try again. Returns the
    delivery, or None when it was not pending (sent meanwhile, or resent and claimed)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING,
                                      next_attempt_at__lte=now)\
        .update(next_attempt_at=now + timedelta(minutes=5))  # claimed while it runs
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(time.time())
    headers = {"X-Soc-Event": delivery.event, "X-Soc-Delivery": delivery.payload["id"],
               "X-Soc-Signature": signature(hook.secret, stamp, body)}
    try:
        answer = post_json(hook.url, body, headers, allow_private=hook.allow_private)
        status, latency, error, ok = answer.status, answer.latency_ms, answer.error, answer.ok
    except OutboundError as exc:
        status, latency, error, ok = None, None, str(exc), False
    delivery.attempts += 1
    delivery.last_status, delivery.last_latency_ms, delivery.last_error = status, latency, error
    if ok:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = \
            Delivery.State.DELIVERED, timezone.now(), None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
    else:
        delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
    with transaction.atomic():
        delivery.save(update_fields=["attempts", "last_status", "last_latency_ms",
                                     "last_error", "state", "delivered_at", "next_attempt_at"])
        if delivery.request_id and delivery.state != Delivery.State.PENDING:
            _record_outcome(delivery)
    return delivery


def _record_outcome(delivery: Delivery) -> None:
    """A response action's delivery ended: say so where the request was made."""
    from .actions import source_target

    request = delivery.request
    target_type, target_id, label = source_target(request)
    done = delivery.state == Delivery.State.DELIVERED
    activity.record(
        actor=Actor.of_system(f"webhook {delivery.webhook.name}"[:100]),
        verb=f"{request.kind}.{'delivered' if done else 'failed'}", target_type=target_type,
        target_id=target_id, target_label=label, subscription_id=request.subscription_id,
        reason=(f"{delivery.webhook.name} answered HTTP {delivery.last_status}" if done else
                f"{delivery.webhook.name} failed after {delivery.attempts} attempts: "
                f"{delivery.last_error}")[:4000])


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1))


def resend(delivery: Delivery, *, actor: Actor, role) -> None:
    """Send a failed (or delivered) delivery again, from its first attempt."""
    _may_manage(role)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).exclude(state=Delivery.State.PENDING)\
            .update(state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now())
        activity.record(actor=actor, verb="webhook.resend", target_type="webhook",
                        target_id=delivery.webhook_id, target_label=delivery.webhook.name,
                        subscription_id=delivery.webhook.subscription_id,
                        after={"delivery": delivery.pk, "event": delivery.event})
        transaction.on_commit(lambda: _publish([delivery.pk]))


def due(now=None, limit=500) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat sweep sends them)."""
    now = now or timezone.now()
    return list(Delivery.objects.filter(state=Delivery.State.PENDING,
                                        next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
