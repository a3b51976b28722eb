"""Correlation: related alerts on one resource become one incident.

Alerts on the same resource whose times fall within the window of each other
(single linkage: A–B and B–C within the window put A, B, C together) form an
incident once there are at least two; an alert with no related alert is an
incident of one ("standalone"), so the queue is one table. A late alert that
fits joins its incident; one that bridges two incidents merges them (the one
analysts have worked on survives, else the larger, else the older). The alerts
a producer's own incident lists (IsIncident) are held together whatever their
times, with the producer named as a reason.

Ingest queues each new alert for correlation (AwaitingCorrelation) and, in the same
transaction, gives it an incident of one (`show_in_queue`), so it is in the queue at once;
`correlate` works through the waiting alerts a batch at a time, each batch in
its own transaction under an advisory lock on the subscription, so two workers
never correlate it at once, and a crash mid-way leaves the alerts queued for the
next run (the queue is a table apart from the alerts: taking a batch off it deletes
small rows instead of rewriting the alerts). A waiting alert that joins others
leaves its incident of one (nobody has touched it yet; one that was touched is
merged and the merge recorded).
Running it again changes nothing: it is idempotent.

An incident keeps running figures (alert and active counts, first and last
times, worst active severity, tactics) that arriving alerts fold into; its
description and reasons are written when it is read (narrative.py). So the cost
of correlating an alert grows neither with the number of alerts nor with the
size of its incident.
"""

import json
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Exists, F, Lookup, OuterRef, Q, Value, When

from alerts import tactics as killchain
from alerts.models import Alert, AwaitingCorrelation, ProviderIncident, Status
from incidents.models import Incident, IncidentAlert
from incidents.signals import incidents_created
from inventory import activity
from inventory.activity import Actor
from inventory.models import Resource, Subscription
from socconsole.lib.bulk import array_literal, bulk_insert, bulk_update

CORRELATE_LOCK = 7_300_002
SYSTEM = Actor.of_system("correlation")
ALERT_FIELDS = ("id", "subscription_id", "resource_id", "key", "display_name", "severity",
                "verdict", "status", "tactics", "time", "provider", "ingested_at")


class _Alert:
    """An alert as correlation reads it (ALERT_FIELDS, and whether it is `awaiting`
    correlation), without a model instance's cost: a batch reads tens of thousands."""

    __slots__ = (*ALERT_FIELDS, "awaiting", "provider_incident")

    def __init__(self, row, awaiting):
        for name, value in zip(ALERT_FIELDS, row, strict=True):
            setattr(self, name, value)
        self.awaiting = awaiting

    @property
    def pk(self):
        return self.id


def _read(queryset, *, awaiting=None):
    """The alerts of `queryset`; whether they await correlation is `awaiting` where the
    caller knows, else read with them."""
    if awaiting is not None:
        return [_Alert(row, awaiting) for row in queryset.values_list(*ALERT_FIELDS)]
    queued = Exists(AwaitingCorrelation.objects.filter(alert_id=OuterRef("pk")))
    return [_Alert(row[:-1], row[-1])
            for row in queryset.values_list(*ALERT_FIELDS, queued)]


def window():
    return timedelta(hours=settings.CORRELATION_WINDOW_HOURS)


def correlate(*, subscription_id=None, limit=None):
    """Correlate alerts awaiting correlation; returns how many alerts were correlated."""
    limit = limit or settings.CORRELATION_BATCH
    if subscription_id is not None:
        subscriptions = [subscription_id]
    else:
        # One probe of the waiting alerts' index per subscription, not a scan of them all.
        subscriptions = Subscription.objects.filter(Exists(AwaitingCorrelation.objects
                                                           .filter(subscription_id=OuterRef("pk"))))\
            .values_list("pk", flat=True)
    done = 0
    for sub_id in subscriptions:
        done += _correlate(sub_id, limit=limit - done)
        if done >= limit:
            break
    return done


def drain(*, subscription_id: int | None = None, seconds: float | None = None) -> int:
    """Correlate batch after batch (each its own transaction) until nothing waits, or
    until `seconds` have passed (the task stops so the beat sweep can take over); returns
    how many alerts were correlated."""
    total, started = 0, time.monotonic()
    while done := correlate(subscription_id=subscription_id):
        total += done
        if seconds is not None and time.monotonic() - started > seconds:
            break
    return total


