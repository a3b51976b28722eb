"""Memberships: granting, changing and removing a person's role in a subscription, and the
invitations through which an admin offers one."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Invitation, Membership, PasswordLink, Subscription
from inventory.password_links import issue_link
from inventory.roles import Role
from inventory.subscriptions import InventoryError


def _keep_an_admin(subscription, membership: Membership, new_role: Role | None) -> None:
    """Refuse to demote or remove the subscription's last admin: nobody could then manage
    its people, tokens or settings. Called with the membership's row locked."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    # Serialise every admin's demotion in this subscription on its row: two admins
    # demoting each other at once must not both succeed.
    list(Subscription.objects.select_for_update().filter(pk=subscription.pk)
         .values_list("pk", flat=True))
    if not Membership.objects.filter(subscription=subscription, role=Role.ADMIN)\
            .exclude(pk=membership.pk).exists():
        who = membership.user.get_username()
        raise InventoryError(f"{who} is the last admin of {subscription.name}: make another "
                             f"member admin first, then change or remove {who}.")


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
            _keep_an_admin(subscription, membership, role)
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
    """Take `user` out of `subscription`; False when they were not a member. The last admin
    cannot be removed (InventoryError)."""
    with transaction.atomic():
        membership = (Membership.objects.select_for_update().select_related("user")
                      .filter(user=user, subscription=subscription).first())
        if membership is None:
            return False
        _keep_an_admin(subscription, membership, None)
        membership.delete()
        activity.record(
            actor=actor, verb="membership.remove", target_type="user", target_id=user.pk,
            target_label=user.get_username(), subscription=subscription, reason=reason,
            before={"role": membership.role}, after=None,
        )
    return True


INVITATION_DAYS = 14


def invite(*, subscription, username: str, role, actor, reason: str = "",
           email: str = "") -> tuple[Invitation, str]:
    """Offer `role` in `subscription` to whoever signs in as `username`; returns the
    invitation and a set-password link (an absolute URL, to show once).

    Whether such a user exists is neither checked nor told: nothing is granted until they
    accept, and the answer is the same either way. A name with no account gets one, with no
    usable password, and the link sets its password and accepts the invitation. A name that
    has an account gets a link that sets nothing: its owner signs in as they always do.
    A second invitation of the same name replaces the pending one (new role, new expiry)."""
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
        person = _account_for_invitation(subscription, username, email, actor)
        _, url = issue_link(username=username, user=person, subscription=subscription,
                            invitation=invitation, actor=actor)
    return invitation, url


def _account_for_invitation(subscription, username: str, email: str, actor: Actor):
    """The account a set-password link may set: a new one, or one this subscription's
    invitation created that was never used. None for anybody else's account."""
    users = get_user_model().objects
    existing = users.filter(username__iexact=username).first()
    if existing is None:
        try:
            with transaction.atomic():
                person = users.create(username=username, email=email.strip())
                person.set_unusable_password()
                person.save(update_fields=["password"])
                # Outside any subscription's log: that log is the inviting admin's to read.
                activity.record(actor=actor, verb="user.create", target_type="user",
                                target_id=person.pk, target_label=username,
                                reason=f"invited to {subscription.name}")
            return person
        except IntegrityError:  # invited elsewhere at the same moment
            return None
    if not existing.has_usable_password() and existing.last_login is None and \
            PasswordLink.objects.filter(user=existing, subscription=subscription).exists():
        return existing  # a new link for the person this subscription brought in
    return None


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
            # Its set-password link goes with it: the person was never to get in.
            PasswordLink.objects.filter(invitation=invitation, used_at__isnull=True)\
                .update(expires_at=timezone.now())
            activity.record(actor=actor, verb="invitation.revoke", target_type="invitation",
                            target_id=invitation.pk, target_label=invitation.username,
                            subscription_id=invitation.subscription_id, reason=reason,
                            before={"role": invitation.role})
    return bool(changed)
