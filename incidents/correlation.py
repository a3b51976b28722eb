"""Correlation: related alerts on one resource become one incident.

Alerts on the same resource whose times fall within the window of each other
(single linkage: A–B and B–C within the window put A, B, C together) form an
incident once there are at least two; an alert with no related alert is an
incident of one ("standalone"), so the queue is one table. A late alert that
fits joins its incident; one that bridges two incidents merges them (the older
one survives). The alerts a producer's own incident lists (IsIncident) are held
together whatever their times, with the producer named as a reason.

Ingest marks each new alert `awaiting_correlation`; `correlate` works through
them resource by resource, each in its own transaction under an advisory lock
on the resource, so two workers never correlate one resource at once, and a
crash mid-way leaves the alerts marked for the next run. Running it again
changes nothing: it is idempotent.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from alerts import tactics as killchain
from alerts.models import Alert, AlertEntity, ProviderIncident, Severity, Status
from incidents.models import Incident, IncidentAlert
from inventory import activity
from inventory.activity import Actor
from inventory.models import Resource

CORRELATE_LOCK = 7_300_002
SYSTEM = Actor.of_system("correlation")
# Kinds whose sharing says something about an attack (a host is the resource itself).
TELLING_KINDS = ("ip", "account", "filehash", "file", "url", "dns", "process", "malware",
                 "mailbox", "azure-resource")
ALERT_FIELDS = ("id", "subscription_id", "resource_id", "key", "display_name", "severity",
                "verdict", "status", "tactics", "time", "provider")


def window():
    return timedelta(hours=settings.CORRELATION_WINDOW_HOURS)


def correlate(*, subscription_id=None, limit=None):
    """Correlate alerts awaiting correlation; returns how many alerts were correlated."""
    limit = limit or settings.CORRELATION_BATCH
    pending = Alert.objects.filter(awaiting_correlation=True)
    if subscription_id is not None:
        pending = pending.filter(subscription_id=subscription_id)
    done = 0
    for sub_id in pending.order_by().values_list("subscription_id", flat=True).distinct():
        done += _correlate(sub_id, limit=limit - done)
        if done >= limit:
            break
    return done


def correlate_resource(subscription_id, resource_id):
    """Correlate one resource's waiting alerts; returns how many there were."""
    return _correlate(subscription_id, resource_id=resource_id, only_resource=True)


def _lock(subscription_id):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                           [CORRELATE_LOCK, subscription_id % 2**31])
    # SQLite: transactions begin IMMEDIATE (settings), which serialises writers.


CHUNK = 1000


def _correlate(subscription_id, *, limit=None, resource_id=None, only_resource=False):
    """Correlate a subscription's waiting alerts (at most `limit`) in one transaction.

    The waiting alerts, their neighbours (the same resource, within the window), the
    incidents they are in and the producers' groupings are read with a few queries for
    the whole batch; grouping is done in memory per resource; lone new alerts become
    incidents of one in bulk. Only the alerts within the window of a waiting alert are
    read, so an incident grown to thousands of alerts costs a few aggregate queries, not
    a scan: the cost per alert does not grow with the total.
    """
    with transaction.atomic():
        _lock(subscription_id)
        waiting_qs = Alert.objects.filter(subscription_id=subscription_id,
                                          awaiting_correlation=True).only(*ALERT_FIELDS)
        if only_resource:
            waiting_qs = waiting_qs.filter(resource_id=resource_id)
        pending = list(waiting_qs.order_by("id")[:limit or settings.CORRELATION_BATCH])
        if not pending:
            return 0
        waiting = {a.pk for a in pending}
        by_resource = defaultdict(list)
        for alert in pending:
            by_resource[alert.resource_id].append(alert)
        neighbours = _neighbours(subscription_id, by_resource, waiting)
        provider = _provider_links(subscription_id, pending, neighbours)
        existing = _incidents_of(pending + [a for alerts in neighbours.values()
                                            for a in alerts])
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
                    lone.append(group[0])  # the common case, written in bulk
                else:
                    groups.append(group)
        _standalone(lone)
        fresh = [g for g in groups if not any(a.pk in existing for a in g)]
        _new_incidents(fresh)
        for group in groups:
            if any(a.pk in existing for a in group):
                _settle(group, existing, waiting)
        ids = list(waiting)
        for start in range(0, len(ids), CHUNK):
            Alert.objects.filter(pk__in=ids[start:start + CHUNK])\
                .update(awaiting_correlation=False)
    return len(pending)


