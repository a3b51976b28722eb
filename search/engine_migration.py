"""Moving the events an install stored in the database (`search_event`) into the events
engine: `manage.py migrate_events_to_clickhouse`.

The unit of work is one workspace's day (of TimeGenerated, as the engine partitions):
its rows are copied in batches, keyset on id, each batch one all-or-nothing insert of
the row ingestion would have stored, and EventMigration records after each batch the
last id copied and how many rows that makes.

ClickHouse has no unique key, so a batch stored twice stays twice. A resume is exact
because a migrated row can be told apart and is only ever counted or deleted by day:

- a migrated row has no raw event (`raw = ''`): `search_event` never kept one, and
  ingestion always stores the bytes it was sent. Every count and delete here is bounded
  to the migrated rows of one workspace and day, so events ingested straight into the
  engine (on the cut-over day) are never touched or counted;
- a day stopped half-way (Ctrl-C, a crash, the engine down) continues from its last id
  only if the engine holds exactly the rows recorded as copied. Otherwise a batch was
  stored and not recorded (a crash between the two): the day's migrated rows are
  deleted (a lightweight DELETE within one partition) and the day is copied again. At
  most the day in progress is copied twice, never stored twice.

A staging table moved in by partition was the alternative: it needs inserts into a
table other than the engine's, and an engine partition holds every workspace's day.

Rows already past their workspace's retention are not copied (the engine's TTL would
drop them); the verification counts, on both sides, the rows not expired at one instant.
A day whose counts differ is reported and copied again on the next run; while any day
differs nothing is dropped, and the source is dropped only for days whose counts matched
in this run, up to the last id copied. A dropped day is done: rows that reach the source
for it afterwards (ingestion still writing there) are reported, and left where they are.
"""

import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory import activity
from inventory.activity import Actor

from . import engine
from .engine import ddl
from .models import Event, EventMigration

ACTOR = Actor.of_system("migrate_events_to_clickhouse")
# What marks a row the migration wrote (see the module's docstring).
MIGRATED = "raw = ''"
_DAY = ("workspace_id = {ws:UInt64} AND time_generated >= {start:DateTime64(6, 'UTC')} "
        "AND time_generated < {end:DateTime64(6, 'UTC')}")
_SOURCE_COLUMNS = ("id", "table_name", "time_generated", "ingested_at", "computer",
                   "event_id", "account", "ip_address", "resource_id", "fields")
PROGRESS_EVERY = 2.0  # seconds between progress lines within a day
# One run at a time (PostgreSQL; the embedded engine serves one process anyway).
_LOCK_KEY = 0x5EA4C4_0014


class MigrationError(Exception):
    """The migration cannot run as asked; the message says why."""


@dataclass
class Day:
    """One workspace's day of source events, and how far its copy has got."""

    workspace: object
    day: dt.date
    rows: int  # source rows not past retention when the run began
    record: EventMigration

    @property
    def label(self):
        return f"{self.workspace.subscription.name} / {self.workspace.name} {self.day}"


@dataclass
class Check:
    """A verified day: the rows each side holds."""

    day: Day
    source: int
    engine: int

    @property
    def matches(self):
        return self.source == self.engine


@dataclass
class Outcome:
    days: list
    copied: int = 0
    batches: int = 0
    # True when max_batches ended the copy before every day was copied.
    stopped: bool = False
    checks: list = field(default_factory=list)
    dropped: int = 0
    # (Day, rows) of days already dropped that the source holds rows for again.
    left: list = field(default_factory=list)

    @property
    def mismatches(self):
        return [c for c in self.checks if not c.matches]


def migrate_events(workspaces, *, batch=10_000, max_batches=None, dry_run=False,
                   drop_source=False, report=lambda line: None, now=None):
    """Copy `workspaces`' events from the database into the engine, verify the counts of
    every copied day, and with `drop_source` (when no day differs) delete the source rows
    of the days that verified. Resumes where an earlier run stopped; `report` receives
    the progress lines.

    Raises MigrationError for a request it refuses, EngineUnavailable when the engine
    fails (progress so far is kept: run again)."""
    if batch < 1:
        raise MigrationError("The batch size is at least 1.")
    now = now or timezone.now()
    with _one_run():
        return _migrate(workspaces, batch=batch, max_batches=max_batches, dry_run=dry_run,
                        drop_source=drop_source, report=report, now=now)


