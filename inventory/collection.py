"""Data collection: automatic provisioning per subscription, and each resource's state.

As in the product this is modelled on, turning automatic provisioning Off only decides
what happens to resources first seen afterwards; resources that already collect keep
collecting ("disabling automatic provisioning does not remove the agent").
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Resource, ResourceHostName, Subscription
from inventory.roles import Perm, Role, role_allows
from inventory.subscriptions import InventoryError

MAX_REASON = 500


class CollectionError(InventoryError):
    """A data-collection change that cannot be made; the message is for users."""


def _check(role: Role | None, reason: str) -> str:
    """`role` is the actor's in the subscription (Role.ADMIN for scripts run by an
    operator); only an admin changes data collection."""
    if not role_allows(role, Perm.ADMINISTER):
        raise PermissionDenied("Only an admin of the subscription may change data "
                               "collection.")
    reason = (reason or "").strip()
    if not reason:
        raise CollectionError("Give a reason: it is written to the activity log.")
    if len(reason) > MAX_REASON:
        raise CollectionError(f"A reason is at most {MAX_REASON} characters.")
    return reason


def set_auto_provisioning(subscription: Subscription, *, on: bool, actor: Actor, reason: str,
                          role: Role | None) -> bool:
    """Switch automatic provisioning for `subscription`; True if it changed.

    Resources already known keep their collection state either way.
    """
    if not isinstance(on, bool):
        raise CollectionError("Automatic provisioning is on or off.")
    reason = _check(role, reason)
    with transaction.atomic():
        current = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if current.auto_provisioning == on:
            return False
        now = timezone.now()
        Subscription.objects.filter(pk=subscription.pk).update(
            auto_provisioning=on, auto_provisioning_since=now, auto_provisioning_by=actor.user)
        subscription.auto_provisioning, subscription.auto_provisioning_since = on, now
        subscription.auto_provisioning_by = actor.user
        activity.record(
            actor=actor, verb="subscription.auto_provisioning", target_type="subscription",
            target_id=subscription.pk, target_label=subscription.name,
            subscription=subscription, reason=reason,
            before={"auto_provisioning": "on" if current.auto_provisioning else "off"},
            after={"auto_provisioning": "on" if on else "off",
                   "still_collecting": Resource.objects.filter(
                       subscription=subscription, collecting=True).count()})
    return True


def set_collection(resource: Resource, *, on: bool, actor: Actor, reason: str,
                   role: Role | None) -> bool:
    """Turn data collection on or off for one resource by hand; True if it changed."""
    if not isinstance(on, bool):
        raise CollectionError("Collection is on or off.")
    reason = _check(role, reason)
    with transaction.atomic():
        current = Resource.objects.select_for_update().get(pk=resource.pk)
        if current.collecting == on:
            return False
        now = timezone.now()
        Resource.objects.filter(pk=resource.pk).update(
            collecting=on, collecting_since=now, collection_by=Resource.CollectionBy.BY_HAND,
            collection_changed_by=actor.user)
        resource.collecting, resource.collecting_since = on, now
        resource.collection_by = Resource.CollectionBy.BY_HAND
        resource.collection_changed_by = actor.user
        activity.record(
            actor=actor, verb="resource.collection", target_type="resource",
            target_id=resource.pk, target_label=resource.name,
            subscription_id=resource.subscription_id, reason=reason,
            before={"collecting": current.collecting}, after={"collecting": on})
    return True


def collecting_for_new(subscription_id: int) -> bool:
    """Whether a resource first seen now starts collecting (read fresh: the switch may
    have been turned since the caller loaded its subscription)."""
    return bool(Subscription.objects.filter(pk=subscription_id).values_list(
        "auto_provisioning", flat=True).first())


PROVISIONING = Actor.of_system("automatic provisioning")


def record_first_seen(subscription_id: int, resources: list[tuple[int, str]], *,
                      collecting: bool, seen_in: str) -> None:
    """One activity entry per resource first seen in `seen_in` ("events", "an alert"):
    whether it started collecting, as automatic provisioning said. In the transaction
    that creates the resources."""
    state = "collecting" if collecting else "not monitored"
    reason = (f"First seen in {seen_in}; automatic provisioning is "
              f"{'on' if collecting else 'off'}, so it is {state}.")
    activity.record_many([
        {"actor": PROVISIONING, "verb": "resource.provision", "target_type": "resource",
         "target_id": pk, "target_label": name, "subscription_id": subscription_id,
         "reason": reason, "after": {"collecting": collecting, "how": "automatic"}}
        for pk, name in resources])


def provision_hosts(subscription_id: int, names: list[str]) -> dict[str, Resource]:
    """Resources for host `names` seen in events and known under no resource: a virtual
    machine each, collecting as automatic provisioning says. {lower-case name: Resource}."""
    collecting = collecting_for_new(subscription_id)
    made = {}
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        key = name.lower()[:255]
        with transaction.atomic():
            resource = Resource.objects.create(
                subscription_id=subscription_id, kind=Resource.Kind.VIRTUAL_MACHINE,
                name=name[:255], collecting=collecting)
            # The host name is unique per subscription: a concurrent batch that named the
            # same machine first keeps its resource, and ours is undone.
            _, created = ResourceHostName.objects.get_or_create(
                subscription_id=subscription_id, name=key, defaults={"resource": resource})
            if not created:
                resource.delete()
                resource = Resource.objects.get(host_names__subscription_id=subscription_id,
                                                host_names__name=key)
            else:
                record_first_seen(subscription_id, [(resource.pk, resource.name)],
                                  collecting=collecting, seen_in="events")
        made[key] = resource
    return made

