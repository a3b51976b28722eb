"""Creating subscriptions and their default workspace."""

import uuid

from django.db import IntegrityError, transaction

from inventory import activity
from inventory.activity import Actor
from inventory.models import Subscription, Workspace


class InventoryError(Exception):
    """A request on subscriptions, people or tokens that cannot be honoured."""


def create_subscription(*, name: str, actor: Actor, external_id: str | None = None,
                        reason: str = "") -> Subscription:
    name = (name or "").strip()
    if not name:
        raise InventoryError("A subscription needs a name.")
    if external_id:
        try:
            external_id = uuid.UUID(str(external_id))
        except ValueError:
            raise InventoryError(f"{external_id!r} is not a subscription GUID.") from None
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(name=name, external_id=external_id)
            Workspace.objects.create(subscription=subscription, name=f"{name}-default",
                                     workspace_id=uuid.uuid4(), is_default=True)
            activity.record(
                actor=actor, verb="subscription.create", target_type="subscription",
                target_id=subscription.pk, target_label=name, subscription=subscription,
                reason=reason,
                after={"name": name, "external_id": str(external_id) if external_id else None},
            )
    except IntegrityError:
        raise InventoryError(
            f"A subscription named {name!r} or with that GUID already exists.") from None
    return subscription


MAX_RETENTION_DAYS = 3650


def create_workspace(*, subscription: Subscription, name: str, actor: Actor,
                     retention_days: int = 90, reason: str = "") -> Workspace:
    """Add a workspace to `subscription` (its first becomes the default)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InventoryError("A workspace needs a name of at most 120 characters.")
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise InventoryError(f"Retention is 1 to {MAX_RETENTION_DAYS} days.")
    try:
        with transaction.atomic():
            is_default = not subscription.workspaces.filter(is_default=True).exists()
            workspace = Workspace.objects.create(
                subscription=subscription, name=name, workspace_id=uuid.uuid4(),
                is_default=is_default, retention_days=retention_days)
            activity.record(
                actor=actor, verb="workspace.create", target_type="workspace",
                target_id=workspace.pk, target_label=name, subscription=subscription,
                reason=reason, after={"name": name, "workspace_id": str(workspace.workspace_id),
                                      "retention_days": retention_days})
    except IntegrityError:
        raise InventoryError(f"{subscription.name} already has a workspace named {name!r}.") \
            from None
    return workspace


def set_retention(workspace: Workspace, days: int, *, actor: Actor,
                  reason: str = "") -> Workspace:
    """Keep `workspace`'s events `days` days after ingestion."""
    if not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise InventoryError(f"Retention is 1 to {MAX_RETENTION_DAYS} days.")
    with transaction.atomic():
        before = Workspace.objects.select_for_update().get(pk=workspace.pk).retention_days
        if before == days:
            return workspace
        Workspace.objects.filter(pk=workspace.pk).update(retention_days=days)
        workspace.retention_days = days
        activity.record(actor=actor, verb="workspace.retention", target_type="workspace",
                        target_id=workspace.pk, target_label=workspace.name,
                        subscription_id=workspace.subscription_id, reason=reason,
                        before={"retention_days": before}, after={"retention_days": days})
    return workspace
