import json
from datetime import UTC, datetime

import pytest

from alerts.ingest.parse import ItemRejected, normalize

EXPORT = {
    "SystemAlertId": "2518-abc", "AlertDisplayName": "Suspicious process", "Severity": "Medium",
    "AlertType": "VM_Suspicious", "Intent": "Execution,persistence", "Status": "InProgress",
    "TimeGenerated": "2024-03-01T10:00:00.1234567Z", "StartTimeUtc": "2024-03-01T09:59:00Z",
    "ProductName": "Microsoft Defender for Cloud", "VendorName": "Microsoft",
    "ResourceIdentifiers": [
        {"$id": "2", "AzureResourceId": "/subscriptions/s1/vm/vm9", "Type": "AzureResource"},
        {"$id": "3", "WorkspaceSubscriptionId": "ws-sub", "Type": "LogAnalytics"},
    ],
    "RemediationSteps": ["Step one.", "Step two."],
    "ExtendedProperties": {"a": "b"},
    "Entities": [{"$id": "4", "HostName": "vm9", "Type": "host"}],
}


def rejected(data, **kwargs):
    with pytest.raises(ItemRejected) as info:
        normalize(data, **kwargs)
    return info.value


def codes(alert):
    return [warning.code for warning in alert.warnings]


def test_it_reads_the_native_format(make_native):
    alert = normalize(make_native(
        severity="MEDIUM", tactics=["initial access", "Execution", "Lurking"],
        techniques=["T1059"], start_time="2024-01-02T03:04:05+02:00",
        end_time="2024-01-02T03:04:05", status="in_progress",
        remediation_steps=["Patch it."], extended_properties={"n": 1},
        extended_links=[{"HREF": "https://x", "Label": "Report"}], is_incident=False,
        resource_id="/subscriptions/s/vm/v1", correlation_key="ck"))
    assert alert.format == "native"
    assert alert.key == "a-1"
    assert alert.provider == "native"
    assert alert.severity == "medium"
    assert alert.tactics == ["InitialAccess", "Execution", "Lurking"]
    assert alert.start_time == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert alert.end_time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert alert.provider_status == "in_progress"
    assert alert.extended_links == [
        {"href": "https://x", "label": "Report", "category": "", "type": ""}]
    assert alert.warnings == []


def test_it_reads_the_export_format():
    alert = normalize(EXPORT)
    assert alert.format == "export"
    assert alert.key == "2518-abc"
    assert alert.provider == "Microsoft Defender for Cloud"
    assert alert.tactics == ["Execution", "Persistence"]
    assert alert.provider_status == "in_progress"
    assert alert.resource_id == "/subscriptions/s1/vm/vm9"
    assert alert.workspace_subscription_id == "ws-sub"
    assert alert.detected_time == datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert alert.remediation_steps == ["Step one.", "Step two."]
    assert [e.label for e in alert.entities] == ["vm9"]


def test_it_reads_sentinel_json_string_columns():
    row = {"SystemAlertId": "s-1", "AlertName": "Rule", "DisplayName": "Shown name",
           "AlertSeverity": "informational", "ProviderName": "ASI Scheduled Alerts",
           "Tactics": "CredentialAccess, lateralmovement", "Techniques": '["T1003"]',
           "Entities": "", "ExtendedProperties": '{"k": "v"}', "ExtendedLinks": "",
           "RemediationSteps": "First line\r\nSecond line\n", "IsIncident": "false",
           "StartTime": "2019-02-18T01:49:02", "Type": "SecurityAlert"}
    alert = normalize(row)
    assert alert.format == "sentinel"
    assert alert.display_name == "Shown name"
    assert alert.severity == "informational"
    assert alert.provider == "ASI Scheduled Alerts"
    assert alert.tactics == ["CredentialAccess", "LateralMovement"]
    assert alert.techniques == ["T1003"]
    assert alert.entities == []
    assert alert.extended_properties == {"k": "v"}
    assert alert.remediation_steps == ["First line", "Second line"]
    assert alert.is_incident is False
    assert alert.start_time == datetime(2019, 2, 18, 1, 49, 2, tzinfo=UTC)
    assert alert.warnings == []


def test_it_keeps_an_undecodable_json_string_with_a_warning():
    row = dict(EXPORT, Type="SecurityAlert", ExtendedProperties="{not json",
               Entities="[{broken")
    alert = normalize(row)
    assert alert.extended_properties == {"raw": "{not json"}
    assert alert.entities == []
    assert codes(alert) == ["undecodable_field", "undecodable_field"]
    assert {w.field for w in alert.warnings} == {"ExtendedProperties", "Entities"}


def test_it_warns_about_an_unparseable_time(make_native):
    alert = normalize(make_native(start_time="yesterday"))
    assert alert.start_time is None
    assert codes(alert) == ["bad_time"]
    assert alert.warnings[0].field == "start_time"


def test_it_honours_a_forced_format(make_native):
    assert normalize(EXPORT, format="sentinel").format == "sentinel"
    assert rejected(EXPORT, format="native").code == "wrong_format"
    assert rejected(make_native(), format="arm").code == "wrong_format"
    assert rejected({"display_name": "x"}, format="native").code == "missing_id"


def test_it_warns_about_unknown_native_keys_only(make_native):
    alert = normalize(make_native(colour="red"))
    assert [w.as_dict() for w in alert.warnings] == [{
        "code": "unknown_key", "field": "colour",
        "message": "The field colour is not part of the native format and was ignored "
                   "(it is kept in the raw alert)."}]
    assert normalize(dict(EXPORT, Colour="red")).warnings == []


