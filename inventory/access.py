"""Fetching objects on behalf of a user: 404 for outsiders, 403 for a role without the right."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from inventory.models import Membership, Subscription
from inventory.roles import Perm, Role, role_allows


def role_for(user, subscription_id):
    """The user's role in a subscription, or None; cached on the user for the request."""
    if not user.is_authenticated:
        return None
    roles = getattr(user, "_soc_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("subscription_id", "role"))
        user._soc_roles = roles
    role = roles.get(subscription_id)
    return Role(role) if role else None


def subscriptions_for(user):
    return Subscription.objects.filter(memberships__user=user).order_by("name")


def check_perm(user, subscription_id, perm):
    """Raise Http404 for a non-member, PermissionDenied for a member whose role lacks `perm`."""
    role = role_for(user, subscription_id)
    if role is None:
        raise Http404("No such object.")
    if not role_allows(role, perm):
        raise PermissionDenied(f"Your role ({role.label}) may not do this.")
    return role


def get_for_user(queryset, user, pk, perm=Perm.VIEW, subscription_field="subscription_id"):
    """The one implementation behind every get_<model>_for_user."""
    try:
        obj = queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such object.") from None
    check_perm(user, getattr(obj, subscription_field), perm)
    return obj


def get_subscription_for_user(user, pk, perm=Perm.VIEW):
    return get_for_user(Subscription.objects.all(), user, pk, perm, subscription_field="pk")
