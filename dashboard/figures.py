"""The dashboard's figures: each one GROUP BY over an index range, never a row per item.

A figure counts exactly what the list it links to shows (the queue and the alert list
with their filters), so the two can be compared; the times to acknowledge and resolve
are derived from the activity log, as `incidents.queries.response_times` derives them
for one incident.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncHour

from alerts.models import Alert, Severity, Status, SuppressionRule, Verdict
from incidents.models import Incident
from incidents.queries import HUMAN_VERBS, overdue_q
from inventory.models import Resource, Subscription, Workspace
from search.models import EventDay

DAYS = 30
SEVERITIES = tuple(Severity)
CLOSING_VERBS = ("incident.resolve", "incident.dismiss")
SECONDS_PG = "EXTRACT(EPOCH FROM ({}) - i.created_at)"
SECONDS_SQLITE = "(julianday({}) - julianday(i.created_at)) * 86400.0"


@dataclass
class Durations:
    """Median and 90th percentile, in seconds, of one severity's times, and the target."""

    count: int = 0
    median: float | None = None
    p90: float | None = None
    target: float = 0.0


@dataclass
class Figures:
    since: datetime
    now: datetime
    incidents: dict = field(default_factory=dict)   # severity rank -> active incidents
    alerts: dict = field(default_factory=dict)      # severity rank -> active alerts
    escalated: int = 0
    overdue: int = 0
    unassigned: int = 0
    days: list = field(default_factory=list)        # [(date, {rank: n})], oldest first
    hours: list = field(default_factory=list)       # 24 counts, by hour of day (UTC)
    acknowledge: dict = field(default_factory=dict)  # rank -> Durations
    resolve: dict = field(default_factory=dict)
    noisiest: list = field(default_factory=list)    # [(alert_type, count, false positives)]
    rules: list = field(default_factory=list)       # SuppressionRules, most matched first
    workspaces: int = 0
    silent_workspaces: list = field(default_factory=list)  # [(workspace, last ingested)]
    defender_plan: object = None
    not_monitored: int | None = None


