from django.core.exceptions import PermissionDenied
from ninja import Router, Schema

from inventory.models import Subscription
from inventory.roles import Perm
from inventory.tokens import token_allows

router = Router(tags=["subscriptions"])


def require(request, perm):
    """The token's subscription, if the token (scopes ∩ current role) allows `perm`."""
    token = request.auth
    if not token_allows(token, perm):
        raise PermissionDenied(f"This token may not {Perm(perm).value}: it needs a scope "
                               "and a role that allow it.")
    return token.subscription


def acting_on(request, queryset, pk, perm, refusal=None):
    """The object (of `queryset`, in the token's subscription) a token acts on with `perm`:
    acting needs no `read` scope. A token that may neither read nor do `perm` learns
    nothing (403 before the lookup); one that may read learns only what reading would
    tell (404, then 403)."""
    from django.http import Http404

    token = request.auth
    refusal = refusal or f"This token may not {Perm(perm).value}: it needs a scope and a " \
        "role that allow it."
    if not (token_allows(token, Perm.VIEW) or token_allows(token, perm)):
        raise PermissionDenied(refusal)
    obj = queryset.filter(subscription_id=token.subscription_id, pk=pk).first()
    if obj is None:
        raise Http404
    if not token_allows(token, perm):
        raise PermissionDenied(refusal)
    return obj


class SubscriptionOut(Schema):
    id: int
    name: str
    external_id: str | None
    defender_plan: bool
    auto_provisioning: bool


class SubscriptionList(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


@router.get("/subscriptions", response=SubscriptionList)
def list_subscriptions(request):
    """The subscriptions this token may see (a token belongs to one subscription)."""
    token = request.auth
    items = []
    if token_allows(token, Perm.VIEW):
        sub = Subscription.objects.get(pk=token.subscription_id)
        items.append({"id": sub.pk, "name": sub.name,
                      "external_id": str(sub.external_id) if sub.external_id else None,
                      "defender_plan": sub.defender_plan,
                      "auto_provisioning": sub.auto_provisioning})
    return {"items": items, "next_cursor": None}
