"""Workspaces, event ingestion, and the Log Analytics query API.

`POST /workspaces/{id}/query` answers as Log Analytics' query API does, so that the
Azure Monitor query SDK, msticpy and Kqlmagic can point at the console.
"""

import json
import uuid
from typing import Literal

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from inventory.api import require
from inventory.models import Workspace
from inventory.roles import Perm
from socconsole.lib.apierrors import ApiError, read_body
from socconsole.lib.jsonbody import BodyError

from .catalog import Catalog
from .ingest import ingest_event_body
from .ingest.store import EventError
from .models import QueryRun
from .runs import SearchError, start_run, wait_for
from .timespan import TimespanError, parse_timespan

router = Router(tags=["search"])


class WorkspaceOut(Schema):
    id: int
    workspace_id: str = Field(description="The GUID Log Analytics clients address it by.")
    name: str
    subscription: str
    is_default: bool
    retention_days: int
    tables: list[str]


class WorkspaceList(Schema):
    items: list[WorkspaceOut]


def workspace_for_token(request, ref, perm):
    """The token's workspace named by GUID or id; 404 for any other (outsiders learn
    nothing), 403 when the token may not `perm`."""
    subscription = require(request, perm)
    spaces = Workspace.objects.filter(subscription=subscription).select_related("subscription")
    try:
        space = spaces.filter(workspace_id=uuid.UUID(ref)).first()
    except ValueError:
        space = spaces.filter(pk=int(ref)).first() if ref.isdigit() and len(ref) < 19 else None
    if space is None:
        raise Http404
    return space


@router.get("/workspaces", response=WorkspaceList)
def list_workspaces(request):
    """The workspaces this token may search (a token belongs to one subscription)."""
    subscription = require(request, Perm.VIEW)
    items = [{"id": w.pk, "workspace_id": str(w.workspace_id), "name": w.name,
              "subscription": subscription.name, "is_default": w.is_default,
              "retention_days": w.retention_days, "tables": Catalog([w.pk]).tables()}
             for w in Workspace.objects.filter(subscription=subscription).order_by("name")]
    return {"items": items}


class ProblemOut(Schema):
    code: str
    message: str
    field: str | None = None


class EventResultOut(Schema):
    index: int
    status: Literal["created", "rejected"]
    error: ProblemOut | None
    warnings: list[ProblemOut]


class EventIngestOut(Schema):
    accepted: int
    rejected: int
    results: list[EventResultOut]


class ErrorOut(Schema):
    error: ProblemOut


@router.post("/workspaces/{ref}/events",
             response={200: EventIngestOut, 400: ErrorOut, 411: ErrorOut, 413: ErrorOut,
                       503: ErrorOut},
             openapi_extra={"requestBody": {
                 "required": True,
                 "description": "A JSON array of events, one event, or NDJSON "
                                "(`application/x-ndjson`). Windows events exported as JSON, "
                                "syslog JSON, Suricata EVE JSON, or Log Analytics rows.",
                 "content": {"application/json": {"schema": {"type": "array"}},
                             "application/x-ndjson": {"schema": {"type": "string"}}}}})
def ingest_events(request, ref: str, table: str | None = None):
    """Ingest events into a table of the workspace (`?table=SecurityEvent`, required).
    Each item stands alone."""
    space = workspace_for_token(request, ref, Perm.INGEST)
    if not table:
        raise ApiError(400, "bad_table", "Name the table: ?table=SecurityEvent.", "table")
    body = read_body(request, settings.INGEST_MAX_BYTES)
    try:
        report = ingest_event_body(space, table, body, request.content_type)
    except EventError as exc:
        raise ApiError(400, "bad_table", str(exc), "table") from exc
    except BodyError as exc:
        raise ApiError(400, "bad_body", str(exc)) from exc
    # Built by us, so not validated again field by field: a 5,000-event answer would spend
    # a fifth of the request in the response schema (it stays in the OpenAPI schema).
    return JsonResponse(report.as_dict())


class QueryIn(Schema):
    query: str = Field("", description="A Kusto (KQL) query, see docs/kql.md.")
    timespan: str | None = Field(None, description="ISO 8601: a duration (P1D, PT86400.0S), "
                                 "start/end or start/duration. Without it no time range is "
                                 "added.")
    workspaces: list[str] | None = Field(None, description="Not supported: one workspace "
                                         "per query.")


def _la_error(message, code="BadArgumentError", inner=None):
    error = {"code": code, "message": message}
    if inner:
        error["innererror"] = inner
    return {"error": error}


def _la_value(value, kind):
    # Log Analytics sends dynamic values as JSON text.
    if kind == "dynamic" and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return value


def _prefers_statistics(request):
    prefer = request.headers.get("Prefer", "")
    return any(p.strip().split("=", 1)[0].strip().lower() == "include-statistics"
               and p.strip().lower() not in ("include-statistics=false",)
               for p in prefer.split(","))


def run_for_api(request, ref, query, timespan, workspaces=None):
    space = workspace_for_token(request, ref, Perm.SEARCH)
    if workspaces:
        return Status(400, _la_error("Cross-workspace queries are not supported: query one "
                                     "workspace at a time."))
    time_range = None
    if timespan:
        try:
            time_range = parse_timespan(timespan, timezone.now())
        except TimespanError as exc:
            return Status(400, _la_error(str(exc)))
    try:
        run = start_run(workspace=space, query=query, time_range=time_range,
                        time_label=timespan or "", user=request.auth.user, token=request.auth)
    except SearchError as exc:
        return Status(400, _la_error(str(exc)))
    run = wait_for(run, settings.SEARCH_TIMEOUT_SECONDS + 10)
    if run.state == QueryRun.State.FAILED:
        error = run.error or {}
        inner = {"code": "SyntaxError" if error.get("line") else "QueryError",
                 "message": error.get("message", ""), "line": error.get("line"),
                 "pos": error.get("column"), "token": error.get("token")}
        return Status(400, _la_error(error.get("message", "The query failed."), inner=inner))
    if not run.finished:
        return Status(504, _la_error("The query did not finish in time.",
                                     code="GatewayTimeout"))
    if run.state == QueryRun.State.CANCELLED:
        return Status(400, _la_error("The query was cancelled.", code="QueryCancelled"))
    kinds = [c["type"] for c in run.columns]
    answer = {"tables": [{
        "name": "PrimaryResult",
        "columns": run.columns,
        "rows": [[_la_value(v, k) for v, k in zip(row, kinds, strict=True)]
                 for row in run.rows],
    }]}
    if _prefers_statistics(request):
        answer["statistics"] = {"query": {"executionTime": (run.elapsed_ms or 0) / 1000},
                                "rows": run.row_count, "truncated": run.truncated,
                                "elapsedMs": run.elapsed_ms}
    return Status(200, answer)


LA_RESPONSES = {200: dict, 400: dict, 504: dict}


@router.post("/workspaces/{ref}/query", response=LA_RESPONSES)
def query_post(request, ref: str, payload: QueryIn):
    """Run a KQL query as Log Analytics' query API does (scope `read`). Errors answer 400
    with `{"error": {"code": "BadArgumentError", "message", "innererror": {"line", "pos",
    "token"}}}`."""
    return run_for_api(request, ref, payload.query, payload.timespan, payload.workspaces)


@router.get("/workspaces/{ref}/query", response=LA_RESPONSES)
def query_get(request, ref: str, query: str = "", timespan: str | None = None):
    """The same query as a GET (`?query=...&timespan=...`), as Log Analytics accepts it."""
    return run_for_api(request, ref, query, timespan)
