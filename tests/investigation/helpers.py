"""Alerts with a small attack in their entities, and the incident they make."""

import json
from datetime import UTC, datetime, timedelta

from alerts.ingest.store import ingest_body
from alerts.models import Alert
from incidents.correlation import correlate
from incidents.models import IncidentAlert
from tests.conftest import SYSTEM
from tests.factories import native_alert

HOSTILE = '<script>alert(1)</script><img src=x onerror="window.__x=1">'


def attack_entities(host="vm-inv-01", account="alice", ip="203.0.113.50", dangling=False,
                    command="powershell.exe -enc AAAA"):
    entities = [
        {"$id": "1", "Type": "host", "HostName": host, "NTDomain": "CONTOSO"},
        {"$id": "2", "Type": "account", "Name": account, "NTDomain": "CONTOSO"},
        {"$id": "3", "Type": "ip", "Address": ip},
        {"$id": "4", "Type": "process", "ProcessId": "4242", "CommandLine": command,
         "CreationTimeUtc": "2026-11-27T10:00:00Z", "Host": {"$ref": "1"},
         "Account": {"$ref": "2"},
         "ImageFile": {"$id": "5", "Type": "file", "Name": "powershell.exe",
                       "Directory": "C:\\Windows\\System32"}},
    ]
    if dangling:
        entities.append({"$id": "6", "Type": "process", "ProcessId": "77",
                         "CommandLine": "evil.exe", "CreationTimeUtc": "2026-11-27T10:01:00Z",
                         "Host": {"$ref": "1"}, "ParentProcess": {"$ref": "99"}})
    return entities


def ingest(subscription, alerts):
    """Ingest native alerts (dicts) in one body; returns the Alert rows in order."""
    report = ingest_body(subscription, json.dumps(alerts).encode(), "application/json",
                         actor=SYSTEM)
    assert all(r.status == "created" for r in report.results), report.as_dict()
    return [Alert.objects.get(pk=r.id) for r in report.results]


def incident_with(subscription, count=2, host="vm-inv-01", start=None, **kwargs):
    """`count` alerts an hour apart on one host, correlated into one incident."""
    start = start or datetime(2026, 11, 27, 8, tzinfo=UTC)
    alerts = ingest(subscription, [native_alert(
        display_name=f"Step {i}", compromised_entity=host,
        start_time=(start + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        entities=attack_entities(host=host, **kwargs)) for i in range(count)])
    correlate(subscription_id=subscription.pk)
    incidents = {IncidentAlert.objects.get(alert=a).incident for a in alerts}
    assert len(incidents) == 1, incidents
    return incidents.pop(), alerts