def correlate_resource(subscription_id, resource_id):
    """Correlate one resource's waiting alerts; returns how many there were."""
    return _correlate(subscription_id, resource_id=resource_id, only_resource=True)


def _lock(subscription_id):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # No JIT for the batch's statements (as for ingest): estimates grow with the
            # tables past jit_above_cost, and compiling costs more than the statements.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s), "
                           "set_config('jit', 'off', true)",
                           [CORRELATE_LOCK, subscription_id % 2**31])
    # SQLite: transactions begin IMMEDIATE (settings), which serialises writers.


CHUNK = 1000


class _AnyOf(Lookup):
    """`field = ANY(%s)`: a list of ids as one array literal, which PostgreSQL takes
    whole and Django builds in a fraction of the time of an IN list of thousands (or of
    a list parameter, which psycopg quotes element by element)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, array_literal(self.rhs)]


def _pieces(ids):
    """`ids` in lists fit for one query: whole on PostgreSQL, CHUNK at a time elsewhere
    (SQLite limits the parameters of a statement)."""
    ids = list(ids)
    size = max(len(ids), 1) if connection.vendor == "postgresql" else CHUNK
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _among(field, ids):
    """A filter: `field` is one of `ids` (one of `_pieces`)."""
    if connection.vendor == "postgresql":
        return _AnyOf(F(field), ids)
    return Q(**{f"{field}__in": ids})


PROBES = 5000  # (resource, time) probes per neighbours query


def _correlate(subscription_id, *, limit=None, resource_id=None, only_resource=False):
    """Correlate a subscription's waiting alerts (at most `limit`) in one transaction.

    The waiting alerts, their neighbours (the same resource, within the window), the
    incidents they are in and the producers' groupings are read with a few queries for
    the whole batch; grouping is done in memory per resource; lone new alerts become
    incidents of one in bulk; groups that join incidents already there are summarised
    together with a few statements for the batch, never per group. Only the nearest
    correlated alerts on either side of a waiting alert are read, and an incident is
    summarised from its stored figures alone, so the cost per alert grows neither with
    the number of alerts nor with the size of incidents.
    """
    with transaction.atomic():
        _lock(subscription_id)
        queue = AwaitingCorrelation.objects.filter(subscription_id=subscription_id)
        if only_resource:
            queue = queue.filter(alert__resource_id=resource_id)
        ids = list(queue.order_by("alert_id").values_list("alert_id", flat=True)
                   [:limit or settings.CORRELATION_BATCH])
        pending = [a for piece in _pieces(ids)
                   for a in _read(Alert.objects.filter(_among("id", piece)).order_by("id"),
                                  awaiting=True)]
        if not pending:
            return 0
        waiting = {a.pk for a in pending}
        by_resource = defaultdict(list)
        for alert in pending:
            by_resource[alert.resource_id].append(alert)
        neighbours = _neighbours(subscription_id, by_resource, waiting)
        provider = _provider_links(subscription_id, pending, neighbours)
        everyone = pending + [a for alerts in neighbours.values() for a in alerts]
        existing = _incidents_of(everyone)
        # The incidents of one that ingest gave alerts still waiting are not incidents to
        # merge: grouped, they are absorbed silently; alone, they are already right.
        provisional = {a.pk: existing.pop(a.pk) for a in everyone
                       if a.awaiting and a.pk in existing
                       and _is_provisional(existing[a.pk])}
        lone, groups = [], []
        for res_id, alerts in by_resource.items():
            if res_id is None:
                # No resource, nothing to relate: each alert stands alone.
                candidates = [[a] for a in alerts]
            else:
                candidates = _group(alerts + neighbours.get(res_id, []), provider, existing)
            for group in candidates:
                if not waiting.intersection(a.pk for a in group):
                    continue
                if len(group) == 1 and group[0].pk not in existing:
                    if group[0].pk not in provisional:
                        lone.append(group[0])  # the common case, written in bulk
                else:
                    groups.append(group)
        _standalone(lone)
        _absorb([provisional[a.pk] for g in groups for a in g if a.pk in provisional])
        joining = [g for g in groups if any(a.pk in existing for a in g)]
        _new_incidents([g for g in groups if not any(a.pk in existing for a in g)])
        _join(joining, existing, waiting)
        for ids in _pieces(waiting):
            AwaitingCorrelation.objects.filter(_among("alert_id", ids)).delete()
    return len(pending)


def _neighbours(subscription_id, by_resource, waiting):
    """resource id -> the correlated alerts nearest before and after each waiting alert
    within the window (two index probes per alert).

    That is enough: correlated alerts within the window of each other are already in
    one incident, so the nearest one on each side names every incident a waiting alert
    joins, however many alerts the window holds. Alerts still waiting outside this
    batch are left to their own batch, which finds this one correlated."""
    probes = [(resource_id, a.time) for resource_id, alerts in by_resource.items()
              if resource_id is not None for a in alerts]
    found = defaultdict(dict)
    for start in range(0, len(probes), PROBES):
        for alert in _nearest(subscription_id, probes[start:start + PROBES]):
            if alert.pk not in waiting:
                found[alert.resource_id][alert.pk] = alert
    return {resource_id: list(alerts.values()) for resource_id, alerts in found.items()}


def _nearest(subscription_id, probes):
    """The correlated alerts nearest each (resource, time) probe on either side, within
    the window: on PostgreSQL one lateral join against the probes as arrays; elsewhere
    the whole window around each probe, which groups the same."""
    span = window()
    if connection.vendor != "postgresql":
        around = Q()
        for resource_id, time in probes:
            around |= Q(resource_id=resource_id, time__gte=time - span, time__lte=time + span)
        return _read(Alert.objects.filter(around, ~Exists(AwaitingCorrelation.objects.filter(
            alert_id=OuterRef("pk"))), subscription_id=subscription_id), awaiting=False)
    columns = ", ".join(f"a.{Alert._meta.get_field(f).column}" for f in ALERT_FIELDS)
    side = (f"(SELECT {columns} FROM alerts_alert a WHERE a.resource_id = v.resource_id "  # noqa: S608 — names from the model
            "AND a.time {op} v.t AND a.time {bound} AND NOT EXISTS (SELECT FROM "
            f"{AwaitingCorrelation._meta.db_table} q WHERE q.alert_id = a.id) "
            "ORDER BY a.time {order} LIMIT 1)")
    resources, times = zip(*probes, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.* FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(resource_id, t) "  # noqa: S608 — names from the model
            "CROSS JOIN LATERAL ("
            + side.format(op="<=", bound=">= v.t - %s", order="DESC") + " UNION ALL "
            + side.format(op=">=", bound="<= v.t + %s", order="ASC") + ") AS n",
            [array_literal(resources), array_literal(t.isoformat() for t in times), span,
             span])
        rows = cursor.fetchall()
    return _decoded(rows, subscription_id)


def _decoded(rows, subscription_id):
    """Alerts from raw rows of ALERT_FIELDS, those of the subscription only: it is checked
    here, not in SQL, where the planner may AND the subscription's whole index into
    every (resource, time) probe."""
    tactics = ALERT_FIELDS.index("tactics")
    subscription = ALERT_FIELDS.index("subscription_id")
    # The raw cursor leaves JSON as text, as Django's own reads do before decoding.
    return [_Alert((*row[:tactics], json.loads(row[tactics]), *row[tactics + 1:]), False)
            for row in rows if row[subscription] == subscription_id]


def _provider_links(subscription_id, pending, neighbours):
    """alert id -> the producer incident that lists it; listed alerts of the same resources
    that are outside the window are added to the neighbours."""
    alerts = pending + [a for group in neighbours.values() for a in group]
    keys = {a.key for a in alerts}
    incidents = [i for i in ProviderIncident.objects.filter(subscription_id=subscription_id)
                 .only("key", "alert_keys", "provider", "display_name")
                 if keys.intersection(i.alert_keys)]
    listed = {k for i in incidents for k in i.alert_keys} - keys
    resources = {a.resource_id for a in pending if a.resource_id is not None}
    if listed and resources:
        for a in _read(Alert.objects.filter(subscription_id=subscription_id,
                                            resource_id__in=resources,
                                            key__in=list(listed)[:10000])):
            neighbours[a.resource_id].append(a)
            alerts.append(a)
    by_key = {a.key: a.pk for a in alerts}
    links = {}
    for incident in incidents:
        for key in incident.alert_keys:
            if key in by_key:
                links[by_key[key]] = incident
    return links


def show_in_queue(alert_ids):
    """Incidents of one for newly ingested alerts, written in the ingest's transaction so
    that they show in the queue at once, even while the broker is down; correlation
    folds them into their incidents later."""
    for ids in _pieces(alert_ids):
        _standalone(_read(Alert.objects.filter(_among("id", ids)).order_by("id"),
                          awaiting=True))


def _is_provisional(incident):
    """An incident of one given at ingest that nobody has touched yet."""
    return incident.standalone and incident.alert_count == 1 and \
        incident.acknowledged_at is None and incident.assigned_to_id is None and \
        not incident.escalated


def _absorb(incidents):
    """Remove the incidents of one of alerts that now belong to a group (their alerts get
    their place in it next): two statements for the batch."""
    for ids in _pieces({i.pk for i in incidents}):
        IncidentAlert.objects.filter(_among("incident_id", ids)).delete()
        Incident.objects.filter(_among("id", ids)).delete()


def _standalone(alerts):
    """Incidents of one for new alerts with nothing related: two statements in all. An
    incident dates from its first alert's arrival, and its latest activity is its latest
    alert's arrival (the queue ranks by it; the time to acknowledge runs from the first)."""
    if not alerts:
        return
    ids = bulk_insert(Incident, (
        "subscription_id", "resource_id", "standalone", "title", "severity", "status",
        "verdict", "tactics", "alert_count", "active_count", "first_time", "last_time",
        "last_activity", "created_at"), [
        (a.subscription_id, a.resource_id, True, a.display_name, a.severity, a.status,
         a.verdict, killchain.in_order(a.tactics), 1, int(a.status == Status.ACTIVE), a.time,
         a.time, a.ingested_at, a.ingested_at)
        for a in alerts])
    _members([(pk, a) for pk, a in zip(ids, alerts, strict=True)])