def _neighbours(subscription_id, by_resource, waiting):
    """resource id -> its other alerts within the window of one of its waiting alerts."""
    span = window()
    ranges = {r: (min(a.time for a in alerts) - span, max(a.time for a in alerts) + span)
              for r, alerts in by_resource.items() if r is not None}
    found = defaultdict(list)
    resources = list(ranges)
    for start in range(0, len(resources), CHUNK):
        chunk = resources[start:start + CHUNK]
        low = min(ranges[r][0] for r in chunk)
        high = max(ranges[r][1] for r in chunk)
        for alert in Alert.objects.filter(subscription_id=subscription_id,
                                          resource_id__in=chunk, time__gte=low,
                                          time__lte=high).only(*ALERT_FIELDS):
            r_low, r_high = ranges[alert.resource_id]
            if alert.pk not in waiting and r_low <= alert.time <= r_high:
                found[alert.resource_id].append(alert)
    return found


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
        for a in Alert.objects.filter(subscription_id=subscription_id,
                                      resource_id__in=resources,
                                      key__in=list(listed)[:10000]).only(*ALERT_FIELDS):
            neighbours[a.resource_id].append(a)
            alerts.append(a)
    by_key = {a.key: a.pk for a in alerts}
    links = {}
    for incident in incidents:
        for key in incident.alert_keys:
            if key in by_key:
                links[by_key[key]] = incident
    return links


def _standalone(alerts):
    """Incidents of one for new alerts with nothing related: two statements in all."""
    if not alerts:
        return
    now = timezone.now()
    incidents = Incident.objects.bulk_create([Incident(
        subscription_id=a.subscription_id, resource_id=a.resource_id, standalone=True,
        title=a.display_name, severity=a.severity, status=a.status, verdict=a.verdict,
        tactics=killchain.in_order(a.tactics), alert_count=1, first_time=a.time,
        last_time=a.time, last_activity=now, created_at=now) for a in alerts])
    IncidentAlert.objects.bulk_create([
        IncidentAlert(incident=i, alert_id=a.pk, subscription_id=a.subscription_id)
        for i, a in zip(incidents, alerts, strict=True)])


def _new_incidents(groups):
    """Incidents for groups of new alerts only: every alert is in memory, so they are
    summarised without queries and written in bulk (mentions read once for all)."""
    if not groups:
        return
    now = timezone.now()
    rows = _entity_rows([a.pk for g in groups for a in g])
    names = dict(Resource.objects.filter(pk__in={g[0].resource_id for g in groups})
                 .values_list("pk", "name"))
    incidents = []
    for group in groups:
        alerts = sorted(group, key=lambda a: (a.time, a.pk))
        active = [a for a in alerts if a.status == Status.ACTIVE] or alerts
        provider = next((a.provider_incident for a in alerts
                         if getattr(a, "provider_incident", None)), None)
        where = names.get(alerts[0].resource_id, "an unknown resource")
        # Alerts all closed on arrival (suppressed) make a closed incident, not a new task.
        closed = not any(a.status == Status.ACTIVE for a in alerts)
        status = alerts[0].status if closed else Incident.Status.ACTIVE
        incidents.append(Incident(
            subscription_id=alerts[0].subscription_id, resource_id=alerts[0].resource_id,
            standalone=False, title=f"Security incident detected on {where}",
            description=_describe(alerts, where, len(alerts)),
            severity=min(a.severity for a in active), status=status,
            verdict=alerts[0].verdict if closed else "",
            reasons=_reasons(alerts, where, provider, len(alerts), rows),
            tactics=killchain.in_order([t for a in alerts for t in a.tactics]),
            alert_count=len(alerts), first_time=alerts[0].time, last_time=alerts[-1].time,
            last_activity=now, provider_key=provider.key if provider else "",
            created_at=now))
    Incident.objects.bulk_create(incidents)
    IncidentAlert.objects.bulk_create([
        IncidentAlert(incident=incident, alert_id=a.pk, subscription_id=a.subscription_id)
        for incident, group in zip(incidents, groups, strict=True) for a in group])


