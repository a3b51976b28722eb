"""The real Windows events of the sample corpus (see tests/conftest.py) map and answer."""

import datetime as dt

import pytest

from search.ingest import ingest_event_body
from search.models import EventDay
from tests.conftest import SAMPLES
from tests.search.factories import default_workspace, stored_events

pytestmark = pytest.mark.corpus


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def test_it_maps_windows_events_onto_security_event_columns(ws):
    body = (SAMPLES / "windows-events-psexec.jsonl").read_bytes()
    report = ingest_event_body(ws, "SecurityEvent", body, "application/x-ndjson")
    assert (report.accepted, report.rejected) == (286, 0)
    [dump] = [e for e in stored_events(ws) if e["event_id"] == 4688 and
              e["fields"].get("NewProcessName", "").endswith("PsExec.exe")]
    assert dump["computer"] == "WORKSTATION5"
    assert dump["account"] == "WORKSTATION5\\wardog"
    assert dump["time_generated"] == dt.datetime(2020, 10, 19, 3, 30, 46, 251000,
                                                 tzinfo=dt.UTC)
    assert dump["fields"]["Activity"] == "4688 - A new process has been created."
    assert dump["fields"]["EventSourceName"] == "Microsoft-Windows-Security-Auditing"
    assert "TimeCreated" not in dump["fields"] and "Hostname" not in dump["fields"]
    assert EventDay.objects.get(workspace=ws, table_name="SecurityEvent").events == 286


def test_the_sample_answers_queries_like_sentinel_would(ws):
    from search.runs import run_now

    body = (SAMPLES / "windows-events-psexec.jsonl").read_bytes()
    ingest_event_body(ws, "SecurityEvent", body, "application/x-ndjson")
    _, rows, _ = run_now(ws, "SecurityEvent | summarize n = count() by EventID | top 3 by n")
    assert rows == [[7, 130], [10, 38], [13, 23]]
    _, rows, _ = run_now(ws, "SecurityEvent | where EventID == 4688 and CommandLine has "
                             "\"secrets\" | project Account, NewProcessName "
                             "| sort by NewProcessName asc")
    assert rows == [["WORKSTATION5\\wardog", "C:\\Users\\wardog\\Downloads\\PSTools\\PsExec.exe"],
                    ["WORKGROUP\\WORKSTATION5$", "C:\\Windows\\System32\\reg.exe"]]
    _, rows, _ = run_now(ws, "SecurityEvent | where TimeGenerated between "
                             "(datetime(2020-10-19 03:30:46) .. datetime(2020-10-19 03:30:47)) "
                             "and EventID == 4688 | count")
    assert rows == [[4]]
