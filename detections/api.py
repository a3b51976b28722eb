"""Indicators over the API: list, import (a STIX 2.1 bundle or CSV), delete."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from inventory.activity import Actor
from inventory.api import acting_on, require
from inventory.roles import Perm
from inventory.tokens import token_role
from socconsole.lib.apierrors import ApiError, ErrorOut, read_body
from socconsole.lib.ids import MAX_ID, ApiId

from .indicators import IndicatorError, delete_indicator, import_file
from .models import Indicator

router = Router(tags=["indicators"])
LIST_LIMIT = 1000


class IndicatorOut(Schema):
    id: int
    type: str
    value: str
    severity: str
    confidence: int
    source: str
    description: str
    tags: list[str]
    valid_from: datetime
    valid_until: datetime | None
    stix_id: str


class IndicatorList(Schema):
    indicators: list[IndicatorOut]
    truncated: bool


class RefusedOut(Schema):
    where: str
    reason: str


class ImportOut(Schema):
    created: int
    updated: int
    refused: list[RefusedOut]


class IndicatorFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    type: Indicator.Type | None = None
    value: str | None = Field(None, max_length=2048, description="Exact (normalised) value.")


@router.get("/indicators", response={200: IndicatorList, 400: ErrorOut, 403: ErrorOut})
def list_indicators(request, filters: Query[IndicatorFilters]):
    """The subscription's indicators, most recently changed first (at most 1,000)."""
    subscription = require(request, Perm.VIEW)
    unknown = sorted(set(request.GET) - set(IndicatorFilters.model_fields))
    if unknown:  # a misspelt filter is refused, not silently ignored
        raise ApiError(400, "invalid", f"{unknown[0][:100]!r} is not a filter: use type and "
                       "value.", unknown[0][:100])
    rows = Indicator.objects.filter(subscription=subscription)
    if filters.type:
        rows = rows.filter(type=filters.type)
    if filters.value:
        rows = rows.filter(value=filters.value.strip().lower()) if filters.type != "url" \
            else rows.filter(value=filters.value.strip())
    found = list(rows.order_by("-updated_at", "-id")[:LIST_LIMIT + 1])
    return {"indicators": [_out(i) for i in found[:LIST_LIMIT]],
            "truncated": len(found) > LIST_LIMIT}


def _out(i: Indicator) -> dict:
    return {"id": i.pk, "type": i.type, "value": i.value, "severity": i.severity,
            "confidence": i.confidence, "source": i.source, "description": i.description,
            "tags": i.tags, "valid_from": i.valid_from, "valid_until": i.valid_until,
            "stix_id": i.stix_id}


@router.post("/indicators", response={200: ImportOut, 400: ErrorOut, 403: ErrorOut,
                                      411: ErrorOut, 413: ErrorOut},
             openapi_extra={"requestBody": {
                 "required": True,
                 "description": "A STIX 2.1 bundle (`application/json`) or CSV (`text/csv`, "
                                "header type,value,severity,confidence,source,description,"
                                "tags,valid_from,valid_until). Re-importing updates.",
                 "content": {"application/json": {"schema": {"type": "object"}},
                             "text/csv": {"schema": {"type": "string"}}}}})
def import_indicators(request, source: str = Query("", max_length=200)):
    """Import indicators; each refused one is listed with its reason, the rest are kept."""
    token = request.auth
    subscription = require(request, Perm.DETECTIONS)
    body = read_body(request, settings.INGEST_MAX_BYTES)
    name = "upload.csv" if (request.content_type or "").startswith("text/csv") \
        else "upload.json"
    try:
        report = import_file(subscription, body, filename=name, source=source,
                             actor=Actor.of_token(token), role=token_role(token))
    except IndicatorError as exc:
        if "Only shift leads and admins" in str(exc):
            raise PermissionDenied(str(exc)) from None
        raise ApiError(400, "bad_body", str(exc)) from exc
    return {"created": report.created, "updated": report.updated,
            "refused": [{"where": w, "reason": r} for w, r in report.refused]}


@router.delete("/indicators/{indicator_id}", response={204: None, 400: ErrorOut,
                                                        403: ErrorOut, 404: ErrorOut})
def remove_indicator(request, indicator_id: ApiId = Path(..., ge=1, le=MAX_ID)):
    indicator = acting_on(request, Indicator.objects.all(), indicator_id, Perm.DETECTIONS)
    try:
        delete_indicator(indicator, actor=Actor.of_token(request.auth),
                         role=token_role(request.auth))
    except IndicatorError as exc:
        raise PermissionDenied(str(exc)) from None
    return Status(204, None)
