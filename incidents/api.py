"""GET /incidents (the queue), GET /incidents/{id}, POST /incidents/{id}/{action}."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Path, Query, Router, Schema

from alerts.api import MAX_ID, TriageIn, TriageOut, _words, api_triage, serialize
from alerts.models import Severity
from incidents.models import Incident
from incidents.queries import QueueFilters, incident_alerts, queue_page
from incidents.triage import change_incident, comment_incident
from inventory.api import require
from inventory.roles import Perm

router = Router(tags=["incidents"])


class Reason(Schema):
    code: str
    text: str


class IncidentOut(Schema):
    id: int
    title: str
    standalone: bool
    severity: Literal["high", "medium", "low", "informational"]
    status: Literal["active", "dismissed", "resolved"]
    verdict: str
    resource: str | None
    alert_count: int
    tactics: list[str]
    first_time: datetime
    last_time: datetime
    last_activity: datetime
    assigned_to: str | None
    escalated: bool


class IncidentList(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentDetailOut(IncidentOut):
    description: str
    reasons: list[Reason]
    alerts: list[dict]


def _out(i):
    return {"id": i.pk, "title": i.title, "standalone": i.standalone,
            "severity": i.severity_word, "status": i.status, "verdict": i.verdict,
            "resource": i.resource.name if i.resource_id else None,
            "alert_count": i.alert_count, "tactics": i.tactics, "first_time": i.first_time,
            "last_time": i.last_time, "last_activity": i.last_activity,
            "assigned_to": i.assigned_to.get_username() if i.assigned_to_id else None,
            "escalated": i.escalated}


class IncidentFilters(Schema):
    severity: list[str] | None = None
    status: list[str] | None = None
    resource: int | None = Field(None, ge=1, le=MAX_ID)
    unassigned: bool = False
    escalated: bool = False
    q: str = Field("", max_length=200)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


@router.get("/incidents", response=IncidentList)
def list_incidents(request, filters: Query[IncidentFilters]):
    """The queue: incidents and standalone alerts, worst first, then most recently active.
    Status defaults to active."""
    subscription = require(request, Perm.VIEW)
    severities = _words(filters.severity, [s.label for s in Severity], "severity")
    statuses = _words(filters.status, list(Incident.Status.values), "status")
    page = queue_page(subscription, QueueFilters(
        severities=tuple(Severity.from_word(s) for s in severities),
        statuses=tuple(statuses) or ("active",), resource=filters.resource,
        unassigned=filters.unassigned, escalated=filters.escalated, text=filters.q.strip()),
        cursor=filters.cursor, size=filters.limit)
    return {"items": [_out(i) for i in page.items], "next_cursor": page.next_cursor}


def _incident(request, incident_id):
    subscription = require(request, Perm.VIEW)
    incident = Incident.objects.filter(subscription=subscription, pk=incident_id)\
        .select_related("resource", "assigned_to").first()
    if incident is None:
        raise Http404
    return incident


@router.get("/incidents/{incident_id}", response=IncidentDetailOut)
def get_incident(request, incident_id: int = Path(..., ge=1, le=MAX_ID)):
    """One incident with its alerts and the reasons they belong together."""
    incident = _incident(request, incident_id)
    return {**_out(incident), "description": incident.description,
            "reasons": incident.reasons,
            "alerts": [serialize(a) for a in incident_alerts(incident)]}


@router.post("/incidents/{incident_id}/{action}", response=TriageOut)
def triage_incident(request, incident_id: int = Path(..., ge=1, le=MAX_ID),
                    action: Literal["dismiss", "resolve", "activate", "comment"] = Path(...),
                    body: TriageIn = None):
    """Dismiss (with a verdict), resolve, activate or comment an incident; its alerts
    follow. Scope `act`; reopening a resolved incident needs a shift lead."""
    incident = _incident(request, incident_id)
    return api_triage(request, incident, action, body or TriageIn(), change_incident,
                      comment_incident)
