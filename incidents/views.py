from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts import tactics
from alerts.models import Severity
from incidents.forms import DismissForm, QueueFilterForm
from incidents.models import Incident
from incidents.queries import (
    QueueFilters,
    incident_alerts,
    queue_page,
    related_elsewhere,
    severity_counts,
    timeline,
)
from inventory.access import get_for_user, get_subscription_for_user
from inventory.roles import Perm
from socconsole.lib.htmx import is_partial
from socconsole.lib.paging import BadCursor


def _filters(data, user):
    return QueueFilters(
        severities=tuple(Severity.from_word(s) for s in data["severity"]),
        statuses=tuple(data["status"]) or ("active",),
        resource=data["resource"],
        mine_for=user if data["assigned"] == "me" else None,
        unassigned=data["assigned"] == "none",
        escalated=data["escalated"],
        text=data["q"],
    )


@require_GET
def queue(request, sub):
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    form = QueueFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad filter: " + form.errors.as_text())
    try:
        page = queue_page(subscription, _filters(form.cleaned_data, request.user),
                          cursor=form.cleaned_data["cursor"] or None)
    except BadCursor as exc:
        return HttpResponseBadRequest(str(exc))
    query = request.GET.copy()
    query.pop("cursor", None)
    template = "incidents/queue.html"
    if is_partial(request):
        template += "#queue-rows"
    counts = severity_counts(subscription)
    return render(request, template, {
        "subscription": subscription, "page": page, "form": form, "now": timezone.now(),
        "filter_query": query.urlencode(),
        "counts": [(Severity(rank).label, n) for rank, n in sorted(counts.items())],
        "dismiss_form": DismissForm(),
    })


@require_GET
def incident_detail(request, sub, incident_id):
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    incident = get_for_user(Incident.objects.filter(subscription_id=sub)
                            .select_related("resource", "assigned_to", "subscription"),
                            request.user, incident_id, Perm.VIEW)
    alerts = incident_alerts(incident)
    return render(request, "incidents/incident_detail.html", {
        "subscription": incident.subscription, "incident": incident, "alerts": alerts,
        "kill_chain": tactics.strip(incident.tactics),
        "related": related_elsewhere(incident, alerts),
        "timeline": timeline(incident, [a.pk for a in alerts]),
        "dismiss_form": DismissForm(),
    })
