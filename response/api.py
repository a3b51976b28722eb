"""The blocklist over the API: what is blocked, block, unblock (`act` scope to change)."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, StrictBool, StrictInt

from alerts.models import Alert
from incidents.models import Incident
from inventory.activity import Actor
from inventory.api import acting_on
from inventory.roles import Perm
from inventory.tokens import token_allows, token_role
from socconsole.lib.apierrors import ApiError, ErrorOut
from socconsole.lib.ids import MAX_ID, ApiId

from .blocklist import DEFAULT_DAYS, MAX_DAYS, MAX_TEXT, BlockError, block, live_entries, unblock
from .models import BlockEntry, Delivery, Webhook
from .webhooks import WebhookError, create_webhook, delete_webhook

router = Router(tags=["blocklist"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class BlockEntryOut(Schema):
    id: int
    address: str = Field(description="As the feed serves it: a lone address without /32.")
    network: str = Field(description="Canonical CIDR.")
    reason: str
    alert_id: int | None
    incident_id: int | None
    created_by: str
    confirmed_by_lead: bool
    created_at: datetime
    expires_at: datetime


class BlockList(Schema):
    entries: list[BlockEntryOut]


class BlockIn(Schema):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(..., max_length=64, examples=["203.0.113.87"],
                         description="An IPv4 or IPv6 address or CIDR range.")
    reason: str = Field(..., max_length=MAX_TEXT)
    days: StrictInt = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="Until it expires.")
    alert_id: ApiId | None = Field(None, description="The alert it comes from, if any.")
    incident_id: ApiId | None = Field(None, description="The incident it comes from, if any.")
    confirm: StrictBool = Field(False, description="A shift lead's confirmation of a block "
                                "the guardrails hold back (private or wider than /24, /48).")


class BlockOut(Schema):
    created: bool
    entry: BlockEntryOut


class UnblockFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=MAX_TEXT)


def _out(entry: BlockEntry) -> dict:
    return {"id": entry.pk, "address": entry.address, "network": entry.network,
            "reason": entry.reason, "alert_id": entry.alert_id,
            "incident_id": entry.incident_id, "created_by": entry.created_by_label,
            "confirmed_by_lead": entry.confirmed_by_id is not None,
            "created_at": entry.created_at, "expires_at": entry.expires_at}


@router.get("/blocklist", response={200: BlockList, 403: ErrorOut})
def list_blocklist(request):
    """The live entries of the token's subscription, newest first (what the feed serves,
    before the never-block list is applied)."""
    token = request.auth
    if not (token_allows(token, Perm.VIEW) or token_allows(token, Perm.RESPOND)):
        raise PermissionDenied("This token may not read the blocklist: it needs the read "
                               "or act scope.")
    entries = live_entries(token.subscription_id).order_by("-created_at")[:5000]
    return {"entries": [_out(e) for e in entries]}


@router.post("/blocklist", response={200: BlockOut, 201: BlockOut, 400: ErrorOut,
                                    403: ErrorOut})
def post_blocklist(request, body: BlockIn):
    """Block an address or range (201), or say it was already blocked (200)."""
    token = request.auth
    if not token_allows(token, Perm.RESPOND):
        raise PermissionDenied("This token may not block: it needs the act scope and a role "
                               "that responds (analyst or shift lead).")
    alert = incident = None
    if body.alert_id is not None:
        alert = Alert.objects.filter(subscription_id=token.subscription_id,
                                     pk=body.alert_id).first()
        if alert is None:
            raise ApiError(400, "invalid", "alert_id: no such alert.", "alert_id")
    if body.incident_id is not None:
        incident = Incident.objects.filter(subscription_id=token.subscription_id,
                                           pk=body.incident_id).first()
        if incident is None:
            raise ApiError(400, "invalid", "incident_id: no such incident.", "incident_id")
    try:
        entry, created = block(token.subscription, body.address, actor=Actor.of_token(token),
                               role=token_role(token), reason=body.reason, days=body.days,
                               alert=alert, incident=incident, confirm=body.confirm)
    except BlockError as exc:
        raise ApiError(400, "needs_lead" if exc.needs_lead else "refused", str(exc),
                       "address") from exc
    return Status(201 if created else 200, {"created": created, "entry": _out(entry)})


@router.delete("/blocklist/{entry_id}", response={204: None, **ERRORS})
def delete_blocklist(request, filters: Query[UnblockFilters],
                     entry_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """Take an entry off the blocklist (idempotent: an entry already off answers 204)."""
    entry = acting_on(request, BlockEntry.objects.all(), entry_id, Perm.RESPOND)
    token = request.auth
    try:
        unblock(entry, actor=Actor.of_token(token), role=token_role(token),
                reason=filters.reason)
    except BlockError as exc:
        raise ApiError(400, "refused", str(exc)) from exc
    return Status(204, None)


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    allow_private: bool
    enabled: bool
    created_at: datetime


class WebhookList(Schema):
    webhooks: list[WebhookOut]


class WebhookIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., max_length=120)
    url: str = Field(..., max_length=2000, examples=["https://automation.example.com/soc"])
    secret: str = Field(..., min_length=16, max_length=200,
                        description="Signs each delivery (HMAC-SHA256); never returned.")
    events: list[str] = Field(..., min_length=1, max_length=20)
    allow_private: StrictBool = False


class DeliveryOut(Schema):
    id: int
    webhook_id: int
    event: str
    state: str
    attempts: int
    last_status: int | None
    last_latency_ms: float | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(Schema):
    deliveries: list[DeliveryOut]


def _hook_out(h: Webhook) -> dict:
    return {"id": h.pk, "name": h.name, "url": h.url, "events": h.events,
            "allow_private": h.allow_private, "enabled": h.enabled, "created_at": h.created_at}


def _admin_token(request):
    token = request.auth
    if not token_allows(token, Perm.ADMINISTER):
        raise PermissionDenied("Webhooks are managed with the admin scope (an admin's token).")
    return token


@router.get("/webhooks", response={200: WebhookList, 403: ErrorOut}, tags=["webhooks"])
def list_webhooks(request):
    token = _admin_token(request)
    return {"webhooks": [_hook_out(h) for h in
                         Webhook.objects.filter(subscription_id=token.subscription_id)]}


@router.post("/webhooks", response={201: WebhookOut, 400: ErrorOut, 403: ErrorOut},
             tags=["webhooks"])
def post_webhook(request, body: WebhookIn):
    """Register an endpoint for chosen events (see docs/response.md for the signature)."""
    token = _admin_token(request)
    try:
        hook = create_webhook(token.subscription, name=body.name, url=body.url,
                              secret=body.secret, events=body.events,
                              allow_private=body.allow_private, actor=Actor.of_token(token),
                              role=token_role(token))
    except WebhookError as exc:
        raise ApiError(400, "invalid", str(exc)) from exc
    return Status(201, _hook_out(hook))


@router.delete("/webhooks/{webhook_id}", response={204: None, **ERRORS}, tags=["webhooks"])
def delete_webhook_api(request, webhook_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    token = _admin_token(request)
    hook = Webhook.objects.filter(subscription_id=token.subscription_id, pk=webhook_id).first()
    if hook is None:
        raise Http404
    delete_webhook(hook, actor=Actor.of_token(token), role=token_role(token))
    return Status(204, None)


@router.get("/webhook-deliveries", response={200: DeliveryList, 403: ErrorOut},
            tags=["webhooks"])
def list_deliveries(request):
    """The latest 200 deliveries of the subscription's webhooks, newest first."""
    token = _admin_token(request)
    rows = Delivery.objects.filter(webhook__subscription_id=token.subscription_id)\
        .order_by("-created_at", "-id")[:200]
    return {"deliveries": [{
        "id": d.pk, "webhook_id": d.webhook_id, "event": d.event, "state": d.state,
        "attempts": d.attempts, "last_status": d.last_status,
        "last_latency_ms": d.last_latency_ms, "last_error": d.last_error,
        "created_at": d.created_at, "delivered_at": d.delivered_at} for d in rows]}
