import csv
import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from inventory.access import get_for_user, get_subscription_for_user
from inventory.models import Subscription, Workspace
from inventory.roles import Perm
from socconsole.lib.htmx import is_partial
from socconsole.lib.ids import is_id, parse_id
from socconsole.lib.paging import BadCursor, keyset_page

from .forms import SearchForm
from .models import QueryRun, RejectedEvent
from .runs import SearchError, cancel_run, start_run
from .timespan import page_range

EXAMPLES = [
    "SecurityEvent\n| where EventID == 4625\n| summarize FailedLogons = count() by Account, "
    "IpAddress\n| sort by FailedLogons",
    "SecurityEvent\n| where EventID == 4688 and CommandLine has \"comsvcs.dll\"\n"
    "| project TimeGenerated, Computer, Account, CommandLine\n| take 50",
    "Syslog\n| where Facility == \"authpriv\" and SyslogMessage contains \"sudo\"\n"
    "| summarize count() by bin(TimeGenerated, 1h), Computer",
]
# Spreadsheet programs run cells that start with these as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _workspaces(subscription: Subscription) -> list[Workspace]:
    return list(Workspace.objects.filter(subscription=subscription).order_by("-is_default",
                                                                               "name"))


def _run(request: HttpRequest, sub: int, run_id: int) -> QueryRun:
    get_subscription_for_user(request.user, sub, Perm.SEARCH)
    return get_for_user(QueryRun.objects.filter(subscription_id=sub).select_related(
        "workspace", "user"), request.user, run_id, Perm.SEARCH)


@require_GET
def search(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.SEARCH)
    workspaces = _workspaces(subscription)
    run = None
    if request.GET.get("run"):
        run_id = parse_id(request.GET["run"])
        run = QueryRun.objects.filter(subscription=subscription, pk=run_id).first() \
            if run_id else None
        if run is None:
            raise Http404
    initial = {"range": "24h", "query": EXAMPLES[0],
               "workspace": workspaces[0].pk if workspaces else None}
    if run is not None:
        initial.update(workspace=run.workspace_id, query=run.query,
                       range=run.time_label if run.time_label in dict(
                           SearchForm.base_fields["range"].choices) else "query")
        if run.time_label == "custom":
            initial.update(start=run.time_from, end=run.time_to)
    for key in ("query", "workspace", "range"):
        if key in request.GET and (key != "workspace" or is_id(request.GET[key])):
            initial[key] = request.GET[key]
    form = SearchForm(initial=initial, workspaces=workspaces)
    return render(request, "search/search.html", {
        "subscription": subscription, "form": form, "run": run, "examples": EXAMPLES,
        "recent": QueryRun.objects.filter(subscription=subscription, user=request.user)
        .only("pk", "query", "state", "created_at", "row_count").order_by("-created_at")[:8],
    })


@require_POST
def run_search(request: HttpRequest, sub: int) -> HttpResponse:
    subscription = get_subscription_for_user(request.user, sub, Perm.SEARCH)
    workspaces = _workspaces(subscription)
    form = SearchForm(request.POST, workspaces=workspaces)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        workspace = next(w for w in workspaces if w.pk == data["workspace"])
        try:
            time_range = page_range(data["range"], timezone.now(), data["start"], data["end"])
            run = start_run(workspace=workspace, query=data["query"], time_range=time_range,
                            time_label=data["range"], user=request.user)
        except (SearchError, ValueError) as exc:
            error = str(exc)
        else:
            url = reverse("search:page", kwargs={"sub": sub}) + f"?run={run.pk}"
            if is_partial(request):
                response = _status(request, run)
                response["HX-Push-Url"] = url
                return response
            return redirect(url)
    else:
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    template = "search/search.html#run-status" if is_partial(request) else "search/search.html"
    return render(request, template, {
        "subscription": subscription, "form": form, "form_error": error, "examples": EXAMPLES,
    }, status=400)


def _status(request: HttpRequest, run: QueryRun) -> HttpResponse:
    return render(request, "search/search.html#run-status", {
        "subscription": run.subscription, "run": run})


@require_GET
def run_status(request: HttpRequest, sub: int, run_id: int) -> HttpResponse:
    run = _run(request, sub, run_id)
    response = render(request, "search/search.html#run-status", {
        "subscription": run.subscription, "run": run})
    # 286 tells htmx to stop polling: the run has finished.
    if run.finished and request.headers.get("HX-Trigger") == "run-poll":
        response.status_code = 286
    return response


@require_POST
def run_cancel(request: HttpRequest, sub: int, run_id: int) -> HttpResponse:
    run = _run(request, sub, run_id)
    cancel_run(run, user=request.user)
    if is_partial(request):
        return render(request, "search/search.html#run-status", {
            "subscription": run.subscription, "run": run})
    return redirect(reverse("search:page", kwargs={"sub": sub}) + f"?run={run.pk}")


def _cell(value: object) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@require_GET
def run_download(request: HttpRequest, sub: int, run_id: int, fmt: str) -> HttpResponse:
    run = _run(request, sub, run_id)
    if fmt not in ("csv", "json") or run.state != QueryRun.State.DONE:
        raise Http404
    name = f"search-{run.pk}.{fmt}"
    if fmt == "json":
        names = [c["name"] for c in run.columns]
        response = JsonResponse({"columns": run.columns, "truncated": run.truncated,
                                 "rows": [dict(zip(names, row, strict=True))
                                          for row in run.rows]},
                                json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow([_cell(c["name"]) for c in run.columns])
        for row in run.rows:
            writer.writerow([_cell(v) for v in row])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def refused_events(request: HttpRequest, sub: int) -> HttpResponse:
    """Events refused at ingestion, newest first, with why; for an admin."""
    subscription = get_subscription_for_user(request.user, sub, Perm.ADMINISTER)
    rows = RejectedEvent.objects.filter(subscription=subscription)
    resource = request.GET.get("resource", "")
    if resource:
        if not is_id(resource):
            return HttpResponseBadRequest("Bad filter: resource is an id.")
        rows = rows.filter(resource_id=parse_id(resource))
    try:
        page = keyset_page(rows.select_related("workspace", "resource").defer("body"),
                           ("-received_at", "-id"), request.GET.get("cursor"), size=50)
    except BadCursor as exc:
        return HttpResponseBadRequest(str(exc))
    template = "search/refused_events.html"
    if is_partial(request):
        template += "#refused-rows"
    return render(request, template, {"subscription": subscription, "page": page,
                                      "filter_query": f"resource={resource}" if resource else ""})
