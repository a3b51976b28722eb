"""Outgoing webhooks (playbooks): register an endpoint for chosen events; each event makes
one delivery per endpoint, signed, sent by Celery with retries and back-off, logged, and
never lost: one that keeps failing is marked failed and can be resent."""

import json
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows

from .models import Delivery, Webhook
from .outbound import OutboundError, check_url, post_json, signature

EVENTS = {
    "alert.created": "An alert is created",
    "incident.created": "Correlation makes an incident",
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


def may_manage(role):
    if not role_allows(role, Perm.DETECTIONS):
        raise WebhookError("Only shift leads and admins manage webhooks.")


def create_webhook(subscription: Subscription, *, name: str, url: str, secret: str,
                   events, allow_private: bool, actor: Actor, role) -> Webhook:
    may_manage(role)
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
    may_manage(role)
    with transaction.atomic():
        activity.record(actor=actor, verb="webhook.delete", target_type="webhook",
                        target_id=hook.pk, target_label=hook.name,
                        subscription_id=hook.subscription_id, before={"url": hook.url})
        hook.delete()


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
    request = delivery.request
    target_type, target_id, label = request.timeline_target()
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


def due(now=None, limit=500) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat sweep sends them)."""
    now = now or timezone.now()
    return list(Delivery.objects.filter(state=Delivery.State.PENDING,
                                        next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
