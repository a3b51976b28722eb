from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models.functions import Lower
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alerts import tactics
from alerts.forms import DismissForm
from alerts.http import ACTIONS, DONE, run_triage
from alerts.models import Severity
from alerts.triage import TriageError
from incidents.assignment import acknowledge_escalation, assign, escalate
from incidents.forms import QueueFilterForm
from incidents.models import HandoverNote, Incident, SavedView
from incidents.narrative import narrate
from incidents.queries import (
    QueueFilters,
    incident_alerts,
    named_by,
    queue_page,
    queue_queryset,
    related_elsewhere,
    response_times,
    severity_counts,
    timeline,
    triagers,
)
from incidents.triage import (
    BULK_LIMIT,
    bulk_change,
    change_incident,
    comment_incident,
    write_handover,
)
from inventory.access import get_for_user, get_subscription_for_user, role_for
from inventory.activity import Actor
from inventory.models import Resource, Subscription
from inventory.roles import Perm, role_allows
from socconsole.errors import bad_request_page
from socconsole.lib.htmx import is_partial
from socconsole.lib.ids import is_id, parse_id
from socconsole.lib.paging import BadCursor


def _resources(subscription: Subscription, value: str) -> tuple[int, ...] | None:
    """The resource ids a filter names: an id, or every resource of the subscription with
    that name (any case); None for no filter."""
    if not value:
        return None
    if is_id(value):
        return (parse_id(value),)
    return tuple(Resource.objects.filter(subscription=subscription).alias(
        lname=Lower("name")).filter(lname=value.lower()).values_list("pk", flat=True))


def _filters(data: dict, user: AbstractBaseUser, subscription: Subscription) -> QueueFilters:
    return QueueFilters(
        severities=tuple(Severity.from_word(s) for s in data["severity"]),
        statuses=tuple(data["status"]) or ("active",),
        resources=_resources(subscription, data["resource"]),
        since=data["since"], until=data["until"],
        mine_for=user if data["assigned"] == "me" else None,
        unassigned=data["assigned"] == "none",
        escalated=data["escalated"],
        overdue_at=timezone.now() if data["overdue"] else None,
        text=data["q"],
    )