def _members(pairs):
    """Write (incident id, alert) memberships."""
    bulk_insert(IncidentAlert, ("incident_id", "alert_id", "subscription_id", "time"), [
        (pk, a.pk, a.subscription_id, a.time) for pk, a in pairs])


def _new_incidents(groups):
    """Incidents for groups of new alerts only: every alert is in memory, so they are
    summarised without queries and written in bulk (mentions read once for all)."""
    if not groups:
        return
    names = _resource_names({g[0].resource_id for g in groups})
    values = []
    for group in groups:
        alerts = sorted(group, key=lambda a: (a.time, a.pk))
        active = [a for a in alerts if a.status == Status.ACTIVE] or alerts
        provider = next((a.provider_incident for a in alerts
                         if getattr(a, "provider_incident", None)), None)
        # Alerts all closed on arrival (suppressed) make a closed incident, not a new task.
        closed = not any(a.status == Status.ACTIVE for a in alerts)
        status = alerts[0].status if closed else Incident.Status.ACTIVE
        values.append((
            alerts[0].subscription_id, alerts[0].resource_id, False,
            _title(names, alerts[0].resource_id),
            min(a.severity for a in active), status, alerts[0].verdict if closed else "",
            killchain.in_order([t for a in alerts for t in a.tactics]), len(alerts),
            sum(a.status == Status.ACTIVE for a in alerts), alerts[0].time, alerts[-1].time,
            max(a.ingested_at for a in active), provider.key if provider else "",
            min(a.ingested_at for a in alerts)))
    ids = bulk_insert(Incident, (
        "subscription_id", "resource_id", "standalone", "title", "severity",
        "status", "verdict", "tactics", "alert_count", "active_count",
        "first_time", "last_time", "last_activity", "provider_key", "created_at"), values)
    _members([(pk, a) for pk, group in zip(ids, groups, strict=True) for a in group])
    incidents_created.send(sender=Incident, subscription_id=groups[0][0].subscription_id,
                           incident_ids=list(ids))