def window(now: datetime) -> datetime:
    """The first instant of the 30 days shown: midnight UTC, 29 days before today."""
    return (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def figures(subscription: Subscription, now: datetime) -> Figures:
    """Everything the dashboard shows for `subscription`, in a fixed number of queries."""
    since = window(now)
    out = Figures(since=since, now=now)
    _incident_counts(out, subscription, now)
    out.alerts = _zeroes() | dict(
        Alert.objects.filter(subscription=subscription, status=Status.ACTIVE)
        .values_list("severity").annotate(n=Count("id")).order_by())
    _arrivals(out, subscription, since)
    _response_times(out, subscription, since)
    out.noisiest = [
        (row["alert_type"], row["n"], row["fp"]) for row in
        # Alerts without a type are no type's noise (and the alert list has no filter
        # for them).
        Alert.objects.filter(subscription=subscription, time__gte=since).exclude(alert_type="")
        .values("alert_type").annotate(n=Count("id"), fp=Count(
            "id", filter=Q(verdict=Verdict.FALSE_POSITIVE))).order_by("-n", "alert_type")[:8]]
    out.rules = list(SuppressionRule.objects.filter(subscription=subscription, matched__gt=0)
                     .select_related("resource", "entity")
                     .order_by("-matched", "id")[:5])
    _workspaces(out, subscription, now)
    out.defender_plan = defender_plan(subscription)
    out.not_monitored = resources_not_monitored(subscription)
    return out


def _zeroes() -> dict:
    return {s.value: 0 for s in SEVERITIES}


def _incident_counts(out: Figures, subscription: Subscription, now: datetime) -> None:
    # One pass over the active incidents (the queue index's prefix), as the queue counts.
    rows = Incident.objects.filter(subscription=subscription, status="active")\
        .values("severity").annotate(
            n=Count("id"), escalated=Count("id", filter=Q(escalated=True)),
            overdue=Count("id", filter=overdue_q(now)),
            unassigned=Count("id", filter=Q(assigned_to__isnull=True))).order_by()
    out.incidents = _zeroes()
    for row in rows:
        out.incidents[row["severity"]] = row["n"]
        out.escalated += row["escalated"]
        out.overdue += row["overdue"]
        out.unassigned += row["unassigned"]


def _arrivals(out: Figures, subscription: Subscription, since: datetime) -> None:
    """Alerts per day by severity and per hour of day, from one count per hour."""
    days = {(since + timedelta(days=i)).date(): _zeroes() for i in range(DAYS)}
    hours = [0] * 24
    rows = Alert.objects.filter(subscription=subscription, time__gte=since)\
        .annotate(hour=TruncHour("time")).values_list("hour", "severity")\
        .annotate(n=Count("id")).order_by()
    for hour, severity, n in rows:
        if hour.date() in days:  # an alert timed in the future is in neither
            days[hour.date()][severity] += n
            hours[hour.hour] += n
    out.days = list(days.items())
    out.hours = hours


def _response_times(out: Figures, subscription: Subscription, since: datetime) -> None:
    """Median and 90th percentile of the time to acknowledge (first human action) and to
    resolve (last resolution or dismissal, of incidents no longer active) of the
    incidents that came into the queue in the window, from the activity log.

    Not from `Incident.acknowledged_at`: that field is written beside the log entry, not
    derived from it; the log is the record (DESIGN.md), and only it knows resolutions.
    """
    pg = connection.vendor == "postgresql"
    seconds = (SECONDS_PG if pg else SECONDS_SQLITE).format
    human = ", ".join(["%s"] * len(HUMAN_VERBS))
    closing = ", ".join(["%s"] * len(CLOSING_VERBS))
    ack = seconds(f"MIN(a.created_at) FILTER (WHERE a.verb IN ({human}))")
    res = seconds(f"MAX(a.created_at) FILTER (WHERE a.verb IN ({closing}))")
    # One probe of the activity log's target index per incident of the window.
    per_incident = (
        f"SELECT i.severity AS severity, {ack} AS ack, "  # noqa: S608 — no input in the text
        f"CASE WHEN i.status <> 'active' THEN {res} END AS res "
        "FROM incidents_incident i JOIN inventory_activity a ON a.target_type = 'incident' "
        "AND a.target_id = CAST(i.id AS TEXT) AND a.subscription_id = i.subscription_id "
        "AND a.created_at >= i.created_at "
        # Implied by the two conditions around it; said, it reads the window's activity
        # (activity_sub_time), not the subscription's whole history.
        "AND a.created_at >= %s "
        "WHERE i.subscription_id = %s AND i.created_at >= %s "
        "GROUP BY i.id, i.severity, i.created_at, i.status")
    start = connection.ops.adapt_datetimefield_value(since)
    params = [*HUMAN_VERBS, *CLOSING_VERBS, start, subscription.pk, start]
    for rank in _zeroes():
        target = settings.SLA_MINUTES.get(rank, 1440) * 60.0
        out.acknowledge[rank] = Durations(target=target)
        out.resolve[rank] = Durations(target=target)
    with connection.cursor() as cursor:
        if pg:
            cursor.execute(
                "SELECT severity, count(ack), "  # noqa: S608 — no input in the text
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY ack), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY ack), count(res), "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY res), "
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY res) FROM ({per_incident}) per "
                "GROUP BY severity", params)
            for rank, n_ack, ack50, ack90, n_res, res50, res90 in cursor.fetchall():
                _set(out.acknowledge[rank], n_ack, ack50, ack90)
                _set(out.resolve[rank], n_res, res50, res90)
            return
        # SQLite has no percentile_cont: the same interpolation, over the same rows.
        cursor.execute(per_incident, params)
        values = {}
        for rank, ack_s, res_s in cursor.fetchall():
            acks, ress = values.setdefault(rank, ([], []))
            if ack_s is not None:
                acks.append(ack_s)
            if res_s is not None:
                ress.append(res_s)
    for rank, (acks, ress) in values.items():
        _set(out.acknowledge[rank], len(acks), percentile(acks, 0.5), percentile(acks, 0.9))
        _set(out.resolve[rank], len(ress), percentile(ress, 0.5), percentile(ress, 0.9))


def _set(d: Durations, count: int, median, p90) -> None:
    d.count = count
    # To the millisecond: SQLite's julianday arithmetic is off in the sixth decimal.
    d.median = round(float(median), 3) if median is not None else None
    d.p90 = round(float(p90), 3) if p90 is not None else None


def percentile(values: list, fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    values = sorted(values)
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _workspaces(out: Figures, subscription: Subscription, now: datetime) -> None:
    # EventDay holds one row per workspace, table and day, updated by every ingest: the
    # latest event of a workspace is a max over a few rows, not over the events.
    workspaces = list(Workspace.objects.filter(subscription=subscription).order_by("name"))
    latest = dict(EventDay.objects.filter(workspace__subscription=subscription)
                  .values_list("workspace_id").annotate(last=Max("last_ingested_at"))
                  .order_by())
    out.workspaces = len(workspaces)
    out.silent_workspaces = [(w, latest.get(w.pk)) for w in workspaces
                             if latest.get(w.pk) is None or latest[w.pk] < now - timedelta(
                                 hours=24)]


def defender_plan(subscription: Subscription) -> dict:
    """The subscription's Defender plan as the coverage card shows it: {"on", "since"}."""
    return {"on": subscription.defender_plan, "since": subscription.defender_plan_since}


def resources_not_monitored(subscription: Subscription) -> int:
    """How many of the subscription's resources collect no data (a partial index)."""
    return Resource.objects.filter(subscription=subscription, collecting=False).count()
