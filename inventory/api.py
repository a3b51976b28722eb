from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from ninja import Field, Path, Router, Schema
from pydantic import ConfigDict

from inventory import plans
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm
from inventory.subscriptions import InventoryError
from inventory.tokens import token_allows, token_role
from socconsole.lib.apierrors import ApiError, ErrorOut
from socconsole.lib.ids import MAX_ID, ApiId

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
    # Required, but checked after the subscription is found: another one's is a 404 first.
    reason: str = Field("", max_length=plans.MAX_REASON,
                        description="Why; kept in the activity log. Required to change a "
                        "setting.")


# Each setting PATCH takes: the domain function that changes it (`on=`, actor, reason, role).
SETTERS = {
    "defender_plan": plans.set_defender_plan,
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
