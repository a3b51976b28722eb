from inventory.models import Membership
from inventory.people import pending_invitations
from inventory.roles import Perm, Role, role_allows


def console(request):
    """The navigation's facts: the user's subscriptions and roles, and the current one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(Membership.objects.filter(user=user).select_related("subscription")
                       .order_by("subscription__name"))
    match = getattr(request, "resolver_match", None)
    current_id = match.kwargs.get("sub") if match else None
    current = next((m for m in memberships if m.subscription_id == current_id), None)
    if current is None and memberships and current_id is None:
        current = memberships[0]
    role = Role(current.role) if current else None
    return {
        # Called only where a template shows it (the banner in base.html).
        "invitation_count": lambda: pending_invitations(user).count(),
        "memberships": memberships,
        "current_membership": current,
        "current_subscription": current.subscription if current else None,
        "current_role": role,
        "can": {p.value: role_allows(role, p) for p in Perm} if role else {},
    }
