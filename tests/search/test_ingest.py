import datetime as dt
import json

import pytest
from django.utils import timezone

from inventory.models import Resource, ResourceHostName
from search.catalog import Catalog
from search.ingest import ingest_event_body
from search.ingest.store import EventError
from search.models import EventDay, TableColumn
from socconsole.lib.jsonbody import BodyError
from tests.conftest import FIXTURES
from tests.search.factories import default_workspace, ingest, stored_events

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
EVENTS = FIXTURES / "windows-events.jsonl"


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def only(events, match=lambda event: True):
    """The one event of `events` that `match` accepts."""
    (event,) = [event for event in events if match(event)]
    return event


def test_it_maps_windows_events_onto_security_event_columns(ws):
    body = EVENTS.read_bytes()
    report = ingest_event_body(ws, "SecurityEvent", body, "application/x-ndjson")
    assert (report.accepted, report.rejected) == (21, 0)
    assert all(r.warnings == [] for r in report.results)
    events = stored_events(ws)
    shadow = only(events, lambda e: e["event_id"] == 4688 and
                  e["fields"].get("NewProcessName", "").endswith("vssadmin.exe"))
    assert shadow["computer"] == "FIN-WKS-12"
    assert shadow["account"] == "FINCORP\\jdoe"  # the subject; the target is "-"
    assert "TargetAccount" not in shadow["fields"]
    assert shadow["time_generated"] == dt.datetime(2026, 10, 7, 14, 2, 10, 6000,
                                                   tzinfo=dt.UTC)
    assert shadow["fields"]["Activity"] == "4688 - A new process has been created."
    assert shadow["fields"]["EventSourceName"] == "Microsoft-Windows-Security-Auditing"
    assert "TimeCreated" not in shadow["fields"] and "Hostname" not in shadow["fields"]
    logon = only(events, lambda e: e["event_id"] == 4624)
    # A logon's account is its target, not the machine that reported it.
    assert logon["account"] == "FINCORP\\jdoe"
    assert logon["fields"]["SubjectAccount"] == "FINCORP\\FIN-WKS-12$"
    assert logon["fields"]["LogonTypeName"] == "3 - Network"
    # An event id with no known text takes the first line of its message.
    sysmon = only(events, lambda e: e["event_id"] == 1)
    assert sysmon["fields"]["Activity"] == "1 - Process Create:"
    assert sysmon["account"] == ""
    assert only(events, lambda e: e["event_id"] == 7045)["fields"]["EventSourceName"] == \
        "Service Control Manager"
    assert EventDay.objects.get(workspace=ws, table_name="SecurityEvent").events == 21


def test_it_learns_new_columns_with_their_kusto_type(ws):
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 1,
                                  "Flag": True, "Ratio": 0.5, "Blob": {"a": 1},
                                  "Task": "13312", "Count": 3}], now=NOW)
    columns = Catalog([ws.pk]).columns("SecurityEvent")
    assert columns["Flag"] == "bool"
    assert columns["Ratio"] == "real"
    assert columns["Blob"] == "dynamic"
    assert columns["Count"] == "long"
    # A documented column keeps its documented type whatever an event sends.
    assert columns["Task"] == "int"
    assert not TableColumn.objects.filter(name="Task").exists()


def test_it_knows_a_new_table_once_events_arrive(ws):
    assert Catalog([ws.pk]).columns("FirewallLog") is None
    ingest(ws, "FirewallLog", [{"TimeGenerated": "2026-11-28T10:00:00Z", "Action": "deny"}],
           now=NOW)
    catalog = Catalog([ws.pk])
    assert catalog.columns("FirewallLog")["Action"] == "string"
    assert "FirewallLog" in catalog.tables()


def test_each_bad_item_is_refused_alone(ws):
    body = b"\n".join([
        b'{"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "a"}',
        b'{"TimeGenerated": "not a time"}',
        b'{not json',
        b'[1, 2]',
        b'{"TimeGenerated": "2031-01-01T00:00:00Z"}',
        b'{"TimeGenerated": "1969-01-01T00:00:00Z"}',
        b'{"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "b"}',
    ])
    report = ingest_event_body(ws, "Syslog", body, "application/x-ndjson")
    codes = [(r.status, r.error and r.error["code"]) for r in report.results]
    assert codes == [("created", None), ("rejected", "bad_time"),
                     ("rejected", "invalid_json"), ("rejected", "not_an_object"),
                     ("rejected", "time_out_of_range"), ("rejected", "time_out_of_range"),
                     ("created", None)]
    assert sorted(e["computer"] for e in stored_events(ws)) == ["a", "b"]