SUMMARY_FIELDS = ("alert_count", "active_count", "first_time", "last_time", "severity",
                  "standalone", "provider_key", "tactics", "title", "last_activity",
                  "created_at")
INCIDENT_FIELDS = ("id", "subscription_id", "resource_id", "standalone", "title", "status",
                   "severity", "tactics", "alert_count", "active_count", "first_time",
                   "last_time", "provider_key", "last_activity", "created_at", "acknowledged_at",
                   "assigned_to_id", "escalated")


class _Incident:
    """An incident as correlation reads (INCIDENT_FIELDS) and writes it (SUMMARY_FIELDS)."""

    __slots__ = tuple(dict.fromkeys((*INCIDENT_FIELDS, *SUMMARY_FIELDS, "verdict")))

    def __init__(self, row):
        for name, value in zip(INCIDENT_FIELDS, row, strict=True):
            setattr(self, name, value)

    @property
    def pk(self):
        return self.id


def _incidents_of(alerts):
    """alert id -> the incident it is in; one object per incident, so a merge seen
    through one alert is seen through all."""
    by_alert, incidents = {}, {}
    for ids in _pieces(a.pk for a in alerts):
        by_alert.update(IncidentAlert.objects.filter(_among("alert_id", ids))
                        .values_list("alert_id", "incident_id"))
    for ids in _pieces(set(by_alert.values())):
        incidents.update((row[0], _Incident(row)) for row in Incident.objects.filter(
            _among("id", ids)).values_list(*INCIDENT_FIELDS))
    return {alert_id: incidents[pk] for alert_id, pk in by_alert.items()}


