"""Executing a query run: claim it, fetch its rows from the events engine read-only under
the search limits, keep the result or the reason it failed. The task `search.tasks.run_query` calls
`execute`; `search.runs` creates, queues and cancels runs."""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import engine
from .catalog import Catalog
from .kql import KqlError, compile_query
from .models import QueryRun

logger = logging.getLogger(__name__)


def compile_run(run, now=None):
    time_range = (run.time_from, run.time_to) if run.time_from and run.time_to else None
    return compile_query(run.query, catalog=Catalog([run.workspace_id]),
                         workspace_ids=[run.workspace_id],
                         time_range=time_range, row_limit=settings.SEARCH_ROW_LIMIT,
                         now=now or run.created_at or timezone.now())


def error_of(exc):
    return {"message": exc.message, "line": exc.line, "column": exc.column,
            "token": exc.token}


def execute(run_id):
    """Run a queued run (idempotent: a run already claimed or finished is left alone)."""
    claimed = QueryRun.objects.filter(pk=run_id, state=QueryRun.State.QUEUED).update(
        state=QueryRun.State.RUNNING, started_at=timezone.now())
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
    except DatabaseError as exc:
        outcome = {"state": QueryRun.State.FAILED, "error": {
            "message": f"The database could not run this query: {str(exc).splitlines()[0]}"}}
    except Exception:  # noqa: BLE001 - a run must end; the bug is logged with its trace
        logger.exception("query run %s failed", run_id)
        outcome = {"state": QueryRun.State.FAILED, "error": {
            "message": "The console could not run this query (the error is logged)."}}
    outcome.update(elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
                   finished_at=timezone.now())
    # A run cancelled meanwhile stays cancelled: its result is dropped.
    QueryRun.objects.filter(pk=run_id, state=QueryRun.State.RUNNING).update(**outcome)
    return run_id


def _fetch(run, compiled):
    # The run's id tags the statement: the engine's query log says which run it was.
    return fetch_rows(f"/* queryrun {int(run.pk)} */ {compiled.sql}", compiled.params,
                      settings.SEARCH_ROW_LIMIT + 1, workspace=run.workspace)


def fetch_rows(sql, params, limit, *, workspace):
    """At most `limit` rows of `sql` over `workspace`'s events, read-only, under the
    search limits. The statement reads through the workspace's row filter, whatever its
    text says; engine.EngineError when the engine refuses it or stops it."""
    tenant = engine.Tenant(workspace.subscription_id, (workspace.pk,))
    return list(engine.query(sql, params, tenant=tenant,
                             limits=engine.search_limits(max_result_rows=limit)).rows)


def jsonable(values):
    return [_iso(v) if isinstance(v, dt.datetime) else v for v in values]


def _iso(value):
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