def _migrate(workspaces, *, batch, max_batches, dry_run, drop_source, report, now):
    days = plan(workspaces, now=now, save=not dry_run)
    outcome = Outcome([d for d in days if d.record.source_dropped_at is None],
                      left=[(d, d.rows) for d in days if d.record.source_dropped_at])
    days = outcome.days
    if dry_run:
        return outcome
    engine.ensure_schema()
    budget = None if max_batches is None else max(max_batches, 0)
    for day in days:
        if day.record.state == EventMigration.State.COPIED:
            continue
        copied, batches, done = copy_day(day, batch=batch, now=now, report=report,
                                         max_batches=None if budget is None else budget)
        outcome.copied += copied
        outcome.batches += batches
        if budget is not None:
            budget -= batches
        if not done:
            outcome.stopped = True
            break
    outcome.checks = verify([d for d in days if d.record.state == EventMigration.State.COPIED])
    if drop_source and not outcome.mismatches:
        outcome.dropped = drop_verified([c for c in outcome.checks if c.matches])
    return outcome


def plan(workspaces, *, now, save=True):
    """The days of source events of `workspaces` (rows not past retention at `now`),
    oldest first, each with its record (created when `save`)."""
    days = []
    for workspace in workspaces:
        records = {r.day: r for r in EventMigration.objects.filter(workspace=workspace)}
        for day, rows in sorted(_source_counts(workspace, now).items()):
            record = records.get(day)
            if record is None:
                record = EventMigration(workspace=workspace, day=day)
                if save:
                    record.save(force_insert=True)
            days.append(Day(workspace, day, rows, record))
    return days


def copy_day(day, *, batch, now, report, max_batches=None):
    """Copy one day into the engine from where its record says; returns (rows copied,
    batches, whether the day is done)."""
    record, workspace = day.record, day.workspace
    held = _engine_rows(workspace.pk, day.day)
    if record.state == EventMigration.State.PENDING or held != record.copied:
        if held:  # a batch stored and not recorded, or a copy that did not verify
            report(f"{day.label}: deleting {held:,} rows of an earlier, unfinished copy")
            _delete_migrated(workspace.pk, day.day)
        record.last_id = record.copied = 0
    record.state = EventMigration.State.COPYING
    record.save(update_fields=["state", "last_id", "copied", "updated_at"])
    source = _source(workspace, day.day, now).order_by("id").values_list(*_SOURCE_COLUMNS)
    copied = batches = 0
    started = last_line = time.monotonic()
    while True:
        rows = list(source.filter(id__gt=record.last_id)[:batch])
        if not rows:
            break
        if max_batches is not None and batches >= max_batches:
            return copied, batches, False
        try:
            engine.insert([_engine_row(workspace, r) for r in rows])
        except engine.InsertRefused as exc:
            culprit = rows[exc.index][0] if exc.index is not None and exc.index < len(rows) \
                else None
            which = f"event {culprit}" if culprit else f"a batch after event {record.last_id}"
            raise MigrationError(f"{day.label}: the events engine refused {which}: {exc}") \
                from None
        # Recorded only once stored: a crash in between is what copy_day's check catches.
        record.last_id, record.copied = rows[-1][0], record.copied + len(rows)
        record.save(update_fields=["last_id", "copied", "updated_at"])
        copied += len(rows)
        batches += 1
        if time.monotonic() - last_line >= PROGRESS_EVERY:
            last_line = time.monotonic()
            report(f"{day.label}: {record.copied:,} of {day.rows:,} rows, "
                   f"{_rate(copied, started)}")
    record.state = EventMigration.State.COPIED
    record.save(update_fields=["state", "updated_at"])
    rate = f", {_rate(copied, started)}" if copied else ""
    report(f"{day.label}: copied {record.copied:,} rows{rate}")
    return copied, batches, True


def verify(days, now=None):
    """Count each copied day's rows on both sides (those not expired at one instant) and
    record the result; a day that differs is copied again on the next run."""
    now = now or timezone.now()
    checks = []
    by_workspace = {}
    for day in days:
        by_workspace.setdefault(day.workspace, []).append(day)
    for workspace, group in by_workspace.items():
        source = _source_counts(workspace, now)
        held = _engine_counts(workspace, now, [d.day for d in group])
        for day in group:
            check = Check(day, source.get(day.day, 0), held.get(day.day, 0))
            record = day.record
            record.source_rows, record.engine_rows = check.source, check.engine
            record.verified_at = now if check.matches else None
            if not check.matches:
                record.state = EventMigration.State.PENDING
            record.save(update_fields=["source_rows", "engine_rows", "verified_at", "state",
                                       "updated_at"])
            checks.append(check)
    return checks


def drop_verified(checks):
    """Delete the source rows of days whose counts matched (rows up to the last id copied),
    one workspace per transaction with its activity entry; returns the rows deleted."""
    total = 0
    by_workspace = {}
    for check in checks:
        if not check.matches or check.day.record.verified_at is None:
            raise MigrationError(f"{check.day.label} did not verify: its source is kept.")
        by_workspace.setdefault(check.day.workspace, []).append(check.day)
    for workspace, days in by_workspace.items():
        deleted = 0
        with transaction.atomic():
            for day in days:
                start = _start(day.day)
                deleted += Event.objects.filter(
                    workspace_id=workspace.pk, time_generated__gte=start,
                    time_generated__lt=start + dt.timedelta(days=1),
                    id__lte=day.record.last_id)._raw_delete(Event.objects.db)
                day.record.source_dropped_at = timezone.now()
                day.record.save(update_fields=["source_dropped_at", "updated_at"])
            activity.record(actor=ACTOR, verb="events.migrated", target_type="workspace",
                            target_id=workspace.pk, target_label=workspace.name,
                            subscription_id=workspace.subscription_id,
                            after={"days": [str(d.day) for d in days],
                                   "deleted_source_events": deleted})
        total += deleted
    _drop_empty_partitions({d.day.day for d in checks})
    return total