def test_a_nul_byte_is_a_warning_and_is_removed(ws):
    report = ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                    "SyslogMessage": "su\u0000do"}], now=NOW)
    result = report.results[0]
    assert result.status == "created"
    assert [w["code"] for w in result.warnings] == ["nul_byte"]
    assert only(stored_events(ws))["fields"]["SyslogMessage"] == "sudo"


def test_a_missing_time_is_the_ingestion_time_with_a_warning(ws):
    report = ingest(ws, "Syslog", [{"SyslogMessage": "hello"}], now=NOW)
    assert [w["code"] for w in report.results[0].warnings] == ["time_missing"]
    assert only(stored_events(ws))["time_generated"] == NOW


def test_a_bad_event_id_is_kept_as_text_with_a_warning(ws):
    report = ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                           "EventID": "four"}], now=NOW)
    assert [w["code"] for w in report.results[0].warnings] == ["not_a_number"]
    event = only(stored_events(ws))
    assert event["event_id"] is None and event["fields"]["EventID_raw"] == "four"


def test_an_event_finds_its_resource_by_host_name(p, ws):
    vm = Resource.objects.create(subscription=p.sub, name="vm-web-01", kind="virtual_machine")
    other = Resource.objects.create(subscription=p.sub, name="box", kind="virtual_machine")
    ResourceHostName.objects.create(subscription=p.sub, name="web01-alias", resource=other)
    ingest(ws, "SecurityEvent", [
        {"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "VM-WEB-01.contoso.local"},
        {"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "web01-alias"},
        {"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "unknown"}], now=NOW)
    new = Resource.objects.get(subscription=p.sub, name="unknown")
    assert {e["computer"]: e["resource_id"] for e in stored_events(ws)} == {
        "VM-WEB-01.contoso.local": vm.pk, "web01-alias": other.pk, "unknown": new.pk}
    # A computer known under no resource is provisioned as a virtual machine.
    assert (new.kind, new.collecting, new.collection_by) == ("virtual_machine", True,
                                                            "automatic")


def test_another_subscriptions_resource_is_never_matched(p, ws):
    Resource.objects.create(subscription=p.other, name="vm-web-01", kind="virtual_machine")
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                  "Computer": "vm-web-01"}], now=NOW)
    event = only(stored_events(ws))
    # Its own, new, resource.
    assert Resource.objects.get(pk=event["resource_id"]).subscription_id == p.sub.pk


def test_syslog_json_and_suricata_eve_map_to_their_columns(ws):
    ingest(ws, "Syslog", [{"timereported": "2026-11-28T09:00:00+01:00", "hostname": "web",
                           "facility": "authpriv", "severity": "notice", "programname": "sudo",
                           "msg": "deploy : COMMAND=/bin/ls", "fromhost-ip": "10.0.0.5"}],
           now=NOW)
    ingest(ws, "SuricataEve", [{"timestamp": "2026-11-28T10:00:00.123456+0000",
                                "event_type": "alert", "src_ip": "203.0.113.87",
                                "dest_port": 3389, "alert": {"signature": "ET SCAN"}}],
           now=NOW)
    syslog = only(stored_events(ws, "Syslog"))
    assert syslog["time_generated"] == dt.datetime(2026, 11, 28, 8, 0, tzinfo=dt.UTC)
    assert (syslog["computer"], syslog["ip_address"]) == ("web", "10.0.0.5")
    assert syslog["fields"]["Facility"] == "authpriv"
    assert syslog["fields"]["SyslogMessage"] == "deploy : COMMAND=/bin/ls"
    eve = only(stored_events(ws, "SuricataEve"))
    assert eve["ip_address"] == "203.0.113.87"
    assert eve["fields"]["EventType"] == "alert"
    assert eve["fields"]["Alert"] == {"signature": "ET SCAN"}


def test_overlong_hot_values_are_cut_and_kept_whole(ws):
    long_name = "h" * 300
    report = ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                           "Computer": long_name}], now=NOW)
    assert [w["code"] for w in report.results[0].warnings] == ["truncated"]
    event = only(stored_events(ws))
    assert event["computer"] == long_name[:255]
    assert event["fields"]["Computer_full"] == long_name


