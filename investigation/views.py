from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from alerts.models import Alert
from incidents.models import Incident
from inventory.access import get_for_user, get_subscription_for_user
from inventory.activity import Actor
from inventory.roles import Perm
from investigation import drawing, graph, pane
from investigation.actions import InvestigationError, load, select_node, start_investigation, undo
from investigation.expand import LIMIT
from investigation.graph import Map
from investigation.models import Investigation
from socconsole.lib.htmx import is_partial

MAX_NODE_ID = 300


def _investigation(request: HttpRequest, sub: int, investigation_id: int,
                   perm: Perm = Perm.VIEW) -> Investigation:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    return get_for_user(Investigation.objects.filter(subscription_id=sub).select_related(
        "alert", "incident", "started_by", "subscription"), request.user, investigation_id,
        perm)


@require_POST
def start_alert(request: HttpRequest, sub: int, alert_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    alert = get_for_user(Alert.objects.filter(subscription_id=sub), request.user, alert_id,
                         Perm.INVESTIGATE)
    inv, _ = start_investigation(actor=Actor.of_user(request.user), alert=alert)
    return redirect("investigation:map", sub=sub, investigation_id=inv.pk)


@require_POST
def start_incident(request: HttpRequest, sub: int, incident_id: int) -> HttpResponse:
    get_subscription_for_user(request.user, sub, Perm.VIEW)
    incident = get_for_user(Incident.objects.filter(subscription_id=sub), request.user,
                            incident_id, Perm.INVESTIGATE)
    inv, _ = start_investigation(actor=Actor.of_user(request.user), incident=incident)
    return redirect("investigation:map", sub=sub, investigation_id=inv.pk)


def _context(request: HttpRequest, inv: Investigation, inv_map: Map, node_id: str | None = None,
             oob: bool = False) -> dict:
    drawn = drawing.draw(inv_map)
    node_id = inv_map.selected if node_id is None else node_id
    return {
        "subscription": inv.subscription, "investigation": inv, "map": inv_map,
        "nodes": drawn.nodes, "edges": drawn.edges, "view_box": drawn.view_box,
        "focus_box": drawn.focus_box, "keep_box": drawn.keep_box, "expand_limit": LIMIT,
        "pane": pane.pane(inv_map, inv.subscription_id, node_id, incident_id=inv.incident_id)
        if node_id else None,
        "can_undo": bool(inv_map.history), "node_count": inv_map.g.number_of_nodes(),
        "edge_count": inv_map.g.number_of_edges(), "oob": oob,
    }


def _node_param(params: QueryDict) -> str:
    node = params.get("node", "")
    return node if 0 < len(node) <= MAX_NODE_ID else ""


@require_GET
def map_page(request: HttpRequest, sub: int, investigation_id: int) -> HttpResponse:
    inv = _investigation(request, sub, investigation_id)
    inv_map = load(inv)
    if is_partial(request):
        return render(request, "investigation/map.html#map-update",
                      _context(request, inv, inv_map, oob=True))
    return render(request, "investigation/map.html", _context(request, inv, inv_map))


def _changed(request: HttpRequest, inv: Investigation, inv_map: Map) -> HttpResponse:
    if is_partial(request):
        return render(request, "investigation/map.html#map-update",
                      _context(request, inv, inv_map, oob=True))
    return redirect("investigation:map", sub=inv.subscription_id, investigation_id=inv.pk)


def _refused(request: HttpRequest, inv: Investigation, exc: Exception) -> HttpResponse:
    if is_partial(request):
        return HttpResponse(str(exc), status=400)
    messages.error(request, str(exc))
    return redirect("investigation:map", sub=inv.subscription_id, investigation_id=inv.pk)


@require_POST
def select(request: HttpRequest, sub: int, investigation_id: int) -> HttpResponse:
    inv = _investigation(request, sub, investigation_id, Perm.INVESTIGATE)
    try:
        inv_map, _ = select_node(inv, _node_param(request.POST), actor=Actor.of_user(request.user))
    except InvestigationError as exc:
        return _refused(request, inv, exc)
    inv.refresh_from_db(fields=["version", "updated_at"])
    return _changed(request, inv, inv_map)


@require_POST
def undo_view(request: HttpRequest, sub: int, investigation_id: int) -> HttpResponse:
    inv = _investigation(request, sub, investigation_id, Perm.INVESTIGATE)
    try:
        inv_map = undo(inv, actor=Actor.of_user(request.user))
    except InvestigationError as exc:
        return _refused(request, inv, exc)
    return _changed(request, inv, inv_map)


@require_GET
def pane_view(request: HttpRequest, sub: int, investigation_id: int) -> HttpResponse:
    """The pane of any node on the map, without selecting it (the map stays as it is)."""
    inv = _investigation(request, sub, investigation_id)
    inv_map = load(inv)
    node_id = _node_param(request.GET)
    if node_id not in inv_map.g:
        raise Http404("That node is not on the map.")
    context = _context(request, inv, inv_map, node_id)
    template = "investigation/map.html#pane" if is_partial(request) else "investigation/map.html"
    return render(request, template, context)


@require_GET
def tab_view(request: HttpRequest, sub: int, investigation_id: int, tab: str) -> HttpResponse:
    inv = _investigation(request, sub, investigation_id)
    inv_map = load(inv)
    node_id = _node_param(request.GET)
    p = pane.pane(inv_map, inv.subscription_id, node_id, incident_id=inv.incident_id) \
        if node_id in inv_map.g else None
    context = pane.tab(p, inv.subscription_id, tab) if p is not None else None
    if context is None:
        raise Http404("No such tab for that node.")
    template = "investigation/tab.html"
    if is_partial(request):
        template += "#tab-body"
    return render(request, template, {"subscription": inv.subscription, "investigation": inv,
                                      "pane": p, "tab": tab, **context})


@require_GET
def export(request: HttpRequest, sub: int, investigation_id: int, fmt: str) -> HttpResponse:
    inv = _investigation(request, sub, investigation_id)
    if fmt not in ("json", "graphml"):
        raise Http404("Export as json or graphml.")
    inv_map = load(inv)
    if fmt == "json":
        import json

        body = json.dumps(graph.as_json(inv_map, inv.subscription_id, with_positions=True),
                          indent=2, default=str).encode()
        content_type = "application/json"
    else:
        body = graph.as_graphml(inv_map, inv.subscription_id)
        content_type = "application/graphml+xml"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="investigation-{inv.pk}.{fmt}"'
    return response
