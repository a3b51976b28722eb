"""GET /activity: the activity log of the token's subscription, filtered, newest first."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema

from inventory.activity import ActivityFilter, activity_page
from inventory.api import require
from inventory.forms import VERB
from inventory.roles import Perm
from socconsole.lib.apierrors import ApiError
from socconsole.lib.apiquery import utc
from socconsole.lib.isotime import IsoDateTime

router = Router(tags=["activity"])


class ActivityOut(Schema):
    id: int
    time: datetime
    actor_kind: Literal["user", "token", "system"]
    actor: str
    verb: str
    target_type: str
    target_id: str
    target_label: str
    reason: str
    before: Any
    after: Any


class ActivityList(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class ActivityFilters(Schema):
    actor: str | None = Field(None, max_length=200)
    verb: str | None = Field(None, max_length=64)
    target_type: str | None = Field(None, max_length=64)
    since: IsoDateTime | None = None
    until: IsoDateTime | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)


@router.get("/activity", response=ActivityList)
def list_activity(request, filters: Query[ActivityFilters]):
    """The activity log, newest first (`read` scope); the page's filters, a keyset cursor
    in `next_cursor`. Entries are never changed or deleted, here or anywhere."""
    subscription = require(request, Perm.ACTIVITY)
    verb = (filters.verb or "").strip()
    if verb and not VERB.fullmatch(verb):
        raise ApiError(400, "invalid", "verb: lower-case words joined by dots, such as "
                       "alert.dismiss, or a prefix ending in a dot, such as alert.", "verb")
    since, until = utc(filters.since, "since"), utc(filters.until, "until")
    if since and until and until <= since:
        raise ApiError(400, "invalid", "until: must be after since.", "until")
    f = ActivityFilter(actor=(filters.actor or "").strip(), verb=verb,
                       target_type=(filters.target_type or "").strip(), since=since,
                       until=until)
    page = activity_page(subscription.pk, f, filters.cursor, size=filters.limit)
    return {"items": [{
        "id": a.pk, "time": a.created_at, "actor_kind": a.actor_kind, "actor": a.actor_label,
        "verb": a.verb, "target_type": a.target_type, "target_id": a.target_id,
        "target_label": a.target_label, "reason": a.reason, "before": a.before,
        "after": a.after,
    } for a in page.items], "next_cursor": page.next_cursor}
