"""Query runs: compile a KQL query for a workspace, run it with limits, keep the result.

A run is a `QueryRun` row. The search page and the query API create one, a Celery task
(`search.tasks.run_query`) executes it, and the page polls it. The compiler adds the
workspace filter itself, every statement runs read-only under a time limit, and at most
`SEARCH_ROW_LIMIT` rows are kept (the run says when the limit cut the result).
"""

import datetime as dt
import logging
import time

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from .catalog import Catalog
from .kql import KqlError, compile_query
from .models import QueryRun

MAX_QUERY_CHARS = 20000
logger = logging.getLogger(__name__)


class SearchError(Exception):
    """A search request that cannot be run; the message is fit for the user."""


def start_run(*, workspace, query, time_range=None, time_label="", user=None, token=None):
    """Create a run and queue it. A query that does not compile fails at once, with the
    error's position, and is never queued."""
    from .tasks import run_query  # tasks import this module

    if not isinstance(query, str) or not query.strip():
        raise SearchError("Type a query, for example: SecurityEvent | take 10")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"A query is at most {MAX_QUERY_CHARS} characters.")
    run = QueryRun(subscription_id=workspace.subscription_id, workspace=workspace, user=user,
                   token=token, query=query, time_label=time_label[:40])
    if time_range:
        run.time_from, run.time_to = time_range
    try:
        _compile(run)
    except KqlError as exc:
        run.state, run.error, run.finished_at = QueryRun.State.FAILED, _error(exc), timezone.now()
        run.save()
        return run
    run.save()
    if current_app.conf.task_always_eager:
        # The embedded default runs tasks in process: run it now, not at a commit that a
        # surrounding transaction (a test's) may never make.
        execute(run.pk)
        run.refresh_from_db()
    else:
        run_query.delay_on_commit(run.pk)
    return run


def _compile(run, now=None):
    time_range = (run.time_from, run.time_to) if run.time_from and run.time_to else None
    return compile_query(run.query, catalog=Catalog([run.workspace_id]),
                         workspace_ids=[run.workspace_id], vendor=connection.vendor,
                         time_range=time_range, row_limit=settings.SEARCH_ROW_LIMIT,
                         now=now or run.created_at or timezone.now())


def _error(exc):
    return {"message": exc.message, "line": exc.line, "column": exc.column,
            "token": exc.token}


def execute(run_id):
    """Run a queued run (idempotent: a run already claimed or finished is left alone)."""
    claimed = QueryRun.objects.filter(pk=run_id, state=QueryRun.State.QUEUED).update(
        state=QueryRun.State.RUNNING, started_at=timezone.now(),
        backend_pid=_backend_pid())
    if not claimed:
        return None
    run = QueryRun.objects.select_related("workspace").get(pk=run_id)
    started = time.perf_counter()
    outcome = {}
    try:
        compiled = _compile(run)
        rows = _fetch(run, compiled)
        limit = settings.SEARCH_ROW_LIMIT
        outcome = {"state": QueryRun.State.DONE, "truncated": len(rows) > limit,
                   "rows": [_jsonable(compiled.convert_row(r)) for r in rows[:limit]],
                   "columns": [{"name": n, "type": t} for n, t in compiled.columns]}
        outcome["row_count"] = len(outcome["rows"])
    except KqlError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": _error(exc)}
    except OperationalError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": {"message": _timeout_or(exc)}}
    except DatabaseError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": {
            "message": f"The database could not run this query: {str(exc).splitlines()[0]}"}}
    except Exception:  # noqa: BLE001 - a run must end; the bug is logged with its trace
        logger.exception("query run %s failed", run_id)
        outcome = {"state": QueryRun.State.FAILED, "error": {
            "message": "The console could not run this query (the error is logged)."}}
    outcome.update(elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
                   finished_at=timezone.now(), backend_pid=None)
    # A run cancelled meanwhile stays cancelled: its result is dropped.
    QueryRun.objects.filter(pk=run_id, state=QueryRun.State.RUNNING).update(**outcome)
    return run_id


def _timeout_or(exc):
    text = str(exc)
    if "statement timeout" in text or "interrupted" in text or "canceling statement" in text:
        return (f"The query ran longer than {settings.SEARCH_TIMEOUT_SECONDS} s and was "
                "stopped (or it was cancelled). Narrow the time range or filter earlier.")
    return f"The database could not run this query: {text.splitlines()[0] if text else exc}"


def _backend_pid():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def _fetch(run, compiled):
    # The run's id tags the statement so that a cancel interrupts this one and no other.
    return _fetch_rows(f"/* queryrun {int(run.pk)} */ {compiled.sql}", compiled.params,
                       settings.SEARCH_ROW_LIMIT + 1)


def _fetch_rows(sql, params, limit):
    """At most `limit` rows of `sql`, read-only, under the search time limit."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SELECT set_config('statement_timeout', %s, true)",
                        [str(settings.SEARCH_TIMEOUT_SECONDS * 1000)])
            cur.execute(sql, params)
            return cur.fetchmany(limit)
    return _fetch_sqlite(sql, params, limit)


def _fetch_sqlite(sql, params, limit):
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + settings.SEARCH_TIMEOUT_SECONDS
    # SQLite has no statement timeout: a progress handler interrupts the statement.
    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10000)
    try:
        with connection.cursor() as cur:
            cur.execute("PRAGMA query_only = ON")
            try:
                cur.execute(sql, params)
                return cur.fetchmany(limit)
            finally:
                cur.execute("PRAGMA query_only = OFF")
    finally:
        raw.set_progress_handler(None, 0)


def _jsonable(values):
    return [_iso(v) if isinstance(v, dt.datetime) else v for v in values]


def _iso(value):
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def run_now(workspace, query, *, time_range=None, row_limit=200):
    """Compile and run `query` on `workspace` at once, without a QueryRun: for the small,
    bounded queries other pages make (an entity's logons on the investigation map).
    Returns (columns [{"name", "type"}], rows, truncated); raises KqlError or
    SearchError."""
    compiled = compile_query(query, catalog=Catalog([workspace.pk]),
                             workspace_ids=[workspace.pk], vendor=connection.vendor,
                             time_range=time_range, row_limit=row_limit, now=timezone.now())
    try:
        rows = _fetch_rows(f"/* search {int(workspace.pk)} */ {compiled.sql}", compiled.params,
                           row_limit + 1)
    except DatabaseError as exc:
        raise SearchError(_timeout_or(exc)) from exc
    return ([{"name": n, "type": t} for n, t in compiled.columns],
            [_jsonable(compiled.convert_row(r)) for r in rows[:row_limit]],
            len(rows) > row_limit)


def cancel_run(run, *, user=None):
    """Stop a queued or running run. Returns True when it was still going."""
    pid = run.backend_pid
    stopped = QueryRun.objects.filter(
        pk=run.pk, state__in=[QueryRun.State.QUEUED, QueryRun.State.RUNNING]).update(
        state=QueryRun.State.CANCELLED, finished_at=timezone.now(),
        error={"message": "Cancelled."})
    if stopped and pid and connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                        "WHERE pid = %s AND query LIKE %s", [pid, f"/* queryrun {run.pk} */%"])
    run.refresh_from_db()
    return bool(stopped)


def wait_for(run, timeout):
    """Poll `run` until it has finished or `timeout` seconds passed (the query API)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not run.finished and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
        run.refresh_from_db()
    return run
