"""Retention: a workspace keeps its events `retention_days` after they were ingested.

Every event row in the engine carries its workspace's retention, and the engine's TTL
and `engine.drop_expired` delete what is past it; `EventDay` (the database's account of
each day's events) forgets the days left empty and recounts the days trimmed.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Workspace

from . import engine
from .models import EventDay, QueryRun, RejectedEvent

# Finished searches (their rows included) are kept this long for the page's history.
RUNS_KEPT = dt.timedelta(days=30)


def apply_retention(now=None):
    """Give stored events their workspace's current retention, delete what is past it,
    forget the days left empty, and delete searches older than 30 days; returns
    {"dropped_days": n, "deleted_events": n, "deleted_runs": n}."""
    now = now or timezone.now()
    kept = dict(Workspace.objects.values_list("pk", "retention_days"))
    deleted = {}
    stored = engine.query("SELECT workspace_id, retention_days FROM events "
                          "GROUP BY workspace_id, retention_days", tenant=None).rows
    for workspace_id, days in stored:
        if workspace_id in kept and kept[workspace_id] != days:
            deleted[workspace_id] = engine.set_retention(workspace_id, kept[workspace_id], now)
    for workspace_id, count in engine.drop_expired(now).items():
        deleted[workspace_id] = deleted.get(workspace_id, 0) + count
    # A day's count is the database's account of what the engine holds; a day whose last
    # events were ingested past retention holds nothing any more.
    dropped = 0
    for row in EventDay.objects.all():
        cutoff = now - dt.timedelta(days=kept.get(row.workspace_id, 0))
        if row.last_ingested_at < cutoff:
            row.delete()
            dropped += 1
    dropped += _recount_days([w for w, n in deleted.items() if n])
    _record(deleted)
    runs, _ = QueryRun.objects.filter(created_at__lt=now - RUNS_KEPT).delete()
    return {"dropped_days": dropped, "deleted_events": sum(deleted.values()),
            "deleted_runs": runs}


def _recount_days(workspace_ids):
    """Make the days of `workspace_ids` whose events the engine trimmed count what it still
    holds; returns how many were left empty (and are forgotten)."""
    if not workspace_ids:
        return 0
    held = {(int(ws), table, dt.date.fromisoformat(day)): (int(n), first)
            for ws, table, day, n, first in engine.query(
                "SELECT workspace_id, table_name, toString(toDate(time_generated)), count(), "
                "min(ingested_at) FROM events WHERE workspace_id IN {ids:Array(UInt64)} "
                "GROUP BY workspace_id, table_name, toDate(time_generated)",
                {"ids": [int(w) for w in workspace_ids]}, tenant=None).rows}
    emptied = 0
    for row in EventDay.objects.filter(workspace_id__in=workspace_ids):
        left = held.get((row.workspace_id, row.table_name, row.day))
        if left is None:
            row.delete()
            emptied += 1
        elif left != (row.events, row.first_ingested_at):
            EventDay.objects.filter(pk=row.pk).update(events=left[0], first_ingested_at=left[1])
    return emptied


def _record(deleted):
    spaces = Workspace.objects.in_bulk([w for w, n in deleted.items() if n])
    for workspace_id, count in deleted.items():
        space = spaces.get(workspace_id)
        if space is None or not count:
            continue
        with transaction.atomic():
            activity.record(actor=Actor.of_system("retention"), verb="events.retention",
                            target_type="workspace", target_id=space.pk,
                            target_label=space.name, subscription_id=space.subscription_id,
                            after={"deleted_events": count,
                                   "retention_days": space.retention_days})


REFUSED_RETENTION = dt.timedelta(days=7)


def purge_refused(now=None):
    """Forget refused events older than 7 days, as refused alerts are; returns how many."""
    cutoff = (now or timezone.now()) - REFUSED_RETENTION
    return RejectedEvent.objects.filter(received_at__lt=cutoff).delete()[0]
