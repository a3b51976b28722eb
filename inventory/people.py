"""Memberships: granting, changing and removing a person's role in a subscription, and the
invitations through which an admin offers one."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Invitation, Membership
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


INVITATION_DAYS = 14


def invite(*, subscription, username: str, role, actor, reason: str = "") -> Invitation:
    """Offer `role` in `subscription` to whoever signs in as `username`. Whether such a user
    exists is neither checked nor told: nothing is granted until they accept. A second
    invitation of the same name replaces the pending one (new role, new expiry)."""
    try:
        role = Role(role)
    except ValueError:
        raise InventoryError(f"Unknown role {role!r}: use {', '.join(Role)}.") from None
    username = username.strip()
    if not username:
        raise InventoryError("Name the person to invite.")
    expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
    with transaction.atomic():
        invitation = (Invitation.objects.select_for_update()
                      .filter(subscription=subscription, username=username,
                              state=Invitation.State.PENDING).first())
        before = {"role": invitation.role} if invitation else None
        if invitation:
            invitation.role, invitation.expires_at, invitation.reason = role, expires_at, reason
            invitation.invited_by = actor.user
            invitation.save(update_fields=["role", "expires_at", "reason", "invited_by"])
        else:
            invitation = Invitation.objects.create(
                subscription=subscription, username=username, role=role, reason=reason,
                invited_by=actor.user, expires_at=expires_at)
        activity.record(
            actor=actor, verb="invitation.create" if before is None else "invitation.change",
            target_type="invitation", target_id=invitation.pk, target_label=username,
            subscription=subscription, reason=reason, before=before,
            after={"role": role.value, "expires_at": expires_at.isoformat()})
    return invitation


def pending_invitations(user):
    """The invitations `user` may accept now, newest first."""
    return (Invitation.objects.filter(username=user.get_username(),
                                      state=Invitation.State.PENDING,
                                      expires_at__gt=timezone.now())
            .select_related("subscription", "invited_by").order_by("-created_at"))


def _answer(invitation_id: int, user, state) -> Invitation:
    invitation = (Invitation.objects.select_for_update().select_related("subscription")
                  .filter(pk=invitation_id, username=user.get_username()).first())
    if invitation is None or not user.is_active:
        raise InventoryError("There is no such invitation for you.")
    if invitation.state != Invitation.State.PENDING:
        raise InventoryError(f"That invitation was {invitation.state} already.")
    if invitation.expires_at <= timezone.now():
        raise InventoryError("That invitation has expired: ask the admin for a new one.")
    invitation.state, invitation.answered_at = state, timezone.now()
    invitation.save(update_fields=["state", "answered_at"])
    return invitation


def accept_invitation(invitation_id: int, *, user) -> Membership:
    """`user` accepts an invitation to their name: they get its role in its subscription."""
    actor = Actor.of_user(user)
    with transaction.atomic():
        invitation = _answer(invitation_id, user, Invitation.State.ACCEPTED)
        inviter = invitation.invited_by.get_username() if invitation.invited_by else "an admin"
        membership = grant_role(subscription=invitation.subscription, user=user,
                                role=invitation.role, actor=actor,
                                reason=f"accepted the invitation of {inviter}")
        activity.record(actor=actor, verb="invitation.accept", target_type="invitation",
                        target_id=invitation.pk, target_label=invitation.username,
                        subscription=invitation.subscription, after={"role": invitation.role})
    return membership


def decline_invitation(invitation_id: int, *, user) -> Invitation:
    actor = Actor.of_user(user)
    with transaction.atomic():
        invitation = _answer(invitation_id, user, Invitation.State.DECLINED)
        activity.record(actor=actor, verb="invitation.decline", target_type="invitation",
                        target_id=invitation.pk, target_label=invitation.username,
                        subscription=invitation.subscription)
    return invitation


def revoke_invitation(invitation, *, actor, reason: str = "") -> bool:
    """An admin withdraws a pending invitation; False when it was not pending any more."""
    with transaction.atomic():
        changed = Invitation.objects.filter(pk=invitation.pk, state=Invitation.State.PENDING)\
            .update(state=Invitation.State.REVOKED, answered_at=timezone.now())
        if changed:
            activity.record(actor=actor, verb="invitation.revoke", target_type="invitation",
                            target_id=invitation.pk, target_label=invitation.username,
                            subscription_id=invitation.subscription_id, reason=reason,
                            before={"role": invitation.role})
    return bool(changed)