@require_GET
def queue(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    if not request.GET and not is_partial(request):
        saved = SavedView.objects.filter(user=request.user, subscription=subscription).first()
        if saved and saved.query:
            return redirect(f"{request.path}?{saved.query}")
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        return bad_request_page(request, "Bad filter: " + form.errors.as_text())
    other = form.cleaned_data["subscription"]
    if other and other != subscription.pk:
        # The same filters over another subscription's queue (a member's only: else 404).
        get_subscription_for_user(request.user, other, Perm.VIEW)
        query = request.GET.copy()
        for name in ("subscription", "cursor"):
            query.pop(name, None)
        if is_id(form.cleaned_data["resource"]):
            query.pop("resource")  # ids are the subscription's own; names carry over
        return redirect(f"{reverse('incidents:queue', kwargs={'sub': other})}?"
                        f"{query.urlencode() or 'view=all'}")
    try:
        page = queue_page(subscription, _filters(form.cleaned_data, request.user, subscription),
                          cursor=form.cleaned_data["cursor"] or None)
    except BadCursor as exc:
        return bad_request_page(request, str(exc))
    form.cleaned_data["status"] = form.cleaned_data["status"] or ["active"]  # as shown
    query = request.GET.copy()
    query.pop("cursor", None)
    template = "incidents/queue.html"
    if is_partial(request):
        template += "#queue-rows"
    counts = severity_counts(subscription)
    return render(request, template, {
        "handover": HandoverNote.objects.filter(subscription=subscription)
        .select_related("author").order_by("-created_at").first(),
        "subscription": subscription, "page": page, "form": form, "now": timezone.now(),
        "filter_query": query.urlencode(),
        "counts": [(Severity(rank).label, n) for rank, n in sorted(counts.items())],
        "dismiss_form": DismissForm(),
    })


@require_GET
def incident_detail(request: HttpRequest, sub: int, incident_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    incident = get_for_user(Incident.objects.filter(subscription_id=sub)
                            .select_related("resource", "assigned_to", "subscription"),
                            request.user, incident_id, Perm.VIEW)
    alerts = incident_alerts(incident)
    events = timeline(incident, alerts)
    return render(request, "incidents/incident_detail.html", {
        "times": response_times(incident, events),
        "assignees": triagers(incident.subscription_id),
        "subscription": incident.subscription, "incident": incident, "alerts": alerts,
        "narrative": narrate(incident), "kill_chain": tactics.strip(incident.tactics),
        "related": related_elsewhere(incident, alerts),
        "timeline": events,
        "addresses": named_by(alerts, "ip"),
        "hosts": named_by(alerts, "host", limit=10),
        "accounts": named_by(alerts, "account", limit=10),
        "dismiss_form": DismissForm(),
    })


OWNER_ACTIONS = {"take": Perm.TRIAGE, "escalate": Perm.TRIAGE, "assign": Perm.LEAD,
                 "acknowledge": Perm.LEAD}


def _owner_action(request: HttpRequest, sub: int, incident_id: int,
                  action: str) -> HttpResponse:
    incident = get_for_user(Incident.objects.filter(subscription_id=sub)
                            .select_related("resource"), request.user, incident_id,
                            OWNER_ACTIONS[action])
    actor, role = Actor.of_user(request.user), role_for(request.user, sub)
    try:
        if action == "take":
            assign(incident, to=request.user, actor=actor, role=role)
        elif action == "assign":
            # Only the subscription's members: nobody else is even named.
            pk = parse_id(request.POST.get("user"))
            user = get_user_model().objects.filter(
                pk=pk, memberships__subscription_id=sub).first() if pk else None
            assign(incident, to=user, actor=actor, role=role,
                   reason=request.POST.get("comment", ""))
        elif action == "escalate":
            escalate(incident, to=request.POST.get("to", ""), note=request.POST.get("note", ""),
                     actor=actor, role=role)
        elif not acknowledge_escalation(incident, actor=actor, role=role):
            raise TriageError("Nothing to acknowledge: it is not escalated, or someone "
                              "acknowledged it already.")
    except TriageError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, {"take": "It is yours.", "assign": "Assigned.",
                                   "escalate": "Escalated; the email is on its way.",
                                   "acknowledge": "Escalation acknowledged."}[action])
    return redirect("incidents:detail", sub=sub, incident_id=incident.pk)


@require_POST
def incident_action(request: HttpRequest, sub: int, incident_id: int, action: str) -> HttpResponse:
    if action in OWNER_ACTIONS:
        get_subscription_for_user(request.user, sub, Perm.VIEW)
        return _owner_action(request, sub, incident_id, action)
    if action not in ACTIONS:
        raise Http404("No such action.")
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    incident = get_for_user(Incident.objects.filter(subscription_id=sub)
                            .select_related("resource", "assigned_to", "subscription"),
                            request.user, incident_id, Perm.TRIAGE)
    error = run_triage(request, incident, action, change_incident, comment_incident)
    if error and request.htmx:
        return HttpResponse(error, status=400)
    if error:
        messages.error(request, error)
        return redirect("incidents:detail", sub=sub, incident_id=incident.pk)
    if request.htmx and request.POST.get("from") == "queue":
        incident.refresh_from_db()
        context = {"i": incident, "subscription": incident.subscription,
                   "dismiss_form": DismissForm(), "oob": True,
                   "counts": [(Severity(rank).label, n) for rank, n in
                              sorted(severity_counts(incident.subscription).items())],
                   "can": {p.value: role_allows(role_for(request.user, sub), p) for p in Perm}}
        html = render_to_string("incidents/partials/queue_row.html", context, request)
        html += render_to_string("incidents/partials/counts.html", context, request)
        return HttpResponse(html)
    messages.success(request, DONE[action])
    return redirect("incidents:detail", sub=sub, incident_id=incident.pk)


@require_GET
def queue_news(request: HttpRequest, sub: int) -> HttpResponse:
    """How many incidents of the page's filters got a new alert since it was drawn
    (`drawn`); the queue polls this. Triage does not count: it moves no row."""
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    try:
        drawn = datetime.fromisoformat(request.GET.get("drawn", ""))
        drawn = drawn.replace(tzinfo=UTC) if drawn.tzinfo is None else drawn.astimezone(UTC)
    except (ValueError, OverflowError):
        return bad_request_page(request, "drawn must be an ISO 8601 time.")
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        return bad_request_page(request, "Bad filter: " + form.errors.as_text())
    count = queue_queryset(subscription, _filters(form.cleaned_data, request.user,
                                                  subscription))\
        .filter(last_activity__gt=drawn).count()
    return render(request, "incidents/partials/news.html", {"count": count})


@require_POST
def handover(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.TRIAGE)
    try:
        write_handover(subscription, actor=Actor.of_user(request.user),
                       text=request.POST.get("text", ""))
    except TriageError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Handover note saved: the next shift sees it first.")
    return redirect("incidents:queue", sub=sub)


@require_POST
def bulk(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.TRIAGE)
    ids = [pk for pk in map(parse_id, request.POST.getlist("ids")) if pk]
    incidents = list(Incident.objects.filter(subscription=subscription, pk__in=ids[:BULK_LIMIT]))
    try:
        changed = bulk_change(incidents, action=request.POST.get("action", ""),
                              actor=Actor.of_user(request.user),
                              role=role_for(request.user, sub),
                              verdict=request.POST.get("verdict", ""),
                              reason=request.POST.get("comment", ""))
    except TriageError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{changed} of {len(incidents)} selected changed.")
    back = request.POST.get("next", "")
    if not back.startswith(f"/s/{sub}/queue/"):
        back = f"/s/{sub}/queue/"
    return redirect(back)


@require_POST
def save_view(request: HttpRequest, sub: int) -> HttpResponse:
    """Make the current filters this analyst's default view of the queue."""
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    query.pop("cursor", None)
    if not QueueFilterForm(query).is_valid():
        return bad_request_page(request, "Those are not filters the queue understands.")
    query.setdefault("view", "saved")  # never empty, so the saved view is not re-applied
    # Refused whole rather than cut: a cut query is other filters, or does not fit still.
    if len(query.urlencode()) > SavedView._meta.get_field("query").max_length:
        return bad_request_page(request, "Those filters are too long to save as a view.")
    SavedView.objects.update_or_create(user=request.user, subscription=subscription,
                                       defaults={"query": query.urlencode()})
    messages.success(request, "This is now your default view of the queue.")
    return redirect(f"{request.path.rsplit('/view/', 1)[0]}/?{query.urlencode()}")
