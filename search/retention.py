"""Retention: a workspace keeps its events `retention_days` after they were ingested.

Whole days go first: a partition (PostgreSQL) whose every event is past its workspace's
retention is dropped without being scanned, as `EventDay` knows when each day's events
were ingested. Days that hold both expired and live events (a backfill, or workspaces
with different retention sharing a day) are trimmed with a DELETE bounded to that day.
"""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor
from inventory.models import Workspace

from . import engine, partitions
from .models import Event, EventDay, QueryRun, RejectedEvent

# Finished searches (their rows included) are kept this long for the page's history.
RUNS_KEPT = dt.timedelta(days=30)


def apply_retention(now=None):
    """Drop and delete expired events, and searches older than 30 days; returns
    {"dropped_days": n, "deleted_events": n, "deleted_runs": n}."""
    now = now or timezone.now()
    if settings.EVENTS_IN_ENGINE:
        return _apply_in_engine(now)
    cutoffs = {w.pk: now - dt.timedelta(days=w.retention_days)
               for w in Workspace.objects.only("pk", "retention_days")}
    deleted = {}
    days = EventDay.objects.all()
    expired_days = set()
    by_day = {}
    for row in days:
        by_day.setdefault(row.day, []).append(row)
    for day, rows in by_day.items():
        if all(r.last_ingested_at < cutoffs.get(r.workspace_id, now) for r in rows):
            expired_days.add(day)
    dropped = 0
    for day in sorted(expired_days):
        with transaction.atomic():
            for r in by_day[day]:
                deleted[r.workspace_id] = deleted.get(r.workspace_id, 0) + r.events
            EventDay.objects.filter(day=day).delete()
            if connection.vendor == "postgresql":
                partitions.drop_day(day)
            else:
                Event.objects.filter(time_generated__gte=_start(day),
                                     time_generated__lt=_start(day) + dt.timedelta(days=1)
                                     )._raw_delete(Event.objects.db)
        dropped += 1
    for day, rows in by_day.items():
        if day in expired_days:
            continue
        for r in rows:
            cutoff = cutoffs.get(r.workspace_id)
            if cutoff is None or r.first_ingested_at >= cutoff:
                continue
            deleted[r.workspace_id] = deleted.get(r.workspace_id, 0) + _trim(r, cutoff)
    _drop_empty_partitions(now)
    _record(deleted)
    runs, _ = QueryRun.objects.filter(created_at__lt=now - RUNS_KEPT).delete()
    return {"dropped_days": dropped, "deleted_events": sum(deleted.values()),
            "deleted_runs": runs}


def _apply_in_engine(now):
    """Retention when the events are in the engine: give stored rows their workspace's
    current retention, delete what is past it, and forget the days left empty."""
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
    dropped += _recount_days_in_engine([w for w, n in deleted.items() if n])
    _record(deleted)
    runs, _ = QueryRun.objects.filter(created_at__lt=now - RUNS_KEPT).delete()
    return {"dropped_days": dropped, "deleted_events": sum(deleted.values()),
            "deleted_runs": runs}


def _recount_days_in_engine(workspace_ids):
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


def _start(day):
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _trim(day_row, cutoff):
    """Delete one workspace's expired events of one table and day; keep EventDay true."""
    start = _start(day_row.day)
    scope = Event.objects.filter(workspace_id=day_row.workspace_id,
                                 table_name=day_row.table_name, time_generated__gte=start,
                                 time_generated__lt=start + dt.timedelta(days=1))
    with transaction.atomic():
        count = scope.filter(ingested_at__lt=cutoff)._raw_delete(Event.objects.db)
        left = scope.aggregate(n=Count("id"), first=Min("ingested_at"))
        if left["n"]:
            EventDay.objects.filter(pk=day_row.pk).update(events=left["n"],
                                                          first_ingested_at=left["first"])
        else:
            EventDay.objects.filter(pk=day_row.pk).delete()
    return count


def _drop_empty_partitions(now):
    """Partitions no EventDay accounts for and that hold nothing (days long emptied)."""
    if connection.vendor != "postgresql":
        return
    accounted = set(EventDay.objects.values_list("day", flat=True).distinct())
    for day in partitions.existing_days():
        if day in accounted or day >= now.date() - dt.timedelta(days=1):
            continue
        with connection.cursor() as cur:
            # The name is built from a date, never from input.
            cur.execute(f'SELECT 1 FROM "{partitions.partition_name(day)}" LIMIT 1')  # noqa: S608
            if cur.fetchone() is None:
                partitions.drop_day(day)


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
