"""POST /alerts (ingest), GET /alerts (list), GET /alerts/{id} (details)."""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import Http404
from ninja import Field, Path, Query, Router, Schema

from alerts.http import TriageIn, TriageOut, api_triage, serialize
from alerts.ingest.parse import BodyError
from alerts.ingest.store import ingest_body
from alerts.models import Alert, Severity, Status
from alerts.queries import alert_details, alert_page
from alerts.triage import change_alert, comment_alert
from inventory.activity import Actor
from inventory.api import acting_on, require
from inventory.roles import Perm
from socconsole.lib.apierrors import ApiError, ErrorOut, ItemError, read_body
from socconsole.lib.apiquery import utc, words
from socconsole.lib.ids import MAX_ID, ApiId
from socconsole.lib.isotime import IsoDateTime

router = Router(tags=["alerts"])


class ItemWarning(Schema):
    code: str
    message: str
    field: str | None = None


class ItemResultOut(Schema):
    index: int
    status: Literal["created", "duplicate", "rejected"]
    type: Literal["alert", "incident"]
    id: int | None
    error: ItemError | None
    warnings: list[ItemWarning]


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    results: list[ItemResultOut]


# 503 (with Retry-After) is one of the answers declared on every operation.
@router.post("/alerts", response={200: IngestOut, 400: ErrorOut, 411: ErrorOut,
                                  413: ErrorOut},
             openapi_extra={"requestBody": {
                 "required": True,
                 "description": "One alert, a JSON array of alerts, an ARM list "
                                "`{\"value\": [...]}`, or NDJSON (`application/x-ndjson`). "
                                "Formats: native, Defender ARM, continuous export, Sentinel "
                                "SecurityAlert rows (see docs/api.md).",
                 "content": {"application/json": {"schema": {"type": ["object", "array"]}},
                             "application/x-ndjson": {"schema": {"type": "string"}}}}})
def ingest(request, format: Literal["native", "arm", "export", "sentinel"] | None = None):  # noqa: A002
    """Ingest alerts. Each item stands alone: created, duplicate, or rejected with a reason."""
    subscription = require(request, Perm.INGEST)
    body = read_body(request, settings.INGEST_MAX_BYTES)
    try:
        report = ingest_body(subscription, body, request.content_type,
                             actor=Actor.of_token(request.auth), token=request.auth,
                             source="api", format=format)
    except BodyError as exc:
        raise ApiError(400, "bad_body", str(exc)) from exc
    return report.as_dict()


class ResourceOut(Schema):
    id: int
    name: str
    kind: str
    external_id: str
    owner: str


class AlertOut(Schema):
    id: int
    key: str
    format: str
    provider: str
    product: str
    alert_type: str
    display_name: str
    severity: Literal["high", "medium", "low", "informational"]
    status: Literal["active", "dismissed", "resolved"]
    verdict: Literal["", "false_positive", "benign_positive", "not_applicable",
                     "true_positive"] = Field(description="Why it was closed; empty while "
                                              "active.")
    suppressed_by: int | None = Field(description="The suppression rule that dismissed it "
                                      "on arrival, if one did.")
    provider_status: str
    tactics: list[str]
    techniques: list[str]
    time: datetime
    start_time: datetime | None
    end_time: datetime | None
    detected_time: datetime | None
    ingested_at: datetime
    occurrence_count: int
    first_seen: datetime
    last_seen: datetime
    resource: ResourceOut | None
    compromised_entity: str


class AlertList(Schema):
    items: list[AlertOut]
    next_cursor: str | None


class EntityOut(Schema):
    id: int
    kind: str
    label: str
    props: dict
    known: bool
    first_seen: datetime
    last_seen: datetime


class MentionOut(Schema):
    position: int
    kind: str
    label: str
    props: dict
    matched_by: str
    entity: EntityOut


class RelationOut(Schema):
    type: str
    prop: str
    source: int
    target: int | None
    target_ref: str | None
    in_cycle: bool


class AlertDetailOut(AlertOut):
    description: str
    remediation_steps: list[str]
    extended_properties: dict
    extended_links: list[dict]
    alert_uri: str
    warnings: list[ItemWarning]
    entities: list[MentionOut]
    relations: list[RelationOut]
    raw: str


class AlertFilters(Schema):
    severity: list[str] | None = None
    status: list[str] | None = None
    resource: ApiId | None = Field(None, ge=1, le=MAX_ID)
    since: IsoDateTime | None = None
    until: IsoDateTime | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


@router.get("/alerts", response=AlertList)
def list_alerts(request, filters: Query[AlertFilters]):
    """Alerts ranked by severity, then time (newest first). Keyset cursor in `next_cursor`."""
    subscription = require(request, Perm.VIEW)
    severities = words(filters.severity, [s.label for s in Severity], "severity")
    statuses = words(filters.status, list(Status.values), "status")
    page = alert_page(
        subscription, severities=[Severity.from_word(s) for s in severities],
        statuses=[Status(s) for s in statuses], resource=filters.resource,
        since=utc(filters.since, "since"), until=utc(filters.until, "until"),
        cursor=filters.cursor,
        size=filters.limit)
    return {"items": [serialize(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/alerts/{alert_id}", response=AlertDetailOut)
def get_alert(request, alert_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    """One alert with its entities (each alert's view beside the merged entity), relations,
    warnings and the raw payload as sent."""
    subscription = require(request, Perm.VIEW)
    try:
        details = alert_details(Alert.objects.filter(subscription=subscription), alert_id)
    except Alert.DoesNotExist:
        raise Http404 from None
    alert = details.alert
    return {
        **serialize(alert),
        "description": alert.description, "remediation_steps": alert.remediation_steps,
        "extended_properties": alert.extended_properties,
        "extended_links": alert.extended_links, "alert_uri": alert.alert_uri,
        "warnings": alert.warnings,
        "entities": [{
            "position": m.position, "kind": m.kind, "label": m.label, "props": m.props,
            "matched_by": m.matched_by,
            "entity": {"id": m.entity.pk, "kind": m.entity.kind, "label": m.entity.label,
                       "props": m.entity.props, "known": m.entity.known,
                       "first_seen": m.entity.first_seen, "last_seen": m.entity.last_seen},
        } for m in details.mentions],
        "relations": [{
            "type": r.type, "prop": r.prop, "source": r.source.position,
            "target": r.target.position if r.target_id else None,
            "target_ref": r.target_ref or None, "in_cycle": r.in_cycle,
        } for r in details.relations],
        "raw": details.raw_text,
    }


@router.post("/alerts/{alert_id}/{action}", response=TriageOut)
def triage_alert(request, alert_id: ApiId = Path(..., ge=1, le=MAX_ID),
                 action: Literal["dismiss", "resolve", "activate", "comment"] = Path(...),
                 body: TriageIn = None):
    """Dismiss (with a verdict: false_positive, benign_positive, not_applicable), resolve,
    activate or comment an alert. Scope `act`; reopening a resolved alert needs a shift lead."""
    alert = acting_on(request, Alert.objects.all(), alert_id, Perm.TRIAGE)
    return api_triage(request, alert, action, body or TriageIn(), change_alert, comment_alert)
