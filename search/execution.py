"""Executing a query run: claim it, fetch its rows read-only under the search time limit,
keep the result or the reason it failed. The task `search.tasks.run_query` calls
`execute`; `search.runs` creates, queues and cancels runs."""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone

from . import engine
from .catalog import Catalog
from .kql import KqlError, compile_query
from .models import QueryRun

logger = logging.getLogger(__name__)


def events_vendor():
    """The dialect events are read with: ClickHouse's when they are stored in the events
    engine (EVENTS_IN_ENGINE), else the Django database's."""
    return "clickhouse" if settings.EVENTS_IN_ENGINE else connection.vendor


def compile_run(run, now=None):
    time_range = (run.time_from, run.time_to) if run.time_from and run.time_to else None
    return compile_query(run.query, catalog=Catalog([run.workspace_id]),
                         workspace_ids=[run.workspace_id], vendor=events_vendor(),
                         time_range=time_range, row_limit=settings.SEARCH_ROW_LIMIT,
                         now=now or run.created_at or timezone.now())


def error_of(exc):
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
        compiled = compile_run(run)
        rows = _fetch(run, compiled)
        limit = settings.SEARCH_ROW_LIMIT
        outcome = {"state": QueryRun.State.DONE, "truncated": len(rows) > limit,
                   "rows": [jsonable(compiled.convert_row(r)) for r in rows[:limit]],
                   "columns": [{"name": n, "type": t} for n, t in compiled.columns]}
        outcome["row_count"] = len(outcome["rows"])
    except KqlError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": error_of(exc)}
    except engine.EngineError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": {"message": str(exc)}}
    except OperationalError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": {"message": timeout_or(exc)}}
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


def timeout_or(exc):
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
    return fetch_rows(f"/* queryrun {int(run.pk)} */ {compiled.sql}", compiled.params,
                      settings.SEARCH_ROW_LIMIT + 1, workspace=run.workspace)


def fetch_rows(sql, params, limit, *, workspace):
    """At most `limit` rows of `sql` over `workspace`'s events, read-only, under the
    search limits. In the events engine the statement reads through the workspace's
    row filter, whatever its text says; engine.EngineError when the engine refuses."""
    if settings.EVENTS_IN_ENGINE:
        tenant = engine.Tenant(workspace.subscription_id, (workspace.pk,))
        return list(engine.query(sql, params, tenant=tenant,
                                 limits=engine.search_limits(max_result_rows=limit)).rows)
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


def jsonable(values):
    return [_iso(v) if isinstance(v, dt.datetime) else v for v in values]


def _iso(value):
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
