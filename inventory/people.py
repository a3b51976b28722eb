"""Memberships: granting, changing and removing a person's role in a subscription."""

from django.db import transaction

from inventory import activity
from inventory.models import Membership
from inventory.roles import Role
from inventory.subscriptions import InventoryError


def grant_role(*, subscription, user, role, actor, reason=""):
    """Give `user` `role` in `subscription` (creating or changing the membership)."""
    try:
        role = Role(role)
    except ValueError:
        raise InventoryError(f"Unknown role {role!r}: use {', '.join(Role)}.") from None
    with transaction.atomic():
        membership = (Membership.objects.select_for_update()
                      .filter(user=user, subscription=subscription).first())
        before = {"role": membership.role} if membership else None
        if membership and membership.role == role:
            return membership
        if membership:
            membership.role = role
            membership.save(update_fields=["role"])
        else:
            membership = Membership.objects.create(user=user, subscription=subscription,
                                                   role=role)
        activity.record(
            actor=actor, verb="membership.grant" if before is None else "membership.change",
            target_type="user", target_id=user.pk, target_label=user.get_username(),
            subscription=subscription, reason=reason, before=before, after={"role": role.value},
        )
    return membership


def remove_member(*, subscription, user, actor, reason=""):
    with transaction.atomic():
        membership = (Membership.objects.select_for_update()
                      .filter(user=user, subscription=subscription).first())
        if membership is None:
            return False
        membership.delete()
        activity.record(
            actor=actor, verb="membership.remove", target_type="user", target_id=user.pk,
            target_label=user.get_username(), subscription=subscription, reason=reason,
            before={"role": membership.role}, after=None,
        )
    return True