def _incidents_of(alerts):
    by_alert, ids = {}, [a.pk for a in alerts]
    for start in range(0, len(ids), CHUNK):
        for m in IncidentAlert.objects.filter(alert_id__in=ids[start:start + CHUNK])\
                .select_related("incident"):
            by_alert[m.alert_id] = m.incident
    # One object per incident, so a merge seen through one alert is seen through all.
    shared = {}
    return {k: shared.setdefault(v.pk, v) for k, v in by_alert.items()}


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


def _settle(group, existing, waiting):
    """Make `group` one incident: reuse the oldest, merge the others into it."""
    incidents = sorted({existing[a.pk].pk: existing[a.pk] for a in group
                        if a.pk in existing}.values(),
                       key=lambda i: (i.standalone, i.pk))
    now = timezone.now()
    new_alerts = [a for a in group if a.pk not in existing]
    if incidents:
        target = incidents[0]
    else:
        first = group[0]
        target = Incident.objects.create(
            subscription_id=first.subscription_id, resource_id=first.resource_id,
            title=first.display_name, severity=first.severity, first_time=first.time,
            last_time=first.time, last_activity=now, created_at=now)
    for other in incidents[1:]:
        IncidentAlert.objects.filter(incident=other).update(incident=target)
        activity.record(actor=SYSTEM, verb="incident.merge", target_type="incident",
                        target_id=target.pk, target_label=target.title,
                        subscription_id=target.subscription_id,
                        reason=f"an alert bridged it with incident {other.pk}",
                        before={"merged": other.pk})
        other.delete()
    IncidentAlert.objects.bulk_create([
        IncidentAlert(incident=target, alert_id=a.pk, subscription_id=a.subscription_id)
        for a in new_alerts])
    arrived = [a for a in group if a.pk in waiting]
    reopened = bool(arrived) and target.status != Incident.Status.ACTIVE and \
        any(a.status == Status.ACTIVE for a in arrived)
    before = {"status": target.status, "alert_count": target.alert_count}
    provider = next((a.provider_incident for a in group
                     if getattr(a, "provider_incident", None)), None)
    _summarise(target, provider)
    if arrived:
        target.last_activity = now
    if reopened:
        target.status, target.verdict = Incident.Status.ACTIVE, ""
    target.save()
    if reopened:
        activity.record(actor=SYSTEM, verb="incident.reopen", target_type="incident",
                        target_id=target.pk, target_label=target.title,
                        subscription_id=target.subscription_id,
                        reason=f"new alert: {arrived[0].display_name}", before=before,
                        after={"status": target.status, "alert_count": target.alert_count})


SAMPLE = 300  # alerts read to describe an incident: its first and its latest


def _summarise(incident, provider):
    """Count, times and severity from aggregates over all the incident's alerts; tactics,
    title, description and reasons from its first and latest alerts."""
    members = Alert.objects.filter(membership__incident=incident)
    stats = members.aggregate(n=Count("id"), first=Min("time"), last=Max("time"),
                              worst=Min("severity"),
                              worst_active=Min("severity", filter=Q(status=Status.ACTIVE)))
    incident.alert_count = stats["n"]
    incident.first_time, incident.last_time = stats["first"], stats["last"]
    incident.severity = stats["worst_active"] if stats["worst_active"] is not None \
        else stats["worst"]
    incident.standalone = stats["n"] == 1
    if provider is not None:
        incident.provider_key = provider.key
    fields = ("id", "display_name", "tactics", "time", "provider")
    half = SAMPLE // 2
    alerts = list(members.only(*fields).order_by("time", "id")[:half])
    if stats["n"] > half:
        seen = {a.pk for a in alerts}
        alerts += [a for a in members.only(*fields).order_by("-time", "-id")[:half]
                   if a.pk not in seen]
        alerts.sort(key=lambda a: (a.time, a.pk))
    incident.tactics = killchain.in_order([t for a in alerts for t in a.tactics])
    if incident.standalone:
        incident.title = alerts[0].display_name
        incident.description = ""
        incident.reasons = []
        return
    where = incident.resource.name if incident.resource_id else "an unknown resource"
    incident.title = f"Security incident detected on {where}"
    incident.description = _describe(alerts, where, stats["n"])
    if provider is None and incident.provider_key:
        provider = ProviderIncident.objects.filter(
            subscription_id=incident.subscription_id, key=incident.provider_key).first()
    incident.reasons = _reasons(alerts, where, provider, stats["n"])


