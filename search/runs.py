"""Query runs: compile a KQL query for a workspace, run it with limits, keep the result.

A run is a `QueryRun` row. The search page and the query API create one, a Celery task
(`search.tasks.run_query`) executes it (`search.execution`), and the page polls it. The
compiler adds the workspace filter itself, every statement runs read-only under a time
limit, and at most `SEARCH_ROW_LIMIT` rows are kept (the run says when the limit cut the
result).
"""

import time
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inventory.models import ApiToken, Workspace

from . import engine
from .catalog import Catalog
from .execution import compile_run, error_of, fetch_rows, jsonable
from .kql import KqlError, compile_query
from .models import QueryRun
from .tasks import run_query

MAX_QUERY_CHARS = 20000


class SearchError(Exception):
    """A search request that cannot be run; the message is fit for the user."""


def start_run(*, workspace: Workspace, query: str,
              time_range: tuple[datetime, datetime] | None = None, time_label: str = "",
              user: AbstractBaseUser | None = None, token: ApiToken | None = None) -> QueryRun:
    """Create a run and queue it. A query that does not compile fails at once, with the
    error's position, and is never queued."""
    if not isinstance(query, str) or not query.strip():
        raise SearchError("Type a query, for example: SecurityEvent | take 10")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"A query is at most {MAX_QUERY_CHARS} characters.")
    run = QueryRun(subscription_id=workspace.subscription_id, workspace=workspace, user=user,
                   token=token, query=query, time_label=time_label[:40])
    if time_range:
        run.time_from, run.time_to = time_range
    try:
        compile_run(run)
    except KqlError as exc:
        run.state, run.error, run.finished_at = QueryRun.State.FAILED, error_of(exc), \
            timezone.now()
        run.save()
        return run
    # Committed before it is queued (durable: never inside a caller's transaction), so a
    # worker finds the run; a task run in process has finished when delay() returns.
    with transaction.atomic(durable=True):
        run.save()
    run_query.delay(run.pk)
    run.refresh_from_db()
    return run


def run_now(workspace: Workspace, query: str, *,
            time_range: tuple[datetime, datetime] | None = None,
            row_limit: int = 200) -> tuple[list[dict], list[list], bool]:
    """Compile and run `query` on `workspace` at once, without a QueryRun: for the small,
    bounded queries other pages make (an entity's logons on the investigation map).
    Returns (columns [{"name", "type"}], rows, truncated); raises KqlError or
    SearchError."""
    compiled = compile_query(query, catalog=Catalog([workspace.pk]),
                             workspace_ids=[workspace.pk],
                             time_range=time_range, row_limit=row_limit, now=timezone.now())
    try:
        rows = fetch_rows(f"/* search {int(workspace.pk)} */ {compiled.sql}", compiled.params,
                          row_limit + 1, workspace=workspace)
    except engine.EngineError as exc:
        raise SearchError(str(exc)) from exc
    return ([{"name": n, "type": t} for n, t in compiled.columns],
            [jsonable(compiled.convert_row(r)) for r in rows[:row_limit]],
            len(rows) > row_limit)


def cancel_run(run: QueryRun, *, user: AbstractBaseUser | None = None) -> bool:
    """Stop a queued or running run. Returns True when it was still going."""
    stopped = QueryRun.objects.filter(
        pk=run.pk, state__in=[QueryRun.State.QUEUED, QueryRun.State.RUNNING]).update(
        state=QueryRun.State.CANCELLED, finished_at=timezone.now(),
        error={"message": "Cancelled."})
    run.refresh_from_db()
    return bool(stopped)


def wait_for(run: QueryRun, timeout: float) -> QueryRun:
    """Poll `run` until it has finished or `timeout` seconds passed (the query API)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while not run.finished and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
        run.refresh_from_db()
    return run
