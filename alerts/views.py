import re
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alerts import suppression, tactics
from alerts.forms import AlertFilterForm, DismissForm, SuppressForm, SuppressScopeForm
from alerts.http import ACTIONS, DONE, run_triage
from alerts.models import Alert, RejectedItem, Severity, Status, SuppressionRule
from alerts.queries import (
    Arrival,
    alert_activity,
    alert_details,
    alert_page,
    dismissing_rule,
    incident_of,
    provider_incidents_of,
)
from alerts.rejected import RejectedError, rejected_page, replay_rejected
from alerts.triage import TriageError, change_alert, comment_alert
from inventory.access import get_for_user, get_subscription_for_user, role_for
from inventory.activity import Actor
from inventory.models import ApiToken
from inventory.roles import Perm
from socconsole.errors import bad_request_page
from socconsole.lib.htmx import is_partial
from socconsole.lib.paging import BadCursor

CODE = re.compile("[a-z_]{1,64}", re.ASCII)


@require_GET
def alert_list(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    form = AlertFilterForm(request.GET)
    if not form.is_valid():
        return bad_request_page(request, "Bad filter: " + form.errors.as_text())
    data = form.cleaned_data
    try:
        page = alert_page(
            subscription, severities=[Severity.from_word(s) for s in data["severity"]],
            statuses=[Status(s) for s in data["status"]], resource=data["resource"],
            alert_type=data["type"] or None, verdict=data["verdict"] or None,
            since=data["since"], until=data["until"], cursor=data["cursor"] or None)
    except BadCursor as exc:
        return bad_request_page(request, str(exc))
    query = request.GET.copy()
    query.pop("cursor", None)
    template = "alerts/alert_list.html"
    if is_partial(request):
        template += "#alert-rows"
    return render(request, template, {
        "subscription": subscription, "page": page, "form": form,
        "filter_query": query.urlencode(), "filtered": any(data[k] for k in (
            "severity", "status", "resource", "type", "verdict", "since", "until")),
    })


def _alert(request: HttpRequest, sub: int, alert_id: int, perm: Perm = Perm.VIEW) -> Alert:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    return get_for_user(Alert.objects.filter(subscription_id=sub), request.user, alert_id, perm)


@require_GET
def alert_detail(request: HttpRequest, sub: int, alert_id: int) -> HttpResponse:
    return _detail_page(request, _alert(request, sub, alert_id))


def _detail_page(request: HttpRequest, alert: Alert, suppress_form: SuppressForm | None = None,
                 status: int = 200) -> HttpResponse:
    """The alert page; `suppress_form` bound when a suppression was refused."""
    details = alert_details(Alert.objects.filter(pk=alert.pk)
                            .select_related("suppressed_by", "membership__incident"),
                            alert.pk, with_raw=False)
    alert = details.alert
    activity = alert_activity(alert)
    if suppress_form is None:
        suppress_form = SuppressForm(
            scopes=suppression.scope_choices(alert, details.mentions))
    return render(request, "alerts/alert_detail.html", {
        "subscription": alert.subscription, "alert": alert, "details": details,
        "groups": details.groups(), "kill_chain": tactics.strip(alert.tactics),
        "provider_incidents": provider_incidents_of(alert),
        "incident": incident_of(alert),
        "activity": [Arrival(alert.ingested_at, alert.provider or "ingest",
                             [alert.display_name]), *activity],
        "dismissing_rule": dismissing_rule(alert, activity),
        "dismiss_form": DismissForm(), "suppress_form": suppress_form,
    }, status=status)


@require_GET
def alert_raw(request: HttpRequest, sub: int, alert_id: int) -> HttpResponse:
    alert = _alert(request, sub, alert_id)
    details = alert_details(Alert.objects.filter(pk=alert.pk), alert.pk)
    template = "alerts/alert_raw.html"
    if is_partial(request):
        template += "#raw"
    return render(request, template, {"subscription": alert.subscription, "alert": alert,
                                      "raw": details.raw_text})


@require_GET
def rejected_list(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    tokens = list(ApiToken.objects.filter(subscription=subscription))
    wanted = request.GET.get("token", "")
    token = next((t for t in tokens if str(t.pk) == wanted), None)
    if wanted not in ("", "none") and token is None:
        return bad_request_page(request, "No such token in this subscription.")
    code = request.GET.get("code", "")
    if code and not CODE.fullmatch(code):
        return bad_request_page(request, "A rejection code is lower-case letters and _.")
    try:
        page = rejected_page(subscription, token=token if token else wanted or None,
                             cursor=request.GET.get("cursor"),
                             code=code)
    except BadCursor as exc:
        return bad_request_page(request, str(exc))
    template = "alerts/rejected_list.html"
    if is_partial(request):
        template += "#rejected-rows"
    return render(request, template, {"subscription": subscription, "tokens": tokens,
                                      "token": token, "wanted": wanted, "page": page,
                                      "code": code, "more_query": urlencode(
                                          {"token": wanted, **({"code": code} if code else {})})})


def _rejected(request: HttpRequest, sub: int, rejected_id: int) -> RejectedItem:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    return get_for_user(RejectedItem.objects.filter(subscription_id=sub)
                        .select_related("token", "subscription"), request.user, rejected_id,
                        Perm.ADMINISTER)


@require_GET
def rejected_detail(request: HttpRequest, sub: int, rejected_id: int) -> HttpResponse:
    item = _rejected(request, sub, rejected_id)
    return render(request, "alerts/rejected_detail.html", {
        "subscription": item.subscription, "item": item,
        "raw": bytes(item.body).decode("utf-8", "replace"),
    })


@require_POST
def rejected_replay(request: HttpRequest, sub: int, rejected_id: int) -> HttpResponse:
    item = _rejected(request, sub, rejected_id)
    try:
        result = replay_rejected(item, actor=Actor.of_user(request.user))
    except RejectedError as exc:
        messages.error(request, str(exc))
    else:
        if result.status == "rejected":
            messages.error(request, f"Still rejected: {result.error['message']}")
        else:
            messages.success(request, f"Replayed: {result.status} (alert {result.id}).")
    return redirect("alerts:rejected-detail", sub=sub, rejected_id=item.pk)



@require_POST
def alert_action(request: HttpRequest, sub: int, alert_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such action.")
    alert = _alert(request, sub, alert_id, Perm.TRIAGE)
    error = run_triage(request, alert, action, change_alert, comment_alert)
    if error and request.htmx:
        return HttpResponse(error, status=400)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, DONE[action])
    return redirect("alerts:detail", sub=sub, alert_id=alert.pk)


@require_GET
def suppress_preview(request: HttpRequest, sub: int, alert_id: int) -> HttpResponse:
    alert = _alert(request, sub, alert_id, Perm.LEAD)
    scopes = suppression.scope_choices(alert)
    data = request.GET if "scope" in request.GET else {"scope": scopes[0][0] if scopes else ""}
    form = SuppressScopeForm(data, scopes=scopes)
    if not form.is_valid():
        return bad_request_page(request, " ".join(form.errors["scope"]))
    resource_id, entity_id = suppression.parse_scope(alert, form.cleaned_data["scope"], scopes)
    count = suppression.preview(alert.subscription_id, alert.alert_type, resource_id, entity_id)
    return HttpResponse(f"Matches {count} past alert{'s' if count != 1 else ''} "
                        "(this one included).")


@require_POST
def suppress(request: HttpRequest, sub: int, alert_id: int) -> HttpResponse:
    alert = _alert(request, sub, alert_id, Perm.LEAD)
    form = SuppressForm(request.POST, scopes=suppression.scope_choices(alert))
    if form.is_valid():
        try:
            rule = suppression.suppress_similar(
                alert, scope=form.cleaned_data["scope"], days=form.cleaned_data["days"],
                reason=form.cleaned_data["reason"], actor=Actor.of_user(request.user),
                role=role_for(request.user, sub))
        except TriageError as exc:
            form.add_error(None, str(exc))
    if form.errors:
        if request.htmx:
            return bad_request_page(request, " ".join(
                " ".join(errors) for errors in form.errors.values()))
        return _detail_page(request, alert, suppress_form=form, status=400)
    messages.success(request, f"Dismissed; new alerts like it are suppressed until "
                              f"{rule.expires_at:%Y-%m-%d} (rule {rule.pk}).")
    return redirect("alerts:detail", sub=sub, alert_id=alert.pk)


@require_GET
def suppression_list(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.LEAD)
    rules = SuppressionRule.objects.filter(subscription=subscription)\
        .select_related("resource", "entity", "created_by").order_by("-created_at")[:500]
    return render(request, "alerts/suppression.html", {"subscription": subscription,
                                                       "rules": rules, "now": timezone.now()})


@require_POST
def suppression_disable(request: HttpRequest, sub: int, rule_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    rule = get_for_user(SuppressionRule.objects.filter(subscription_id=sub), request.user,
                        rule_id, Perm.LEAD)
    if suppression.disable_rule(rule, actor=Actor.of_user(request.user),
                                reason=request.POST.get("reason", "")):
        messages.success(request, f"Rule {rule.pk} disabled.")
    return redirect("alerts:suppression", sub=sub)