def format_checks(checks):
    """The mismatches as a table (empty when every day matched)."""
    bad = [c for c in checks if not c.matches]
    if not bad:
        return ""
    rows = [("subscription", "workspace", "day", "source", "engine", "difference")]
    rows += [(c.day.workspace.subscription.name, c.day.workspace.name, str(c.day.day),
              f"{c.source:,}", f"{c.engine:,}", f"{c.engine - c.source:+,}") for c in bad]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                       for i, (v, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


@contextlib.contextmanager
def _one_run():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
        if not cur.fetchone()[0]:
            raise MigrationError("Another migration of the events is running; wait for it.")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


# --- the source ---------------------------------------------------------------------

def _start(day):
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _cutoff(workspace, now):
    return now - dt.timedelta(days=workspace.retention_days)


def _source(workspace, day, now):
    start = _start(day)
    return Event.objects.filter(workspace_id=workspace.pk, time_generated__gte=start,
                                time_generated__lt=start + dt.timedelta(days=1),
                                ingested_at__gte=_cutoff(workspace, now))


def _source_counts(workspace, now):
    """{day: rows not past retention at `now`} of the workspace's source events."""
    rows = (Event.objects.filter(workspace_id=workspace.pk,
                                 ingested_at__gte=_cutoff(workspace, now))
            .annotate(day=TruncDate("time_generated", tzinfo=dt.UTC))
            .values("day").annotate(n=Count("id")).values_list("day", "n"))
    return dict(rows)


def _engine_row(workspace, source):
    (_, table, time_generated, ingested_at, computer, event_id, account, ip_address,
     resource_id, fields) = source
    return engine.row(subscription_id=workspace.subscription_id, workspace_id=workspace.pk,
                      table=table, ingested_at=ingested_at, time_generated=time_generated,
                      computer=computer, event_id=event_id, account=account,
                      ip_address=ip_address, columns=fields or {}, raw=b"",
                      retention_days=workspace.retention_days, resource_id=resource_id)


def _drop_empty_partitions(days):
    """On PostgreSQL, drop the days' partitions of search_event (migration 0002) that the
    deletes left empty: a DELETE leaves the space to vacuum, a dropped partition returns
    it."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'search_event'")
        existing = {row[0] for row in cur.fetchall()}
        for day in sorted(days):
            name = partition_name(day)
            if name not in existing:
                continue
            # The name is built from a date, never from input.
            cur.execute(f'SELECT 1 FROM "{name}" LIMIT 1')  # noqa: S608
            if cur.fetchone() is None:
                cur.execute(f'DROP TABLE "{name}"')


def partition_name(day):
    """The name of search_event's partition of `day` on PostgreSQL."""
    return f"search_event_p{day:%Y%m%d}"


# --- the engine ---------------------------------------------------------------------

def _day_params(workspace_id, day):
    start = _start(day)
    return {"ws": workspace_id, "start": start, "end": start + dt.timedelta(days=1)}


def _engine_rows(workspace_id, day):
    """The migrated rows the engine holds for one workspace's day, expired or not."""
    return engine.query(f"SELECT count() FROM {ddl.TABLE} "  # noqa: S608
                        f"WHERE {_DAY} AND {MIGRATED}", _day_params(workspace_id, day),
                        tenant=None).rows[0][0]


def _engine_counts(workspace, now, days):
    """{day: migrated rows not past retention at `now`} for the workspace's `days`."""
    if not days:
        return {}
    params = {"ws": workspace.pk, "start": _start(min(days)),
              "end": _start(max(days)) + dt.timedelta(days=1),
              "cutoff": _cutoff(workspace, now)}
    result = engine.query(
        f"SELECT toDate(time_generated) AS day, count() FROM {ddl.TABLE} "  # noqa: S608
        f"WHERE {_DAY} AND {MIGRATED} AND ingested_at >= {{cutoff:DateTime64(6, 'UTC')}} "
        "GROUP BY day", params, tenant=None)
    return dict(result.rows)


def _delete_migrated(workspace_id, day):
    engine.delete(f"{_DAY} AND {MIGRATED}", _day_params(workspace_id, day))


def _rate(rows, started):
    elapsed = max(time.monotonic() - started, 1e-6)
    return f"{rows / elapsed:,.0f} rows/s"
