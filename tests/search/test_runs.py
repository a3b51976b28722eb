"""Query runs: truncation, idempotence, cancelling, failures (test_runs_engine has the
engine's limits and read-only execution)."""

import pytest
from django.test import override_settings

from search.execution import execute
from search.models import QueryRun
from search.runs import SearchError, run_now, start_run
from tests.search.factories import default_workspace, ingest


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


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
def test_cancelling_a_running_search_drops_its_result(p, ws):
    from search.runs import cancel_run

    run = QueryRun.objects.create(subscription=p.sub, workspace=ws, user=p.analyst,
                                  query="Syslog | count", state=QueryRun.State.RUNNING)
    assert cancel_run(run) is True
    assert run.state == QueryRun.State.CANCELLED
    QueryRun.objects.filter(pk=run.pk, state=QueryRun.State.RUNNING).update(rows=[[1]])
    run.refresh_from_db()
    assert run.rows == []  # what the executor writes on finishing is dropped


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
