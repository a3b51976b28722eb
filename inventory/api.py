from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict, StrictBool

from inventory import plans
from inventory.activity import Actor
from inventory.collection import (
    MAX_REASON,
    CollectionError,
    set_auto_provisioning,
    set_collection,
)
from inventory.models import Resource, Subscription
from inventory.roles import Perm
from inventory.subscriptions import InventoryError
from inventory.tokens import token_allows, token_role
from socconsole.lib.apierrors import ApiError, ErrorOut
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


OnOff = Literal["on", "off"]


class OffPeriodOut(Schema):
    off_at: datetime
    off_by: str
    reason_off: str
    on_at: datetime | None = Field(description="`null` while the plan is still off.")
    on_by: str
    reason_on: str


class SubscriptionOut(Schema):
    id: int
    name: str
    external_id: str | None
    defender_plan: OnOff
    auto_provisioning: OnOff


class SubscriptionList(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


class SettingsOut(Schema):
    subscription_id: int
    defender_plan: OnOff
    defender_plan_since: datetime
    defender_plan_changed_by: str | None = Field(description="Who changed it last; `null` "
                                                 "when it has not changed since creation.")
    defender_plan_off_periods: list[OffPeriodOut] = Field(
        description="The periods the plan was off, newest first (the last 20).")
    auto_provisioning: OnOff


class SettingsChangeOut(SettingsOut):
    changed: list[str] = Field(description="The settings this call changed (none when each "
                               "already had the value sent).")


class SettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt setting is refused, not dropped
    defender_plan: OnOff | None = Field(None, description="`off` refuses Microsoft alerts "
                                        "and custom detections (`defender_plan_off`).")
    auto_provisioning: OnOff | None = Field(None, description="`off`: a resource first seen "
                                            "from now on does not collect; its events are "
                                            "refused (`collection_off`).")
    # Required, but checked after the subscription is found: another one's is a 404 first.
    reason: str = Field("", max_length=plans.MAX_REASON,
                        description="Why; kept in the activity log. Required to change a "
                        "setting.")


# Each setting PATCH takes: the domain function that changes it (`on=`, actor, reason, role).
SETTERS = {
    "defender_plan": plans.set_defender_plan,
    "auto_provisioning": set_auto_provisioning,
}


def _subscription_out(sub: Subscription) -> dict:
    return {"id": sub.pk, "name": sub.name,
            "external_id": str(sub.external_id) if sub.external_id else None,
            "defender_plan": plans.word(sub.defender_plan),
            "auto_provisioning": plans.word(sub.auto_provisioning)}


def _settings_out(sub: Subscription) -> dict:
    return {
        "subscription_id": sub.pk,
        "defender_plan": plans.word(sub.defender_plan),
        "defender_plan_since": sub.defender_plan_since,
        "defender_plan_changed_by": sub.defender_plan_changed_by or None,
        "defender_plan_off_periods": [
            {"off_at": o.started_at, "off_by": o.started_by, "reason_off": o.reason_off,
             "on_at": o.ended_at, "on_by": o.ended_by, "reason_on": o.reason_on}
            for o in plans.off_periods(sub)],
        "auto_provisioning": plans.word(sub.auto_provisioning),
    }


@router.get("/subscriptions", response=SubscriptionList)
def list_subscriptions(request):
    """The subscriptions this token may see (a token belongs to one subscription), with
    their settings."""
    token = request.auth
    items = []
    if token_allows(token, Perm.VIEW) or token_allows(token, Perm.ADMINISTER):
        items.append(_subscription_out(Subscription.objects.get(pk=token.subscription_id)))
    return {"items": items, "next_cursor": None}


def _administered(request, subscription_id: int) -> Subscription:
    return acting_on(request, Subscription.objects.annotate(subscription_id=F("pk")),
                     subscription_id, Perm.ADMINISTER,
                     "Only an admin's token with the admin scope may see and change the "
                     "settings.")


@router.get("/subscriptions/{subscription_id}/settings",
            response={200: SettingsOut, 403: ErrorOut, 404: ErrorOut})
def get_settings(request, subscription_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """The Defender plan (with since when, who changed it, and when it was off) and
    automatic provisioning. Scope `admin`."""
    return _settings_out(_administered(request, subscription_id))


@router.patch("/subscriptions/{subscription_id}/settings",
              response={200: SettingsChangeOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def patch_settings(request, body: SettingsIn,
                   subscription_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """Change settings, with a reason: `{"defender_plan": "off", "reason": "…"}`. Each
    change is logged; a setting that already has the value sent changes nothing. An
    unknown key is a 400. Scope `admin`."""
    sub = _administered(request, subscription_id)
    token, changed = request.auth, []
    try:
        with transaction.atomic():  # all the settings sent, or none
            for name, setter in SETTERS.items():
                value = getattr(body, name)
                if value is not None and setter(sub, on=value == "on", actor=Actor.of_token(
                        token), reason=body.reason, role=token_role(token)):
                    changed.append(name)
    except InventoryError as exc:
        raise ApiError(400, "invalid", f"reason: {exc}", "reason") from exc
    return {**_settings_out(Subscription.objects.get(pk=sub.pk)), "changed": changed}


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
