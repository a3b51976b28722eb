"""Query runs: limits, read-only execution, truncation, idempotence."""

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.test import override_settings

from search.execution import execute, fetch_rows
from search.models import Event, QueryRun
from search.runs import SearchError, run_now, start_run
from tests.search.factories import default_workspace, ingest

SLOW = {
    # A statement that runs for seconds on each database.
    "postgresql": "SELECT pg_sleep(5)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
              "WHERE i < 100000000) SELECT count(*) FROM n",
}


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


@pytest.mark.database_events("the database's statement timeout; test_runs_engine has the "
                              "engine's")
@override_settings(SEARCH_TIMEOUT_SECONDS=1)
def test_a_statement_is_stopped_at_the_time_limit(ws):
    with pytest.raises(OperationalError):
        fetch_rows(SLOW[connection.vendor], [], 10, workspace=ws)


@pytest.mark.database_events("the database's read-only search connection; test_runs_engine "
                              "has the engine's")
def test_a_search_cannot_write(ws):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z"}])
    with pytest.raises(DatabaseError):
        fetch_rows("DELETE FROM search_event", [], 10, workspace=ws)
    assert Event.objects.count() == 1


@override_settings(SEARCH_ROW_LIMIT=2)
def test_the_row_limit_cuts_the_result_and_says_so(p, ws):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z"}] * 3)
    run = start_run(workspace=ws, query="Syslog | project TimeGenerated", user=p.analyst)
    assert (run.state, run.row_count, run.truncated) == ("done", 2, True)


def test_a_run_is_executed_once(p, ws):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z"}])
    run = start_run(workspace=ws, query="Syslog | count", user=p.analyst)
    assert run.state == "done"
    assert execute(run.pk) is None  # already claimed: left alone
    run.refresh_from_db()
    assert run.rows == [[1]]


def test_a_refused_query_fails_at_once_without_a_task(p, ws):
    run = start_run(workspace=ws, query="Syslog | join (SecurityEvent) on Computer",
                    user=p.analyst)
    assert run.state == QueryRun.State.FAILED and run.started_at is None
    assert run.error["token"] == "join"


@pytest.mark.parametrize("query", ["", "   ", "x" * 20001])
def test_an_empty_or_huge_query_is_refused(p, ws, query):
    with pytest.raises(SearchError):
        start_run(workspace=ws, query=query, user=p.analyst)
    assert not QueryRun.objects.exists()


def test_run_now_reads_only_its_workspace(p, ws):
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "ours"}])
    ingest(default_workspace(p.other), "Syslog",
           [{"TimeGenerated": "2026-11-28T10:00:00Z", "Computer": "theirs"}])
    _, rows, _ = run_now(ws, "Syslog | project Computer")
    assert rows == [["ours"]]


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_running_search_interrupts_its_statement(p, ws):
    """On PostgreSQL the statement tagged with the run's id is cancelled in its session;
    SQLite has no other session: the run is marked cancelled and its result dropped."""
    import threading
    import time

    from search.runs import cancel_run

    run = QueryRun.objects.create(subscription=p.sub, workspace=ws, user=p.analyst,
                                  query="Syslog | count", state=QueryRun.State.RUNNING)
    if connection.vendor != "postgresql":
        assert cancel_run(run) is True
        assert run.state == QueryRun.State.CANCELLED
        QueryRun.objects.filter(pk=run.pk, state=QueryRun.State.RUNNING).update(rows=[[1]])
        run.refresh_from_db()
        assert run.rows == []  # what the executor writes on finishing is dropped
        return
    import psycopg

    settings_dict = connection.settings_dict
    other = psycopg.connect(dbname=settings_dict["NAME"], user=settings_dict["USER"],
                            host=settings_dict["HOST"] or "127.0.0.1",
                            port=settings_dict["PORT"] or 5432, autocommit=True)
    pid = other.info.backend_pid
    QueryRun.objects.filter(pk=run.pk).update(backend_pid=pid)
    run.refresh_from_db()
    outcome = {}

    def slow():
        started = time.monotonic()
        try:
            other.execute(f"/* queryrun {run.pk} */ SELECT pg_sleep(20)")
            outcome["error"] = None
        except psycopg.errors.QueryCanceled as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    assert cancel_run(run) is True
    thread.join(timeout=10)
    other.close()
    assert isinstance(outcome["error"], psycopg.errors.QueryCanceled)
    assert outcome["seconds"] < 5
    assert run.state == QueryRun.State.CANCELLED


def test_a_run_that_breaks_in_an_unexpected_way_still_ends(p, ws, monkeypatch):
    """Whatever goes wrong inside, the run ends failed (and the trace is logged), so the
    page stops polling and the task does not die with the run left running."""
    import search.execution

    def broken(*args, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(search.execution, "_fetch", broken)
    run = start_run(workspace=ws, query="Syslog | count", user=p.analyst)
    assert run.state == QueryRun.State.FAILED
    assert "could not run this query" in run.error["message"]
