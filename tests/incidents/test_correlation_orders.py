"""Correlation in any order and any batch size gives the same incidents, with the same
figures as recomputing them from all their alerts: the stored running figures (counts,
times, worst active severity, tactics) and the nearest-neighbour reads must not drift."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from alerts import tactics as killchain
from alerts.models import Alert, AwaitingCorrelation
from incidents.correlation import correlate
from incidents.models import Incident, IncidentAlert
from incidents.narrative import narrate
from inventory.models import Resource
from tests.conftest import make_subscription

START = datetime(2026, 11, 1, tzinfo=UTC)
TACTICS = ["InitialAccess", "Execution", "CredentialAccess", "Exfiltration"]


def specs(seed, n=160, resources=4):
    """Alerts spread so that some are alone, some chain across days and some bridge."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        hours = rng.choice([rng.uniform(0, 24 * 12), rng.uniform(0, 30)])
        out.append({"key": f"k{i}", "resource": rng.randrange(resources + 1),
                    "time": START + timedelta(hours=hours), "severity": rng.randrange(4),
                    "status": rng.choice(["active", "active", "dismissed"]),
                    "tactics": rng.sample(TACTICS, rng.randrange(3))})
    return out


def load(subscription, items, order_seed, batch_sizes):
    """Write the alerts in a shuffled order (ids follow it) and correlate them in
    batches of the given sizes, some written after others were correlated already."""
    res = [Resource.objects.create(subscription=subscription, kind="virtual_machine",
                                   name=f"vm-{i}") for i in range(5)]
    items = items[:]
    random.Random(order_seed).shuffle(items)
    rng = random.Random(order_seed)
    written = 0
    while written < len(items):
        chunk = items[written:written + rng.choice(batch_sizes)]
        written += len(chunk)
        for spec in chunk:
            alert = Alert.objects.create(
                subscription=subscription, key=spec["key"], format="native",
                provider="tests", display_name=f"Alert {spec['key']}",
                severity=spec["severity"], status=spec["status"],
                verdict="false_positive" if spec["status"] == "dismissed" else "",
                tactics=spec["tactics"], time=spec["time"], start_time=spec["time"],
                first_seen=spec["time"], last_seen=spec["time"], ingested_at=spec["time"],
                resource=res[spec["resource"]] if spec["resource"] < 4 else None)
            AwaitingCorrelation.objects.create(alert=alert, subscription=subscription)
        while correlate(subscription_id=subscription.pk, limit=rng.choice(batch_sizes)):
            pass


def components(items):
    """Single linkage within the window per resource, computed from scratch."""
    span = timedelta(hours=settings.CORRELATION_WINDOW_HOURS)
    groups = []
    by_resource = defaultdict(list)
    for spec in items:
        if spec["resource"] == 4:
            groups.append({spec["key"]})
        else:
            by_resource[spec["resource"]].append(spec)
    for specs_ in by_resource.values():
        specs_.sort(key=lambda s: s["time"])
        current = {specs_[0]["key"]}
        for before, after in zip(specs_, specs_[1:], strict=False):
            if after["time"] - before["time"] > span:
                groups.append(current)
                current = set()
            current.add(after["key"])
        groups.append(current)
    return sorted(sorted(g) for g in groups)


def incidents(subscription):
    members = defaultdict(list)
    for incident_id, alert in ((m.incident_id, m.alert) for m in IncidentAlert.objects.filter(
            subscription_id=subscription.pk).select_related("alert")):
        members[incident_id].append(alert)
    out = {}
    for incident in Incident.objects.filter(subscription=subscription):
        alerts = members[incident.pk]
        active = [a for a in alerts if a.status == "active"]
        # The stored figures equal those recomputed from every alert.
        assert incident.alert_count == len(alerts)
        assert incident.active_count == len(active)
        assert incident.severity == min(a.severity for a in active or alerts)
        assert incident.first_time == min(a.time for a in alerts)
        assert incident.last_time == max(a.time for a in alerts)
        assert incident.tactics == killchain.in_order([t for a in alerts for t in a.tactics])
        assert incident.standalone == (len(alerts) == 1)
        assert {m.time for m in incident.members.all()} == {a.time for a in alerts}
        out[tuple(sorted(a.key for a in alerts))] = (
            incident.title, narrate(incident).description,
            [r["code"] for r in narrate(incident).reasons])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_batch_size_give_the_same_incidents(db, seed):
    items = specs(seed)
    whole = make_subscription("all at once")
    load(whole, items, order_seed=0, batch_sizes=[len(items)])
    pieces = make_subscription("in pieces")
    load(pieces, items, order_seed=seed + 10, batch_sizes=[1, 3, 7, 20])
    expected = components(items)
    at_once, in_pieces = incidents(whole), incidents(pieces)
    assert sorted(list(k) for k in at_once) == expected
    assert sorted(list(k) for k in in_pieces) == expected
    # Titles, descriptions and reasons depend on the alerts, not on their order.
    assert in_pieces == at_once
