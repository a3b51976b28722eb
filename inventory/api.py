from datetime import datetime

from django.core.exceptions import PermissionDenied
from ninja import Field, Path, Query, Router, Schema
from pydantic import StrictBool

from inventory.activity import Actor
from inventory.collection import MAX_REASON, CollectionError, set_collection
from inventory.models import Resource, Subscription
from inventory.roles import Perm
from inventory.tokens import token_allows, token_role
from socconsole.lib.apierrors import ApiError
from socconsole.lib.ids import MAX_ID, ApiId
from socconsole.lib.paging import keyset_page

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


class ResourceStateOut(Schema):
    id: int
    name: str
    kind: str
    external_id: str | None
    owner: str | None
    collecting: bool
    collecting_since: datetime
    collection_by: str
    changed_by: str | None
    last_event_at: datetime | None


class ResourceStateList(Schema):
    items: list[ResourceStateOut]
    next_cursor: str | None = None


class ResourceFilters(Schema):
    kind: Resource.Kind | None = None
    collecting: bool | None = None
    cursor: str | None = Field(None, max_length=400)
    limit: int = Field(50, ge=1, le=500)


class CollectionIn(Schema):
    # Both required, but checked after the lookup: another subscription's id is a 404
    # whatever the body says.
    collecting: StrictBool | None = None
    reason: str | None = Field(None, max_length=MAX_REASON)


def _resource(resource: Resource) -> dict:
    return {"id": resource.pk, "name": resource.name, "kind": resource.kind,
            "external_id": resource.external_id or None, "owner": resource.owner or None,
            "collecting": resource.collecting, "collecting_since": resource.collecting_since,
            "collection_by": resource.collection_by,
            "changed_by": resource.collection_changed_by.get_username()
            if resource.collection_changed_by else None,
            "last_event_at": resource.last_event_at}


@router.get("/resources", response=ResourceStateList, tags=["resources"])
def list_resources(request, filters: Query[ResourceFilters]):
    """The subscription's resources by name, with their data-collection state. Keyset
    cursor in `next_cursor`; `collecting=false` lists the resources not monitored."""
    subscription = require(request, Perm.VIEW)
    resources = Resource.objects.filter(subscription=subscription).select_related(
        "collection_changed_by")
    if filters.kind:
        resources = resources.filter(kind=filters.kind)
    if filters.collecting is not None:
        resources = resources.filter(collecting=filters.collecting)
    page = keyset_page(resources, ("name", "id"), filters.cursor, size=filters.limit)
    return {"items": [_resource(r) for r in page.items], "next_cursor": page.next_cursor}


@router.patch("/resources/{resource_id}", response=ResourceStateOut, tags=["resources"])
def patch_resource(request, resource_id: ApiId = Path(..., ge=1, le=MAX_ID),
                   body: CollectionIn = None):
    """Turn data collection on or off for one resource by hand, with a reason (scope
    `admin`). Audited; answers the resource as it now is."""
    resource = acting_on(request, Resource.objects.select_related("collection_changed_by"),
                         resource_id, Perm.ADMINISTER)
    body = body or CollectionIn()
    if body.collecting is None:
        raise ApiError(400, "invalid", "Say whether it collects: true or false.", "collecting")
    reason = (body.reason or "").strip()
    if not reason:
        raise ApiError(400, "invalid", "Give a reason: it is written to the activity log.",
                       "reason")
    try:
        set_collection(resource, on=body.collecting, actor=Actor.of_token(request.auth),
                       reason=reason, role=token_role(request.auth))
    except CollectionError as exc:
        raise ApiError(400, "invalid", str(exc), "reason") from exc
    return _resource(resource)
