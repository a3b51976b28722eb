from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_GET, require_POST

from alerts.models import Alert
from incidents.models import Incident
from inventory.access import get_for_user, get_subscription_for_user, role_for
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Perm, role_allows
from socconsole.errors import bad_request_page

from .actions import ActionError, request_action
from .blocklist import (
    DEFAULT_DAYS,
    BlockError,
    add_never_block,
    block,
    live_entries,
    published,
    remove_never_block,
    renew,
    unblock,
)
from .dispatch import resend
from .feeds import (
    FeedTokenError,
    create_feed_token,
    feed_url,
    revoke_feed_token,
    verify_feed_token,
)
from .forms import (
    ActionRequestForm,
    BlockForm,
    FeedTokenForm,
    NeverBlockForm,
    RenewForm,
    UnblockForm,
    WebhookForm,
)
from .models import BlockEntry, Delivery, FeedToken, NeverBlock, Webhook
from .webhooks import EVENTS, WebhookError, create_webhook, delete_webhook

NEW_FEED_COOKIE = "soc_new_feed"


def _context(subscription: Subscription, user, **extra) -> dict:
    now = timezone.now()
    role = role_for(user, subscription.pk)
    context = {
        "subscription": subscription,
        "entries": list(live_entries(subscription.pk, now)
                        .select_related("alert", "incident").order_by("-created_at")[:500]),
        "recent": list(BlockEntry.objects.filter(subscription=subscription)
                       .exclude(pk__in=live_entries(subscription.pk, now).values("pk"))
                       .select_related("alert", "incident").order_by("-changed_at")[:20]),
        "never_block": list(NeverBlock.objects.filter(subscription=subscription)),
        "may_block": role_allows(role, Perm.RESPOND),
        "may_confirm": role_allows(role, Perm.LEAD),
        "may_guard": role_allows(role, Perm.LEAD) or role_allows(role, Perm.ADMINISTER),
        "may_feed": role_allows(role, Perm.ADMINISTER),
        "now": now,
        "default_days": DEFAULT_DAYS,
        "form": BlockForm(initial={"days": DEFAULT_DAYS}),
        "never_form": NeverBlockForm(),
        "feed_form": FeedTokenForm(),
    }
    if context["may_feed"]:
        context["feed_tokens"] = list(FeedToken.objects.filter(subscription=subscription))
    context.update(extra)
    return context