def _group(alerts, provider, existing):
    """Single linkage on time within the window, plus the incidents the alerts are already
    in, plus the producers' own groupings."""
    alerts = sorted({a.pk: a for a in alerts}.values(), key=lambda a: (a.time, a.pk))
    parent = {a.pk: a.pk for a in alerts}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    span = window()
    for before, after in zip(alerts, alerts[1:], strict=False):
        if after.time - before.time <= span:
            union(before.pk, after.pk)
    together = defaultdict(list)
    for alert_id, incident in provider.items():
        if alert_id in parent:  # the links cover the whole batch, this is one resource
            together[("provider", incident.key)].append(alert_id)
    for a in alerts:
        if a.pk in existing and not existing[a.pk].standalone:
            together[("incident", existing[a.pk].pk)].append(a.pk)
    for ids in together.values():
        for other in ids[1:]:
            union(ids[0], other)
    groups = defaultdict(list)
    for a in alerts:
        groups[find(a.pk)].append(a)
        a.provider_incident = provider.get(a.pk)
    return list(groups.values())


def _join(groups, existing, waiting):
    """Groups that touch incidents already there: each becomes one of them (`_survivor`),
    the others merged into it. Counts, times, severity and tactics are folded from the
    incidents' stored figures and the alerts that arrive (its words are written when it
    is read: narrative.py). Nothing reads an incident's alerts, so joining costs the same
    however large the incident grew. The incidents are written back with one UPDATE per
    chunk."""
    if not groups:
        return
    plans = _plans(groups, existing)
    merged = [(other, plan.target) for plan in plans for other in plan.others]
    _move_members([(other.pk, target.pk) for other, target in merged])
    activity.record_many(
        {"actor": SYSTEM, "verb": "incident.merge", "target_type": "incident",
         "target_id": target.pk, "target_label": target.title,
         "subscription_id": target.subscription_id,
         "reason": f"an alert bridged it with incident {other.pk}",
         "before": {"merged": other.pk}} for other, target in merged)
    if merged:
        Incident.objects.filter(pk__in=[o.pk for o, _ in merged]).delete()
    _members([(plan.target.pk, a) for plan in plans for a in plan.alerts
              if a.pk not in existing])

    # Only incidents of one that grow need a new title, hence their resource's name.
    names = _resource_names({p.target.resource_id for p in plans if p.target.standalone})
    reopened = []
    for plan in plans:
        target, arrived = plan.target, [a for a in plan.alerts if a.pk in waiting]
        before = {"status": target.status, "alert_count": target.alert_count}
        alone = target.standalone
        _fold(target, plan, existing)
        if alone and not target.standalone:
            target.title = _title(names, target.resource_id)
        if plan.provider is not None:
            target.provider_key = plan.provider.key
        fresh = [a for a in arrived if a.status == Status.ACTIVE]
        if fresh and target.status != Incident.Status.ACTIVE:
            # Back in the queue: unacknowledged work again, its clock from this alert.
            target.status, target.verdict = Incident.Status.ACTIVE, ""
            target.created_at = min(a.ingested_at for a in fresh)
            reopened.append((target, fresh[0], before))
    # Only the summary: a triage change made meanwhile (status, owner) is not overwritten.
    for start in range(0, len(plans), CHUNK):
        bulk_update(Incident, SUMMARY_FIELDS, [
            (p.target.pk, *(getattr(p.target, f) for f in SUMMARY_FIELDS))
            for p in plans[start:start + CHUNK]])
    if reopened:
        Incident.objects.filter(pk__in=[t.pk for t, _, _ in reopened])\
            .update(status=Incident.Status.ACTIVE, verdict="", acknowledged_at=None)
    activity.record_many(
        {"actor": SYSTEM, "verb": "incident.reopen", "target_type": "incident",
         "target_id": target.pk, "target_label": target.title,
         "subscription_id": target.subscription_id,
         "reason": f"new alert: {alert.display_name}", "before": before,
         "after": {"status": target.status, "alert_count": target.alert_count}}
        for target, alert, before in reopened)



