"""Rejected items: what a producer got wrong, kept 7 days, replayable after a fix."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from alerts.ingest.parse import InvalidJSON, RawItem, loads
from alerts.ingest.store import ItemResult, ingest_items
from alerts.models import RejectedItem
from inventory import activity
from inventory.activity import Actor
from inventory.models import ApiToken, Subscription
from socconsole.lib.paging import Page, keyset_page

RETENTION = timedelta(days=7)


class RejectedError(Exception):
    """A replay that cannot be done; the message is fit for the user."""


def rejected_page(subscription: Subscription, token: ApiToken | str | None = None,
                  cursor: str | None = None, code: str = "") -> Page:
    """Rejected items of a subscription, newest first; `token` a token, "none" (items
    from the command line) or None (all); `code` one rejection code, or all."""
    qs = RejectedItem.objects.filter(subscription=subscription).select_related("token")\
        .defer("body")
    if code:
        qs = qs.filter(code=code)
    if token == "none":
        qs = qs.filter(token__isnull=True)
    elif token is not None:
        qs = qs.filter(token=token)
    return keyset_page(qs, ("-received_at", "-id"), cursor, size=50)


def replay_rejected(item: RejectedItem, *, actor: Actor) -> ItemResult:
    """Ingest a rejected item again (after a fix); returns its ItemResult."""
    with transaction.atomic():
        item = RejectedItem.objects.select_for_update().get(pk=item.pk)
        if item.replayed_at is not None and item.replay_result.get("status") != "rejected":
            raise RejectedError("This item was already replayed and accepted.")
        raw = bytes(item.body)
        try:
            data = loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            data = InvalidJSON(f"This item is not valid JSON: {exc}")
        report = ingest_items(item.subscription, [RawItem(0, raw, data)], actor=actor,
                              token=item.token, source="replay", format=item.format or None,
                              keep_rejected=False, origin=item.source)
        result = report.results[0]
        item.replayed_at = timezone.now()
        item.replay_result = result.as_dict()
        item.save(update_fields=["replayed_at", "replay_result"])
        activity.record(actor=actor, verb="rejected.replay", target_type="rejected_item",
                        target_id=item.pk, target_label=f"{item.code} item {item.index}",
                        subscription=item.subscription, after=item.replay_result)
    return result


def purge_rejected(now: datetime | None = None) -> int:
    """Forget rejected items older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    return RejectedItem.objects.filter(received_at__lt=cutoff).delete()[0]
