"""Query runs on the events engine: compiled to ClickHouse, read
through the workspace's row filter and within the search limits."""

import datetime as dt

import pytest
from django.test import override_settings

from search import engine
from search.execution import fetch_rows
from search.runs import SearchError, run_now, start_run

from .factories import default_workspace, ingest

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HOUR_AGO = (NOW - dt.timedelta(hours=1)).isoformat()


pytestmark = pytest.mark.usefixtures("events_engine")


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def logons(*accounts, computer="vm-web-01"):
    return [{"TimeGenerated": HOUR_AGO, "EventID": 4625, "Computer": computer,
             "Account": a, "IpAddress": "203.0.113.87", "LogonType": 3} for a in accounts]


def test_a_run_reads_the_engine_and_keeps_the_result(p, ws):
    ingest(ws, "SecurityEvent", logons("CONTOSO\\alice", "CONTOSO\\alice", "CONTOSO\\bob"))
    run = start_run(workspace=ws, user=p.analyst, query=(
        'SecurityEvent | where EventID == "4625" | summarize n = count() by Account '
        "| sort by n desc"))
    assert run.state == "done", run.error
    assert run.columns == [{"name": "Account", "type": "string"}, {"name": "n", "type": "long"}]
    assert run.rows == [["CONTOSO\\alice", 2], ["CONTOSO\\bob", 1]]
    # Nothing of it is in the database's events table.
    from search.models import Event
    assert not Event.objects.exists()


def test_another_subscriptions_events_cannot_be_read(p, ws):
    other = default_workspace(p.other)
    ingest(ws, "SecurityEvent", logons("CONTOSO\\alice"))
    ingest(other, "SecurityEvent", logons("FABRIKAM\\eve", "FABRIKAM\\mallory"))
    assert run_now(ws, "SecurityEvent | project Account")[1] == [["CONTOSO\\alice"]]
    # Even a statement written to read every workspace sees only its own.
    rows = fetch_rows("SELECT account FROM events ORDER BY account", {}, 10, workspace=ws)
    assert rows == [("CONTOSO\\alice",)]


@override_settings(SEARCH_ROW_LIMIT=2)
def test_the_row_limit_cuts_the_result_and_says_so(p, ws):
    ingest(ws, "SecurityEvent", logons("a", "b", "c"))
    run = start_run(workspace=ws, query="SecurityEvent | project Account", user=p.analyst)
    assert (run.state, run.row_count, run.truncated) == ("done", 2, True)


@override_settings(SEARCH_TIMEOUT_SECONDS=1)
def test_a_runaway_statement_ends_at_the_time_limit(ws):
    with pytest.raises(engine.QueryLimitExceeded) as caught:
        fetch_rows("SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1",
                   {}, 10, workspace=ws)
    assert caught.value.limit == "max_execution_time"


@override_settings(SEARCH_MAX_BYTES=1000)
def test_a_run_past_the_bytes_limit_fails_with_the_reason(p, ws):
    ingest(ws, "SecurityEvent", logons(*[f"user{i}" for i in range(2000)]))
    run = start_run(workspace=ws, query="SecurityEvent | summarize dcount(Account)",
                    user=p.analyst)
    assert run.state == "failed"
    assert "bytes" in run.error["message"]


def test_a_search_cannot_write(ws):
    ingest(ws, "SecurityEvent", logons("alice"))
    with pytest.raises(engine.QueryError):
        fetch_rows("INSERT INTO events (workspace_id) VALUES (1)", {}, 10, workspace=ws)
    assert run_now(ws, "SecurityEvent | count")[1] == [[1]]


def test_the_map_pivots_read_the_engine(p, ws):
    ingest(ws, "SecurityEvent", logons("CONTOSO\\alice", computer="vm-web-01"))
    columns, rows, truncated = run_now(
        ws, 'SecurityEvent | where Computer =~ "VM-WEB-01" | project Account, LogonType')
    assert (rows, truncated) == ([["CONTOSO\\alice", 3]], False)


def test_an_engine_that_is_down_is_a_clear_error(p, ws):
    with override_settings(EVENTS_URL="clickhouse://soc:x@127.0.0.1:9/soc_events"):
        with pytest.raises(SearchError, match="unavailable"):
            run_now(ws, "SecurityEvent | count")
        run = start_run(workspace=ws, query="SecurityEvent | count", user=p.analyst)
        assert run.state == "failed" and "unavailable" in run.error["message"]
        engine.close()