def _stage(alert):
    stages = killchain.in_order(alert.tactics)
    return stages[0] if stages else ""


def _describe(alerts, where, count):
    ordered = sorted(alerts, key=lambda a: (killchain.ORDER.get(_stage(a), 99), a.time))
    steps = " → ".join(
        f"{a.display_name}" + (f" ({killchain.LABELS[_stage(a)]})" if _stage(a) in
                               killchain.LABELS else "") for a in ordered[:12])
    more = f" and {count - 12} more" if count > 12 else ""
    return (f"{count} alerts on {where} between {alerts[0].time:%Y-%m-%d %H:%M} and "
            f"{alerts[-1].time:%Y-%m-%d %H:%M} UTC, in kill-chain order: {steps}{more}.")


def _reasons(alerts, where, provider, count, rows=None):
    hours = settings.CORRELATION_WINDOW_HOURS
    reasons = [{"code": "same_resource", "text": f"All {count} alerts are on {where}."},
               {"code": "within_window",
                "text": f"Each alert is within {hours} hours of another."}]
    for label in shared_entities([a.pk for a in alerts], rows)[:5]:
        reasons.append({"code": "shared_entity", "text": f"They share {label}."})
    stages = [_stage(a) for a in alerts if _stage(a)]
    distinct = list(dict.fromkeys(stages))
    if len(distinct) >= 2 and [killchain.ORDER[s] for s in stages] == \
            sorted(killchain.ORDER[s] for s in stages):
        reasons.append({"code": "kill_chain", "text": "Their tactics follow the kill chain: "
                        + " → ".join(killchain.LABELS[s] for s in distinct) + "."})
    if provider:
        reasons.append({"code": "provider",
                        "text": f"{provider.provider or 'The producer'} grouped them as "
                                f"“{provider.display_name}”."})
    return reasons


def shared_entities(alert_ids, rows=None):
    """'the ip 203.0.113.87'-like labels of telling entities two or more alerts share.
    `rows` (from `_entity_rows`) lets a batch read the mentions once for many groups."""
    wanted = set(alert_ids)
    counts = defaultdict(set)
    labels = {}
    for entity_id, alert_id, kind, label in (_entity_rows(alert_ids) if rows is None
                                             else rows):
        if alert_id not in wanted:
            continue
        counts[entity_id].add(alert_id)
        short = label if len(label) <= 80 else label[:77] + "…"
        labels[entity_id] = (TELLING_KINDS.index(kind) if kind in TELLING_KINDS else 99,
                             f"the {kind} {short}")
    shared = [e for e, alerts in counts.items() if len(alerts) >= 2]
    # Addresses and accounts first: they say most about an attack.
    shared.sort(key=lambda e: (labels[e][0], -len(counts[e]), labels[e][1]))
    return [labels[e][1] for e in shared]


def _entity_rows(alert_ids):
    ids = list(alert_ids)
    rows = []
    for start in range(0, len(ids), CHUNK):
        rows += AlertEntity.objects.filter(
            alert_id__in=ids[start:start + CHUNK], kind__in=TELLING_KINDS).values_list(
            "entity_id", "alert_id", "entity__kind", "entity__label")
    return rows


def worst(severities):
    return min(severities, default=Severity.INFORMATIONAL)
