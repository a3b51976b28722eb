from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from alerts.models import Severity
from dashboard import drawing
from dashboard.figures import figures
from inventory.access import get_subscription_for_user
from inventory.roles import Perm


@require_GET
def dashboard(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.VIEW)
    now = timezone.now()
    f = figures(subscription, now)
    # Reversed once each: a URL per bar segment would cost more than the queries.
    alerts_url = reverse("alerts:list", kwargs={"sub": subscription.pk})
    queue_url = reverse("incidents:queue", kwargs={"sub": subscription.pk})
    bars, top = drawing.day_bars(f.days, alerts_url)
    severities = [(s.label, f.incidents[s.value], f.alerts[s.value]) for s in Severity]
    times = [(s.label, f.acknowledge[s.value], f.resolve[s.value]) for s in Severity]
    return render(request, "dashboard/dashboard.html", {
        "subscription": subscription, "f": f, "now": now,
        "alerts_url": alerts_url, "queue_url": queue_url,
        "since": f.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "severities": severities, "times": times,
        "active_incidents": sum(f.incidents.values()), "active_alerts": sum(f.alerts.values()),
        "bars": bars, "ticks": drawing.ticks(top), "drawing": drawing,
        "total_30d": sum(b.total for b in bars),
        "heat": drawing.heat_cells(f.hours),
    })