@pytest.mark.parametrize("table", ["", "1abc", "a b", "x" * 200, "Security;Event", "é"])
def test_a_bad_table_name_is_refused(ws, table):
    with pytest.raises(EventError):
        ingest_event_body(ws, table, b"[]", "application/json")


def test_an_unreadable_body_is_refused_whole(ws):
    with pytest.raises(BodyError):
        ingest_event_body(ws, "Syslog", b"[{", "application/json")
    assert stored_events(ws) == []


def test_days_count_what_they_hold(ws):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-27T23:59:59Z"},
                          {"TimeGenerated": "2026-11-28T00:00:00Z"},
                          {"TimeGenerated": "2026-11-28T08:00:00Z"}], now=NOW)
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T09:00:00Z"}], now=NOW)
    assert dict(EventDay.objects.values_list("day", "events")) == {
        dt.date(2026, 11, 27): 1, dt.date(2026, 11, 28): 3}


def test_a_timestamp_is_read_as_epoch_seconds_or_milliseconds(ws):
    at = timezone.now().replace(microsecond=0)
    ingest(ws, "Syslog", [{"TimeGenerated": at.timestamp()},
                          {"TimeGenerated": int(at.timestamp() * 1000)}])
    assert {e["time_generated"] for e in stored_events(ws)} == {at}


def test_the_body_may_be_a_json_array(ws):
    body = json.dumps([{"TimeGenerated": "2026-11-28T10:00:00Z"}] * 3).encode()
    assert ingest_event_body(ws, "Syslog", body, "application/json").accepted == 3


def test_the_events_answer_queries_like_sentinel_would(ws):
    from search.runs import run_now

    ingest_event_body(ws, "SecurityEvent", EVENTS.read_bytes(), "application/x-ndjson")
    _, rows, _ = run_now(ws, "SecurityEvent | summarize n = count() by EventID | top 3 by n")
    assert rows == [[7, 5], [10, 4], [13, 3]]
    _, rows, _ = run_now(ws, "SecurityEvent | where EventID == 4688 and CommandLine has "
                             "\"vssadmin\" | project Account, NewProcessName "
                             "| sort by NewProcessName asc")
    assert rows == [["WORKGROUP\\FIN-WKS-12$", "C:\\Windows\\System32\\cmd.exe"],
                    ["FINCORP\\jdoe", "C:\\Windows\\System32\\vssadmin.exe"]]
    _, rows, _ = run_now(ws, "SecurityEvent | where TimeGenerated between "
                             "(datetime(2026-10-07 14:02:10) .. datetime(2026-10-07 14:02:11)) "
                             "and EventID == 4688 | count")
    assert rows == [[2]]
    # Task arrives as a string; the documented int column compares as a number.
    _, rows, _ = run_now(ws, "SecurityEvent | where Task == 13312 | count")
    assert rows == [[2]]


def test_numbers_too_large_for_a_double_are_nulled_with_a_warning(ws):
    body = (b'[{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 1e400},'
            b' {"TimeCreated": "2026-11-28 10:00:00", "Hostname": "h", "EventID": 1e400,'
            b' "LogonType": 1e400}]')
    report = ingest_event_body(ws, "SecurityEvent", body, "application/json")
    assert [r.status for r in report.results] == ["created", "created"]
    assert all("number_out_of_range" in [w["code"] for w in r.warnings]
               for r in report.results)
    assert [e["event_id"] for e in stored_events(ws)] == [None, None]


@pytest.mark.parametrize("raw, huge", [
    (b'{"a": 1e400}', True), (b'{"a": [1,\n -2.5E+0400]}', True), (b'{"a":12e999}', True),
    (b'{"a": 1e40}', False), (b'{"a": 1.5e-400}', False),
    # Hex in strings (hashes, GUIDs) is no number: it is not scanned value by value.
    (b'{"Hash": "0E033", "Guid": "{5f8b-7E478}"}', False)])
def test_the_prefilter_for_huge_numbers_finds_numbers_not_hex(raw, huge):
    from search.ingest.store import _HUGE_EXPONENT

    assert bool(_HUGE_EXPONENT.search(raw)) is huge
