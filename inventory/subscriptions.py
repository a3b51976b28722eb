"""Creating subscriptions and their default workspace."""

import uuid

from django.db import IntegrityError, transaction

from inventory import activity
from inventory.models import Subscription, Workspace


class InventoryError(Exception):
    """A request on subscriptions, people or tokens that cannot be honoured."""


def create_subscription(*, name, actor, external_id=None, reason=""):
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
