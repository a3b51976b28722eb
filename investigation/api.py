"""GET /incidents/{id}/graph and GET /alerts/{id}/graph: the first map, as JSON."""

from django.http import Http404
from ninja import Path, Router, Schema

from alerts.models import Alert
from incidents.models import Incident
from inventory.api import require
from inventory.roles import Perm
from investigation.actions import initial_map
from investigation.graph import as_json
from socconsole.lib.ids import MAX_ID, ApiId

router = Router(tags=["investigation"])


class NodeOut(Schema):
    id: str
    kind: str
    label: str
    properties: dict


class EdgeOut(Schema):
    source: str
    target: str
    relation: str


class GraphOut(Schema):
    nodes: list[NodeOut]
    edges: list[EdgeOut]


@router.get("/incidents/{incident_id}/graph", response=GraphOut)
def incident_graph(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """The incident's investigation map before any expansion: the incident, its alerts,
    their entities and relations (a huge incident collapsed by kind, with counts)."""
    subscription = require(request, Perm.VIEW)
    incident = Incident.objects.filter(subscription=subscription, pk=incident_id).first()
    if incident is None:
        raise Http404
    return as_json(initial_map(incident=incident), subscription.pk)


@router.get("/alerts/{alert_id}/graph", response=GraphOut)
def alert_graph(request, alert_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """The alert's investigation map before any expansion: the alert, its entities, their
    relations and the references it left unresolved."""
    subscription = require(request, Perm.VIEW)
    alert = Alert.objects.filter(subscription=subscription, pk=alert_id).first()
    if alert is None:
        raise Http404
    return as_json(initial_map(alert=alert), subscription.pk)
