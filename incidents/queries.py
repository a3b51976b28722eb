"""Reading the queue and incidents."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q

from alerts.models import Alert, AlertEntity
from alerts.queries import Arrival
from incidents.correlation import window
from incidents.models import Incident
from incidents.narrative import TELLING_KINDS
from inventory.models import Activity
from socconsole.lib.paging import keyset_page

QUEUE_ORDER = ("severity", "-last_activity", "-id")


@dataclass
class QueueFilters:
    severities: tuple = ()
    statuses: tuple = ("active",)
    resources: tuple | None = None  # ids (a name may fit several); () matches nothing
    since: object = None            # a time: only incidents with an alert at or after it
    until: object = None            # a time: only incidents with an alert at or before it
    mine_for: object = None         # a user: only incidents assigned to them
    unassigned: bool = False
    escalated: bool = False
    overdue_at: object = None       # a time: only incidents overdue then
    text: str = ""


def queue_page(subscription, filters, cursor=None, size=50):
    """One page of incidents (standalone alerts included), worst and most recent first."""
    return keyset_page(queue_queryset(subscription, filters).select_related(
        "resource", "assigned_to"), QUEUE_ORDER, cursor, size)


def queue_queryset(subscription, filters):
    """The incidents of the queue with `filters` (QueueFilters), in no order."""
    qs = Incident.objects.filter(subscription=subscription)
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.severities:
        qs = qs.filter(severity__in=filters.severities)
    if filters.resources is not None:
        qs = qs.filter(resource_id__in=filters.resources)
    if filters.since is not None:
        qs = qs.filter(last_time__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(first_time__lte=filters.until)
    if filters.mine_for is not None:
        qs = qs.filter(assigned_to=filters.mine_for)
    if filters.unassigned:
        qs = qs.filter(assigned_to__isnull=True)
    if filters.escalated:
        qs = qs.filter(escalated=True)
    if filters.overdue_at is not None:
        qs = qs.filter(overdue_q(filters.overdue_at))
    if filters.text:
        qs = qs.filter(Q(title__icontains=filters.text) | Q(
            members__alert__mentions__label__icontains=filters.text)).distinct()
    return qs


def severity_counts(subscription):
    """Active incidents per severity rank."""
    rows = Incident.objects.filter(subscription=subscription, status="active")\
        .values_list("severity").annotate(n=Count("id")).order_by()
    counts = {0: 0, 1: 0, 2: 0, 3: 0}
    counts.update(dict(rows))
    return counts


def incident_alerts(incident):
    return list(Alert.objects.filter(membership__incident=incident).select_related("resource")
                .only("id", "display_name", "severity", "status", "time", "tactics",
                      "resource__name", "subscription_id", "alert_type", "ingested_at",
                      "provider")
                .order_by("time", "id"))


def related_elsewhere(incident, alerts, limit=20):
    """Alerts on other resources that share a telling entity with the incident within the
    window, each with the entities shared: [(alert, [labels])]."""
    ids = [a.pk for a in alerts]
    entities = dict(AlertEntity.objects.filter(alert_id__in=ids, kind__in=TELLING_KINDS)
                    .values_list("entity_id", "entity__label"))
    if not entities:
        return []
    span = window()
    shared = AlertEntity.objects.filter(
        entity_id__in=list(entities), alert__subscription_id=incident.subscription_id,
        alert__time__gte=incident.first_time - span, alert__time__lte=incident.last_time + span,
    ).exclude(alert_id__in=ids)
    if incident.resource_id:
        shared = shared.exclude(alert__resource_id=incident.resource_id)
    found = {}
    for alert_id, entity_id in shared.values_list("alert_id", "entity_id")[:500]:
        found.setdefault(alert_id, set()).add(entities[entity_id])
    alerts_by_id = Alert.objects.select_related("resource").in_bulk(list(found)[:limit])
    return [(alerts_by_id[a], sorted(found[a])) for a in alerts_by_id]


def named_by(alerts, kind, limit=20):
    """The entities of `kind` (ip, host, account) the incident's alerts name, by label,
    most named first: what an analyst may act on from the incident."""
    counts = {}
    for label in AlertEntity.objects.filter(alert_id__in=[a.pk for a in alerts], kind=kind)\
            .exclude(label="").values_list("label", flat=True)[:2000]:
        counts[label] = counts.get(label, 0) + 1
    return sorted(counts, key=lambda label: (-counts[label], label))[:limit]


def timeline(incident, alerts=()):
    """What happened to the incident, oldest first: its alerts' arrivals (those of one
    delivery together) and the activity about it and its alerts."""
    arrivals = {}
    for a in alerts:
        arrivals.setdefault((a.ingested_at, a.provider), []).append(a.display_name)
    events = [Arrival(at, provider or "ingest", names)
              for (at, provider), names in arrivals.items()]
    events += Activity.objects.filter(
        Q(target_type="incident", target_id=str(incident.pk)) |
        Q(target_type="alert", target_id__in=[str(a.pk) for a in alerts]))\
        .order_by("created_at", "id")[:500]
    return _with_followers(sorted(events, key=lambda e: e.created_at), incident)


def _with_followers(events, incident):
    """The alerts that followed an incident's dismissal, resolution or reopening (logged
    each, "with incident N") as one entry's `followers`, not a line each."""
    out = []
    for event in events:
        lead = out[-1] if out else None
        if event.target_type == "alert" and lead is not None and \
                lead.target_type == "incident" and \
                event.verb == lead.verb.replace("incident.", "alert.") and \
                event.actor_label == lead.actor_label and \
                event.reason.startswith(f"with incident {incident.pk}"):
            lead.followers.append(event.target_label)
            continue
        event.followers = []
        out.append(event)
    return out


def age(incident, now):
    return now - incident.first_time if incident.first_time <= now else timedelta(0)


HUMAN_VERBS = ("incident.take", "incident.assign", "incident.comment", "incident.escalate",
               "incident.dismiss", "incident.resolve", "incident.activate")


def response_times(incident, events):
    """Time to acknowledge and to resolve, derived from the activity log."""
    start = incident.created_at  # reopened, it counts from the reopening
    human = [e for e in events if e.target_type == "incident" and e.verb in HUMAN_VERBS
             and e.created_at >= start]
    closed = [e for e in events if e.target_type == "incident" and
              e.verb in ("incident.resolve", "incident.dismiss") and e.created_at >= start]
    return {
        "acknowledge": human[0].created_at - start if human else None,
        "resolve": closed[-1].created_at - start if closed and incident.status != "active"
        else None,
    }


def triagers(subscription_id):
    """Members who may take an incident (analysts and shift leads)."""
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(
        memberships__subscription_id=subscription_id, is_active=True,
        memberships__role__in=("analyst", "shift_lead")).order_by("username"))


def is_overdue(incident, now):
    """`overdue_q` for one incident in memory."""
    from django.conf import settings

    if incident.status != "active" or incident.acknowledged_at is not None:
        return False
    limit = timedelta(minutes=settings.SLA_MINUTES.get(incident.severity, 1440))
    return incident.created_at < now - limit


def overdue_q(now):
    """Active, not yet acknowledged, past the time to acknowledge of its severity since it
    came into the queue (as `response_times` counts)."""
    from django.conf import settings

    condition = Q()
    for rank, minutes in settings.SLA_MINUTES.items():
        condition |= Q(severity=rank, created_at__lt=now - timedelta(minutes=minutes))
    return Q(status="active", acknowledged_at__isnull=True) & condition
