"""GET /incidents (the queue), GET /incidents/{id}, POST /incidents/{id}/{action}, and
POST /incidents/{id}/assign|escalate|acknowledge."""

from datetime import datetime
from typing import Literal

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from pydantic import ConfigDict

from alerts.http import TriageIn, TriageOut, api_triage, serialize
from alerts.models import Alert, Severity
from alerts.queries import LIST_FIELDS
from alerts.triage import TriageError
from incidents.assignment import acknowledge_escalation, assign, escalate
from incidents.models import Incident
from incidents.narrative import narrate
from incidents.queries import QueueFilters, queue_page
from incidents.triage import change_incident, comment_incident
from inventory.activity import Actor
from inventory.api import acting_on, require
from inventory.roles import Perm
from inventory.tokens import token_role
from socconsole.lib.apierrors import ApiError, ErrorOut
from socconsole.lib.apiquery import utc, words
from socconsole.lib.ids import MAX_ID, ApiId
from socconsole.lib.isotime import IsoDateTime

router = Router(tags=["incidents"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


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
    escalated_to: Literal["leads", "owner"] | None
    escalation_acknowledged: bool


class IncidentList(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentDetailOut(IncidentOut):
    description: str
    reasons: list[Reason]
    alerts: list[dict]


class IncidentChangeOut(IncidentOut):
    changed: bool


def _out(i):
    return {"id": i.pk, "title": i.title, "standalone": i.standalone,
            "severity": i.severity_word, "status": i.status, "verdict": i.verdict,
            "resource": i.resource.name if i.resource_id else None,
            "alert_count": i.alert_count, "tactics": i.tactics, "first_time": i.first_time,
            "last_time": i.last_time, "last_activity": i.last_activity,
            "assigned_to": i.assigned_to.get_username() if i.assigned_to_id else None,
            "escalated": i.escalated, "escalated_to": i.escalated_to or None,
            "escalation_acknowledged": i.escalation_acknowledged}


class IncidentFilters(Schema):
    severity: list[str] | None = None
    status: list[str] | None = None
    resource: ApiId | None = Field(None, ge=1, le=MAX_ID)
    assigned: Literal["me", "none"] | None = Field(
        None, description="`me`: assigned to the token's user; `none`: unassigned.")
    unassigned: bool | None = Field(None, description="`true` is `assigned=none`.")
    escalated: bool = False
    overdue: bool = Field(False, description="Active, not acknowledged, past the time to "
                          "acknowledge of its severity.")
    since: IsoDateTime | None = Field(None, description="Its latest alert at or after this "
                                   "time (ISO 8601; without offset, UTC).")
    until: IsoDateTime | None = Field(None, description="Its first alert at or before this "
                                   "time (ISO 8601; without offset, UTC).")
    q: str = Field("", max_length=200)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


REPEATABLE = ("severity", "status")


@router.get("/incidents", response={200: IncidentList, 400: ErrorOut, 403: ErrorOut})
def list_incidents(request, filters: Query[IncidentFilters]):
    """The queue: incidents and standalone alerts, worst first, then most recently active.
    Status defaults to active. An unknown parameter or value is a 400, never ignored."""
    subscription = require(request, Perm.VIEW)
    # A misspelt or repeated filter would otherwise silently widen the queue.
    for name in request.GET:
        if name not in IncidentFilters.model_fields:
            raise ApiError(400, "invalid", f"{name}: not a filter of the queue.", name)
        if name not in REPEATABLE and len(request.GET.getlist(name)) > 1:
            raise ApiError(400, "invalid", f"{name}: give it once.", name)
    severities = words(filters.severity, [s.label for s in Severity], "severity")
    statuses = words(filters.status, list(Incident.Status.values), "status")
    assigned = filters.assigned
    if filters.unassigned:
        if assigned == "me":
            raise ApiError(400, "invalid", "assigned: use either assigned=me or "
                           "unassigned=true.", "assigned")
        assigned = "none"
    user = request.auth.user
    if assigned == "me" and user is None:
        raise ApiError(400, "invalid", "assigned: a token without a user has no “me”.",
                       "assigned")
    page = queue_page(subscription, QueueFilters(
        severities=tuple(Severity.from_word(s) for s in severities),
        statuses=tuple(statuses) or ("active",),
        resources=(filters.resource,) if filters.resource else None,
        since=utc(filters.since, "since"), until=utc(filters.until, "until"),
        mine_for=user if assigned == "me" else None, unassigned=assigned == "none",
        escalated=filters.escalated, overdue_at=timezone.now() if filters.overdue else None,
        text=filters.q.strip()),
        cursor=filters.cursor, size=filters.limit)
    return {"items": [_out(i) for i in page.items], "next_cursor": page.next_cursor}


def _incident(request, incident_id):
    subscription = require(request, Perm.VIEW)
    incident = Incident.objects.filter(subscription=subscription, pk=incident_id)\
        .select_related("resource", "assigned_to").first()
    if incident is None:
        raise Http404
    return incident


def _acting_on(request, incident_id, perm, refusal=None):
    """The incident a token acts on (inventory.api.acting_on)."""
    return acting_on(request, Incident.objects.select_related("resource", "assigned_to"),
                     incident_id, perm, refusal)


def _changed(incident, changed):
    incident = Incident.objects.select_related("resource", "assigned_to").get(pk=incident.pk)
    return {**_out(incident), "changed": changed}


@router.get("/incidents/{incident_id}", response={200: IncidentDetailOut, 404: ErrorOut})
def get_incident(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """One incident with its alerts and the reasons they belong together."""
    incident = _incident(request, incident_id)
    narrative = narrate(incident)
    return {**_out(incident), "description": narrative.description,
            "reasons": narrative.reasons,
            "alerts": [serialize(a) for a in Alert.objects.filter(
                membership__incident=incident).select_related("resource")
                .only(*LIST_FIELDS).order_by("time", "id")]}


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt "reason" is not dropped unseen
    to: str = Field("", max_length=150, description="The username of an analyst or shift "
                    "lead of the subscription, or `me` to take the incident.", examples=["me"])
    reason: str = Field("", max_length=4000)


class EscalateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    to: Literal["leads", "owner"] | None = Field(
        None, description="`leads`: the subscription's shift leads; `owner`: the "
        "resource's workload owner. Required.", examples=["leads"])
    note: str = Field("", max_length=4000, description="Why; it goes with the email. "
                      "Required.", examples=["Looks like ransomware staging."])


class AcknowledgeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=4000)


def _member(subscription_id, username):
    """A member of the subscription with that username, or None. Whether they are active
    and their role may triage is assign's to say."""
    return get_user_model().objects.filter(
        username=username, memberships__subscription_id=subscription_id).first()


# Declared before the triage route below, so that /assign is not read as an {action}.
@router.post("/incidents/{incident_id}/assign", response={200: IncidentChangeOut, **ERRORS})
def assign_incident(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID),
                    body: AssignIn = None):
    """Assign the incident: `{"to": "me"}` takes it (an analyst may only take);
    a shift lead assigns it to any analyst or shift lead of the subscription."""
    body = body or AssignIn()
    incident = _acting_on(request, incident_id, Perm.TRIAGE)
    token, to = request.auth, body.to.strip()
    if not to:
        raise ApiError(400, "invalid", "to: say whom to assign it to: a username, or “me” "
                       "to take it.", "to")
    taking = to in ("me", token.user.get_username())
    assignee = token.user if taking else _member(incident.subscription_id, to)
    try:
        changed = assign(incident, to=assignee, actor=Actor.of_token(token),
                         role=token_role(token), reason=body.reason)
    except TriageError as exc:
        message = str(exc) if assignee else f"to: {to!r} is not an analyst or shift lead " \
            "of this subscription."
        raise ApiError(400, "invalid", message, "to") from exc
    return _changed(incident, changed)


@router.post("/incidents/{incident_id}/escalate",
             response={200: IncidentChangeOut, **ERRORS})
def escalate_incident(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID),
                      body: EscalateIn = None):
    """Escalate to the shift leads or to the resource's workload owner, with a note;
    each escalation sends an email."""
    body = body or EscalateIn()
    incident = _acting_on(request, incident_id, Perm.TRIAGE)
    try:
        escalate(incident, to=body.to or "", note=body.note,
                 actor=Actor.of_token(request.auth), role=token_role(request.auth))
    except TriageError as exc:
        # The domain checks the target, then the note, then that someone gets the email.
        field = "note" if body.to and not body.note.strip() else "to"
        raise ApiError(400, "invalid", str(exc), field) from exc
    return _changed(incident, True)


@router.post("/incidents/{incident_id}/acknowledge",
             response={200: IncidentChangeOut, **ERRORS})
def acknowledge_incident(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID),
                         body: AcknowledgeIn = None):
    """A shift lead acknowledges the incident's escalation (idempotent)."""
    body = body or AcknowledgeIn()
    incident = _acting_on(request, incident_id, Perm.LEAD,
                          "Only a shift lead may acknowledge an escalation.")
    if not incident.escalated:
        raise ApiError(400, "invalid", "This incident is not escalated: there is nothing to "
                       "acknowledge.")
    changed = acknowledge_escalation(incident, actor=Actor.of_token(request.auth),
                                     role=token_role(request.auth), reason=body.reason)
    return _changed(incident, changed)


@router.post("/incidents/{incident_id}/{action}", response={200: TriageOut, **ERRORS})
def triage_incident(request, incident_id: ApiId = Path(..., ge=1, le=MAX_ID),
                    action: Literal["dismiss", "resolve", "activate", "comment"] = Path(...),
                    body: TriageIn = None):
    """Dismiss (with a verdict), resolve (with a comment), activate or comment an incident;
    its alerts follow. Scope `act`; reopening a resolved incident needs a shift lead."""
    incident = _acting_on(request, incident_id, Perm.TRIAGE)
    return api_triage(request, incident, action, body or TriageIn(), change_incident,
                      comment_incident)