def test_it_removes_nul_characters_with_one_warning(make_native):
    alert = normalize(make_native(
        display_name="bad\x00name", description="a\x00b",
        entities=[{"Type": "host", "HostName": "vm\x001"}]))
    assert alert.display_name == "badname"
    assert alert.description == "ab"
    assert alert.entities[0].props["HostName"] == "vm1"
    assert alert.entities[0].weak_ids == ["host|name|vm1"]
    assert codes(alert) == ["nul_byte"]


def test_it_rejects_a_defender_assessment():
    assessment = {
        "id": "/subscriptions/s/providers/Microsoft.Security/assessments/21300918",
        "name": "21300918", "type": "Microsoft.Security/assessments",
        "properties": {"resourceDetails": {"Source": "Azure", "Id": "/subscriptions/s"},
                       "displayName": "Install endpoint protection",
                       "status": {"code": "Unhealthy"}}}
    error = rejected(assessment)
    assert error.code == "not_an_alert"
    assert "assessment" in error.message
    flat = {"assessmentKey": "x", "displayName": "y", "status": {"code": "Healthy"}}
    assert rejected(flat).code == "not_an_alert"


def test_it_rejects_a_secure_score_record():
    score = {"id": "/subscriptions/s/providers/Microsoft.Security/secureScores/ascScore",
             "name": "ascScore", "type": "Microsoft.Security/secureScores",
             "properties": {"displayName": "ASC score", "weight": 8,
                            "score": {"max": 39, "current": 6.02, "percentage": 0.154}}}
    error = rejected(score)
    assert error.code == "not_an_alert"
    assert "secure score" in error.message


@pytest.mark.parametrize("data, code, field", [
    ({"something": "else"}, "not_an_alert", None),
    ([1, 2], "wrong_type", None),
    ({"display_name": "x", "severity": "high"}, "missing_id", "id"),
    ({"id": "  ", "display_name": "x", "severity": "high"}, "missing_id", "id"),
    ({"id": "1", "severity": "high"}, "missing_display_name", "display_name"),
    ({"id": "1", "display_name": "x"}, "unknown_severity", "severity"),
    ({"id": "1", "display_name": "x", "severity": "critical"}, "unknown_severity", "severity"),
    ({"id": "1", "display_name": "x", "severity": 3}, "wrong_type", "severity"),
    ({"id": "1", "display_name": ["x"], "severity": "low"}, "wrong_type", "display_name"),
    ({"id": "1", "display_name": "x", "severity": "low", "entities": {}}, "wrong_type",
     "entities"),
    ({"id": "1", "display_name": "x", "severity": "low", "tactics": [1]}, "wrong_type",
     "tactics[0]"),
    ({"id": "1", "display_name": "x", "severity": "low", "is_incident": "yes"}, "wrong_type",
     "is_incident"),
    ({"id": "1", "display_name": "x", "severity": "low", "extended_properties": {"a": {}}},
     "wrong_type", "extended_properties.a"),
    ({"id": "1" * 201, "display_name": "x", "severity": "low"}, "wrong_value", "id"),
    ({"id": "1", "display_name": "x", "severity": "low", "status": "open"}, "wrong_value",
     "status"),
    ({"SystemAlertId": "", "AlertName": "x", "Severity": "Low"}, "missing_id", "SystemAlertId"),
    ({"SystemAlertId": "1", "AlertName": "x", "Severity": "Bad"}, "unknown_severity",
     "Severity"),
])
def test_it_rejects_a_bad_item(data, code, field):
    error = rejected(data)
    assert (error.code, error.field) == (code, field)
    assert error.as_dict() == {"code": code, "message": error.message, "field": field}
    assert error.message.endswith(".")


def test_it_rejects_an_arm_alert_without_severity(arm_alerts):
    alert = json.loads(json.dumps(arm_alerts[0]))
    del alert["properties"]["severity"]
    assert (rejected(alert).code, rejected(alert).field) == ("unknown_severity",
                                                             "properties.severity")


def test_it_rejects_a_field_over_one_megabyte(make_native):
    fits = "é" * (1_048_576 // 2)
    # Accepted (a description is then stored up to its length: test_lengths.py).
    assert normalize(make_native(description=fits)).description == fits[:16_384]
    error = rejected(make_native(entities=[{"Type": "process", "CommandLine": fits + "x"}]))
    assert (error.code, error.field) == ("field_too_large", "entities[0].CommandLine")


def test_it_rejects_nesting_over_64_levels(make_native):
    deep = []
    for _ in range(70):
        deep = [deep]
    error = rejected(make_native(extended_properties={"x": deep}))
    assert error.code == "too_deep"


def test_the_raw_fast_path_still_finds_nuls_surrogates_and_depth():
    import json as _json

    from alerts.ingest.parse import split_body

    items = [{"id": "a", "display_name": "x\u0000y", "severity": "low"},
             {"id": "b", "display_name": "x\ud800", "severity": "low"},
             {"id": "c", "display_name": "plain", "severity": "low"}]
    body = _json.dumps(items).encode()
    parsed = [normalize(i.data, raw=i.raw) for i in split_body(body, None)]
    assert [w.code for w in parsed[0].warnings] == ["nul_byte"]
    assert parsed[0].display_name == "xy"
    assert [w.code for w in parsed[1].warnings] == ["bad_unicode"]
    assert parsed[2].warnings == []
    deep = {"id": "d", "display_name": "x", "severity": "low", "extended_properties": {}}
    node = deep
    for _ in range(70):
        node["x"] = {}
        node = node["x"]
    raw = _json.dumps(deep).encode()
    with pytest.raises(ItemRejected) as info:
        normalize(_json.loads(raw), raw=raw)
    assert info.value.code == "too_deep"