class _Plan:
    """What becomes of the incidents one group touches: `target` survives."""

    __slots__ = ("alerts", "incidents", "others", "provider", "target")

    def __init__(self):
        self.alerts, self.incidents = [], {}


def _survivor(incident):
    """Which of the incidents a group touches survives, smallest first: one an analyst has
    worked on (their work stays where they left it), else the one with most alerts (fewest
    memberships move), else the oldest."""
    touched = incident.acknowledged_at is not None or incident.assigned_to_id is not None \
        or incident.escalated
    return (not touched, -incident.alert_count, incident.pk)


def _plans(groups, existing):
    # Groups touching one incident become one plan (grouping is per resource, so this
    # only happens with an incident whose alerts are on several resources).
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    touched = []
    for group in groups:
        ids = [existing[a.pk].pk for a in group if a.pk in existing]
        touched.append(ids)
        for other in ids[1:]:
            ra, rb = find(ids[0]), find(other)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    plans = defaultdict(_Plan)
    for group, ids in zip(groups, touched, strict=True):
        plan = plans[find(ids[0])]
        plan.alerts += group
        for a in group:
            if a.pk in existing:
                plan.incidents[existing[a.pk].pk] = existing[a.pk]
    for plan in plans.values():
        ordered = sorted(plan.incidents.values(), key=_survivor)
        plan.target, plan.others = ordered[0], ordered[1:]
        plan.provider = next((a.provider_incident for a in plan.alerts
                              if getattr(a, "provider_incident", None)), None)
    return list(plans.values())


def _title(names, resource_id):
    """The title of an incident of several alerts (`names`: resource id -> name)."""
    return f"Security incident detected on {names.get(resource_id, 'an unknown resource')}"


def _move_members(moves):
    """Move the alerts of incidents to others: (from id, to id) pairs."""
    if connection.vendor == "postgresql" and moves:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_incidentalert AS m SET incident_id = v.target FROM "
                "unnest(%s::bigint[], %s::bigint[]) AS v(source, target) "
                "WHERE m.incident_id = v.source",
                [array_literal(o for o, _ in moves), array_literal(t for _, t in moves)])
        return
    for start in range(0, len(moves), CHUNK):
        chunk = moves[start:start + CHUNK]
        IncidentAlert.objects.filter(incident_id__in=[o for o, _ in chunk]).update(
            incident_id=Case(*[When(incident_id=o, then=Value(t)) for o, t in chunk]))


def _resource_names(resource_ids):
    names = {}
    for ids in _pieces(r for r in resource_ids if r is not None):
        names.update(Resource.objects.filter(_among("id", ids)).values_list("pk", "name"))
    return names


def _fold(incident, plan, existing):
    """The incident's figures once the plan is done, from the figures of the incidents it
    takes in and the alerts that arrive: the severity is the worst of the active alerts
    (each incident's severity already is, where it has some), or of all when none is."""
    parts = [(p.alert_count, p.active_count, p.first_time, p.last_time, p.severity, p.tactics,
              p.last_activity, p.created_at)
             for p in plan.incidents.values()]  # before the target, one of them, changes
    arriving = list({a.pk: a for a in plan.alerts if a.pk not in existing}.values())
    active = [a for a in arriving if a.status == Status.ACTIVE]
    incident.alert_count = sum(p[0] for p in parts) + len(arriving)
    incident.active_count = sum(p[1] for p in parts) + len(active)
    incident.first_time = min([p[2] for p in parts] + [a.time for a in arriving])
    incident.last_time = max([p[3] for p in parts] + [a.time for a in arriving])
    if incident.active_count:
        incident.severity = min([p[4] for p in parts if p[1]] + [a.severity for a in active])
    else:
        incident.severity = min([p[4] for p in parts] + [a.severity for a in arriving])
    incident.tactics = killchain.in_order([t for p in parts for t in p[5]] +
                                          [t for a in arriving for t in a.tactics])
    incident.standalone = incident.alert_count == 1
    # Alerts dismissed on arrival (suppressed) are no news: they do not move it up.
    incident.last_activity = max([p[6] for p in parts] + [a.ingested_at for a in active])
    incident.created_at = min([p[7] for p in parts] + [a.ingested_at for a in arriving])
