"""Shared helpers for the alert ingestion behaviour tests."""

import json

from alerts.ingest.store import ingest_body
from alerts.models import AlertEntity, Relation
from tests.conftest import FIXTURES, SYSTEM

SENTINEL = FIXTURES / "sentinel-securityalert.jsonl"
ARM_LIST = FIXTURES / "defender-arm-list.json"
EXPORT = FIXTURES / "defender-export-alert.json"
EVENTS = FIXTURES / "windows-events.jsonl"
NDJSON = "application/x-ndjson"
JSON = "application/json"
VM1 = "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/VM1"


def sentinel_rows():
    return [json.loads(line) for line in SENTINEL.read_bytes().splitlines() if line.strip()]


def sentinel_entities(row):
    return json.loads(row["Entities"]) if row.get("Entities") else []


def arm_alerts():
    """The alerts of the ARM list fixture, as the REST API lists them."""
    return json.loads(ARM_LIST.read_text(encoding="utf-8"))["value"]


def rest_example(alerts):
    """An Azure REST API specs example file listing `alerts`, as its 200 response."""
    return {"parameters": {"api-version": "2022-01-01",
                           "subscriptionId": "6f1c0d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5"},
            "responses": {"200": {"body": {"value": alerts}}}}


def export_alert():
    return json.loads(EXPORT.read_text(encoding="utf-8"))


def ingest(subscription, payload, content_type=JSON, **kwargs):
    """Ingest a Python object (dumped as JSON) or bytes as sent."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    kwargs.setdefault("actor", SYSTEM)
    return ingest_body(subscription, body, content_type, **kwargs)


def ndjson(items):
    return b"\n".join(json.dumps(item).encode() for item in items) + b"\n"


def native(key, entities=(), **fields):
    """A bare native alert with exactly the entities given."""
    alert = {"id": key, "display_name": f"Alert {key}", "severity": "high",
             "start_time": "2026-11-27T10:00:00Z", "entities": list(entities)}
    alert.update(fields)
    return alert


def mention_partition(subscription):
    """The mentions of a subscription grouped by entity: {frozenset((alert key, position))}."""
    groups = {}
    for entity_id, key, position in AlertEntity.objects.filter(
            alert__subscription=subscription).values_list("entity_id", "alert__key", "position"):
        groups.setdefault(entity_id, set()).add((key, position))
    return {frozenset(group) for group in groups.values()}


def mention(alert, position):
    return AlertEntity.objects.select_related("entity").get(alert=alert, position=position)


def edges(alert):
    """An alert's relations as (source position, target position, type, property)."""
    return {(r.source.position, r.target.position if r.target_id else None, r.type, r.prop)
            for r in Relation.objects.filter(alert=alert).select_related("source", "target")}
