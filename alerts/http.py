"""What the alert and incident pages and API share: the triage actions as HTTP requests
(which actions there are, how a request names one, what the answer says) and an alert as
the API shows it. The rules of who may do what are the domain functions' own."""

from collections.abc import Callable

from django.db.models import Model
from django.http import HttpRequest
from ninja import Field, Schema

from alerts.forms import CommentForm, DismissForm
from alerts.models import Alert
from alerts.triage import TriageError
from inventory.access import role_for
from inventory.activity import Actor
from inventory.api import require
from inventory.roles import Perm
from inventory.tokens import token_role
from socconsole.lib.apierrors import ApiError

ACTIONS = ("dismiss", "resolve", "activate", "comment")

DONE = {"dismiss": "Dismissed.", "resolve": "Resolved.", "activate": "Active again.",
        "comment": "Comment added."}


def triage_request(request: HttpRequest, action: str) -> tuple[str, str]:
    """Parse a triage POST: (verdict, text); TriageError for bad input."""
    form = DismissForm(request.POST) if action == "dismiss" else CommentForm(request.POST)
    if not form.is_valid():
        raise TriageError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return form.cleaned_data.get("verdict", ""), form.cleaned_data.get("comment", "")


def run_triage(request: HttpRequest, obj: Model, action: str, change: Callable[..., bool],
               comment: Callable[..., None]) -> str | None:
    """Parse a triage POST and apply it to an alert or incident with `change`/`comment`;
    returns the user-facing error, or None. What the role may not do raises NotAllowed
    (a PermissionDenied: 403)."""
    actor = Actor.of_user(request.user)
    try:
        verdict, text = triage_request(request, action)
        if action == "comment":
            comment(obj, actor=actor, comment=text)
        else:
            role = role_for(request.user, obj.subscription_id)
            change(obj, action=action, actor=actor, role=role, verdict=verdict, reason=text)
    except TriageError as exc:
        return str(exc)
    return None


class TriageIn(Schema):
    verdict: str = ""
    comment: str = Field("", max_length=4000)


class TriageOut(Schema):
    id: int
    status: str
    verdict: str
    changed: bool


def api_triage(request: HttpRequest, obj: Model, action: str, body: TriageIn,
               change: Callable[..., bool], comment: Callable[..., None]) -> dict:
    """The API side of a triage action on an alert or incident (scope `act`)."""
    require(request, Perm.TRIAGE)
    actor = Actor.of_token(request.auth)
    try:
        if action == "comment":
            comment(obj, actor=actor, comment=body.comment)
            changed = True
        else:
            changed = change(obj, action=action, actor=actor, role=token_role(request.auth),
                             verdict=body.verdict.lower(), reason=body.comment)
    except TriageError as exc:
        # Dismissing lacks a verdict; resolving or commenting lacks a comment.
        raise ApiError(400, "invalid", str(exc),
                       "verdict" if action == "dismiss" else "comment") from exc
    obj.refresh_from_db()
    return {"id": obj.pk, "status": obj.status, "verdict": obj.verdict, "changed": changed}


def _resource(alert: Alert) -> dict | None:
    r = alert.resource
    if r is None:
        return None
    return {"id": r.pk, "name": r.name, "kind": r.kind, "external_id": r.external_id,
            "owner": r.owner}


def serialize(alert: Alert) -> dict:
    """An alert as the API lists it (`alerts.api.AlertOut`)."""
    return {
        "id": alert.pk, "key": alert.key, "format": alert.format, "provider": alert.provider,
        "product": alert.product, "alert_type": alert.alert_type,
        "display_name": alert.display_name, "severity": alert.severity_word,
        "status": alert.status, "verdict": alert.verdict,
        "suppressed_by": alert.suppressed_by_id, "provider_status": alert.provider_status,
        "tactics": alert.tactics, "techniques": alert.techniques, "time": alert.time,
        "start_time": alert.start_time, "end_time": alert.end_time,
        "detected_time": alert.detected_time, "ingested_at": alert.ingested_at,
        "occurrence_count": alert.occurrence_count, "first_seen": alert.first_seen,
        "last_seen": alert.last_seen, "resource": _resource(alert),
        "compromised_entity": alert.compromised_entity,
    }