@require_GET
def blocklist_page(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    context = _context(subscription, request.user)
    new = request.get_signed_cookie(NEW_FEED_COOKIE, default="", salt=NEW_FEED_COOKIE,
                                    max_age=60)
    if new:
        context["new_feed_url"] = new
    response = render(request, "response/blocklist.html", context)
    if new:
        response["Cache-Control"] = "no-store"  # the page holds a feed token's secret
        response.delete_cookie(NEW_FEED_COOKIE, path=request.path)
    return response


def _source(subscription_id: int, form_data: dict):
    """The alert and incident a block came from, each in the subscription (else 404)."""
    alert = incident = None
    if form_data.get("alert"):
        alert = Alert.objects.filter(subscription_id=subscription_id,
                                     pk=form_data["alert"]).first()
        if alert is None:
            raise Http404("No such object.")
    if form_data.get("incident"):
        incident = Incident.objects.filter(subscription_id=subscription_id,
                                           pk=form_data["incident"]).first()
        if incident is None:
            raise Http404("No such object.")
    return alert, incident


def _back(sub: int, alert, incident) -> str:
    if incident is not None:
        return reverse("incidents:detail", kwargs={"sub": sub, "incident_id": incident.pk})
    if alert is not None:
        return reverse("alerts:detail", kwargs={"sub": sub, "alert_id": alert.pk})
    return reverse("response:blocklist", kwargs={"sub": sub})


@require_POST
def block_view(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.RESPOND)
    form = BlockForm(request.POST)
    error = needs_lead = None
    if form.is_valid():
        data = form.cleaned_data
        alert, incident = _source(sub, data)
        try:
            entry, created = block(
                subscription, data["address"], actor=Actor.of_user(request.user),
                role=role_for(request.user, sub), reason=data["reason"], days=data["days"],
                alert=alert, incident=incident, confirm=data["confirm"])
        except BlockError as exc:
            error, needs_lead = str(exc), exc.needs_lead
        else:
            if created:
                messages.success(request, f"{entry.address} is on the blocklist until "
                                          f"{entry.expires_at:%Y-%m-%d %H:%M} UTC.")
            else:
                messages.info(request, f"{entry.address} was already on the blocklist, "
                                       f"until {entry.expires_at:%Y-%m-%d %H:%M} UTC.")
            return redirect(_back(sub, alert, incident))
    context = _context(subscription, request.user, form=form, block_error=error,
                       needs_lead=needs_lead)
    return render(request, "response/blocklist.html", context, status=400)


def _entry(request: HttpRequest, sub: int, entry_id: int) -> BlockEntry:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    return get_for_user(BlockEntry.objects.filter(subscription_id=sub)
                        .select_related("alert", "incident"), request.user, entry_id,
                        Perm.RESPOND)


@require_POST
def renew_view(request: HttpRequest, sub: int, entry_id: int) -> HttpResponse:
    entry = _entry(request, sub, entry_id)
    form = RenewForm(request.POST)
    if not form.is_valid():
        return _refused(request, entry.subscription, " ".join(
            e for errors in form.errors.values() for e in errors))
    try:
        renew(entry, actor=Actor.of_user(request.user), role=role_for(request.user, sub),
              days=form.cleaned_data["days"], reason=form.cleaned_data["reason"])
    except BlockError as exc:
        return _refused(request, entry.subscription, str(exc))
    messages.success(request, f"{entry.address} stays blocked until "
                              f"{entry.expires_at:%Y-%m-%d %H:%M} UTC.")
    return redirect("response:blocklist", sub=sub)


@require_POST
def unblock_view(request: HttpRequest, sub: int, entry_id: int) -> HttpResponse:
    entry = _entry(request, sub, entry_id)
    form = UnblockForm(request.POST)
    if not form.is_valid():
        return _refused(request, entry.subscription, "A reason is at most 4,000 characters.")
    if unblock(entry, actor=Actor.of_user(request.user), role=role_for(request.user, sub),
               reason=form.cleaned_data["reason"]):
        messages.success(request, f"{entry.address} is off the blocklist.")
    return redirect("response:blocklist", sub=sub)


def _refused(request: HttpRequest, subscription: Subscription, error: str) -> HttpResponse:
    return render(request, "response/blocklist.html",
                  _context(subscription, request.user, page_error=error), status=400)


def _guard_subscription(request: HttpRequest, sub: int) -> Subscription:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    role = role_for(request.user, sub)
    if not (role_allows(role, Perm.LEAD) or role_allows(role, Perm.ADMINISTER)):
        raise PermissionDenied("Only shift leads and admins keep the never-block list.")
    return subscription


@require_POST
def never_block_add(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = _guard_subscription(request, sub)
    form = NeverBlockForm(request.POST)
    error = None
    if form.is_valid():
        try:
            entry = add_never_block(subscription, form.cleaned_data["address"],
                                    actor=Actor.of_user(request.user),
                                    role=role_for(request.user, sub),
                                    note=form.cleaned_data["note"])
        except BlockError as exc:
            error = str(exc)
        else:
            messages.success(request, f"{entry.network} is never blocked.")
            return redirect(reverse("response:blocklist", kwargs={"sub": sub}) + "#never-block")
    return render(request, "response/blocklist.html",
                  _context(subscription, request.user, never_form=form, never_error=error),
                  status=400)


@require_POST
def never_block_remove(request: HttpRequest, sub: int, never_id: int) -> HttpResponse:
    _guard_subscription(request, sub)
    entry = get_for_user(NeverBlock.objects.filter(subscription_id=sub), request.user,
                         never_id, Perm.VIEW)
    remove_never_block(entry, actor=Actor.of_user(request.user),
                       role=role_for(request.user, sub))
    messages.success(request, f"{entry.network} is off the never-block list.")
    return redirect(reverse("response:blocklist", kwargs={"sub": sub}) + "#never-block")


@require_POST
def feed_token_create(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    form = FeedTokenForm(request.POST)
    if form.is_valid():
        try:
            _token, plaintext = create_feed_token(subscription=subscription,
                                                  name=form.cleaned_data["name"],
                                                  actor=Actor.of_user(request.user))
        except FeedTokenError as exc:
            form.add_error(None, str(exc))
        else:
            url = reverse("response:blocklist", kwargs={"sub": sub})
            response = redirect(f"{url}#feeds")
            response.set_signed_cookie(NEW_FEED_COOKIE, feed_url(plaintext),
                                       salt=NEW_FEED_COOKIE, max_age=60, path=url,
                                       secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                                       samesite="Strict")
            return response
    return render(request, "response/blocklist.html",
                  _context(subscription, request.user, feed_form=form), status=400)


@require_POST
def feed_token_revoke(request: HttpRequest, sub: int, token_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    token = get_for_user(FeedToken.objects.filter(subscription_id=sub), request.user,
                         token_id, Perm.ADMINISTER)
    if revoke_feed_token(token, actor=Actor.of_user(request.user)):
        messages.success(request, f"Feed token {token.name} revoked: its URL serves nothing.")
    return redirect(reverse("response:blocklist", kwargs={"sub": sub}) + "#feeds")


@login_not_required
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The blocklist as firewalls poll it: one address or CIDR a line, plain text."""
    feed_token = verify_feed_token(token)
    if feed_token is None:
        return HttpResponse("Unknown or revoked feed token.\n", status=404,
                            content_type="text/plain; charset=utf-8")
    current = published(feed_token.subscription_id)
    headers = {"ETag": current.etag, "Last-Modified": http_date(current.last_modified.timestamp()),
               "Cache-Control": "private, no-cache"}
    match = request.headers.get("If-None-Match")
    since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
    if (match is not None and current.etag in [t.strip() for t in match.split(",")]) or \
            (match is None and since is not None and
             current.last_modified.timestamp() <= since):
        return HttpResponse(status=304, headers=headers)
    return HttpResponse(current.body, content_type="text/plain; charset=utf-8",
                        headers=headers)


def _webhook_context(subscription: Subscription, **extra) -> dict:
    hooks = list(Webhook.objects.filter(subscription=subscription))
    deliveries = list(Delivery.objects.filter(webhook__subscription=subscription)
                      .select_related("webhook").order_by("-created_at", "-id")[:100])
    return {"subscription": subscription, "webhooks": hooks, "deliveries": deliveries,
            "events": EVENTS, "form": WebhookForm(), **extra}


@require_GET
def webhook_page(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.DETECTIONS)
    return render(request, "response/webhooks.html", _webhook_context(subscription))


@require_POST
def webhook_create(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.DETECTIONS)
    form = WebhookForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            hook = create_webhook(subscription, name=data["name"], url=data["url"],
                                  secret=data["secret"], events=data["events"],
                                  allow_private=data["allow_private"],
                                  actor=Actor.of_user(request.user),
                                  role=role_for(request.user, sub))
        except WebhookError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Webhook {hook.name} registered.")
            return redirect("response:webhooks", sub=sub)
    return render(request, "response/webhooks.html",
                  _webhook_context(subscription, form=form), status=400)


@require_POST
def webhook_delete(request: HttpRequest, sub: int, webhook_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    hook = get_for_user(Webhook.objects.filter(subscription_id=sub), request.user, webhook_id,
                        Perm.DETECTIONS)
    delete_webhook(hook, actor=Actor.of_user(request.user), role=role_for(request.user, sub))
    messages.success(request, f"Webhook {hook.name} deleted.")
    return redirect("response:webhooks", sub=sub)


@require_POST
def delivery_resend(request: HttpRequest, sub: int, delivery_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.DETECTIONS)
    delivery = Delivery.objects.select_related("webhook").filter(
        webhook__subscription_id=sub, pk=delivery_id).first()
    if delivery is None:
        raise Http404("No such object.")
    resend(delivery, actor=Actor.of_user(request.user), role=role_for(request.user, sub))
    messages.success(request, f"Delivery {delivery.pk} queued again.")
    return redirect("response:webhooks", sub=sub)


@require_POST
def action_request(request: HttpRequest, sub: int) -> HttpResponse:
    """Isolate a host or disable an account: sent to the playbooks, back to the page."""
    subscription = get_subscription_for_user(request.user, sub, Perm.RESPOND)
    form = ActionRequestForm(request.POST)
    if not form.is_valid():
        return bad_request_page(request, " ".join(
            e for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    alert, incident = _source(sub, data)
    back = _back(sub, alert, incident)
    try:
        made = request_action(subscription, data["kind"], data["target"],
                              actor=Actor.of_user(request.user),
                              role=role_for(request.user, sub), reason=data["reason"],
                              alert=alert, incident=incident)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{made.get_kind_display()} of {made.target} requested: "
                                  "the playbook's answer will be on the timeline.")
    return redirect(back)
