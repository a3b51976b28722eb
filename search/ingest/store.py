"""Storing events: each item stands alone, accepted rows go to the database by COPY."""

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from inventory.resources import resources_by_host_name
from socconsole.lib.bulk import bulk_insert
from socconsole.lib.jsonbody import InvalidJSON, split_body
from socconsole.lib.transient import is_transient, retry_transient

from .. import partitions
from ..models import Event, EventDay, TableColumn
from ..schema import hot_columns, infer_type, seeded_columns
from .mapping import to_columns

MAX_COLUMNS = 1000
MAX_COLUMN_NAME = 128
MAX_EVENT_BYTES = 1 << 20
# Events older than this, or more than a day ahead of the clock, are refused: each day
# of events is a partition, and a producer's wrong clock must not create thousands.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# A number JSON can write but no double can hold (1e400) decodes as infinity.
_HUGE_EXPONENT = re.compile(rb"[0-9][eE]\+?[0-9]{3}")
_HOT_LIMITS = {"computer": 255, "account": 255, "ip_address": 64}
_VIRTUAL = {"Type"}


class EventError(Exception):
    """A request for events that cannot be served (a bad table name); a message for users."""


@dataclass
class EventResult:
    index: int
    status: str
    error: dict | None = None
    warnings: list = field(default_factory=list)

    def as_dict(self):
        return {"index": self.index, "status": self.status, "error": self.error,
                "warnings": self.warnings}


@dataclass
class EventReport:
    results: list

    @property
    def accepted(self):
        return sum(1 for r in self.results if r.status == "created")

    @property
    def rejected(self):
        return sum(1 for r in self.results if r.status == "rejected")

    def as_dict(self):
        return {"accepted": self.accepted, "rejected": self.rejected,
                "results": [r.as_dict() for r in self.results]}

    def summary(self):
        return f"{self.accepted} accepted, {self.rejected} rejected"


class _Refused(Exception):
    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.error = {"code": code, "message": message, "field": field}


def check_table(table):
    if not isinstance(table, str) or not TABLE_NAME.match(table):
        raise EventError("A table name is a letter or underscore followed by up to 127 "
                         "letters, digits or underscores (for example SecurityEvent).")
    return table


def ingest_event_body(workspace, table, body, content_type):
    """Split a request body (JSON array, one object, or NDJSON) and store its events.
    Raises BodyError for an unreadable body and EventError for a bad table name."""
    check_table(table)
    return ingest_event_items(workspace, table, split_body(body, content_type))


def ingest_event_items(workspace, table, items, *, now=None):
    """Map, check and store `items` (RawItem) as events of `workspace`'s `table`."""
    check_table(table)
    now = now or timezone.now()
    known = set(seeded_columns(table)) | set(TableColumn.objects.filter(
        workspace=workspace, table_name=table).values_list("name", flat=True))
    hot = hot_columns(table)
    results, rows, fresh = [], [], {}
    for item in items:
        result = EventResult(item.index, "created")
        results.append(result)
        try:
            row = _row(item, hot, now, result.warnings)
        except _Refused as exc:
            result.status, result.error = "rejected", exc.error
            continue
        for name, value in row[-1].items():
            if name not in known and name not in fresh:
                fresh[name] = infer_type(value)
        rows.append((result, row))
    if rows:
        _store(workspace, table, rows, fresh, now)
    return EventReport(results)


def _row(item, hot, now, warnings):
    data = item.data
    if isinstance(data, InvalidJSON):
        raise _Refused(data.code, data.message)
    if not isinstance(data, dict):
        raise _Refused("not_an_object", "An event is a JSON object.")
    if len(item.raw) > MAX_EVENT_BYTES:
        raise _Refused("too_large", f"An event is at most {MAX_EVENT_BYTES} bytes.")
    if b"\\u0000" in item.raw or _SURROGATE_ESCAPE.search(item.raw) or \
            _HUGE_EXPONENT.search(item.raw):
        data, nul, huge = _scrub(data)
        if nul:
            warnings.append({"code": "nul_byte", "message": "NUL characters were removed.",
                             "field": None})
        if huge:
            warnings.append({"code": "number_out_of_range", "field": None,
                             "message": "Numbers too large for a double were stored as "
                                        "null."})
    columns = to_columns(data)
    if len(columns) > MAX_COLUMNS:
        raise _Refused("too_many_columns", f"An event has at most {MAX_COLUMNS} fields.")
    for name in columns:
        if not name or len(name) > MAX_COLUMN_NAME:
            raise _Refused("bad_column", "A field name is 1 to 128 characters long.",
                           name[:MAX_COLUMN_NAME])
    time = _time(columns.pop("TimeGenerated", None), now, warnings)
    values = {"time_generated": time, "computer": "", "event_id": None, "account": "",
              "ip_address": ""}
    for column, storage in hot.items():
        if column == "TimeGenerated" or column not in columns:
            continue
        value = columns.pop(column)
        values[storage] = _hot_value(storage, column, value, warnings, columns)
    for name in _VIRTUAL:
        columns.pop(name, None)
    return (values["time_generated"], values["computer"], values["event_id"],
            values["account"], values["ip_address"], columns)


def _time(value, now, warnings):
    if value in (None, ""):
        warnings.append({"code": "time_missing", "field": "TimeGenerated",
                         "message": "The event has no time; the ingestion time is used."})
        return now
    parsed = None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            parsed = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    if parsed is None:
        raise _Refused("bad_time", "TimeGenerated is not an ISO 8601 time or epoch seconds.",
                       "TimeGenerated")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    if parsed < EARLIEST or parsed > now + FUTURE_SLACK:
        raise _Refused("time_out_of_range", "TimeGenerated must be after 1990-01-01 and at "
                       "most a day ahead of the console's clock.", "TimeGenerated")
    return parsed


def _hot_value(storage, column, value, warnings, columns):
    if storage == "event_id":
        try:
            number = int(value)
            if -2**31 <= number < 2**31:
                return number
        except (TypeError, ValueError, OverflowError):
            pass
        warnings.append({"code": "not_a_number", "field": column,
                         "message": f"{column} is not a 32-bit integer; it is kept as text "
                                    "and reads as empty."})
        columns[f"{column}_raw"] = value
        return None
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    limit = _HOT_LIMITS[storage]
    if len(text) > limit:
        warnings.append({"code": "truncated", "field": column,
                         "message": f"{column} is longer than {limit} characters; the "
                                    "whole value is kept as " + f"{column}_full."})
        columns[f"{column}_full"] = text
        text = text[:limit]
    return text


def _scrub(data):
    """`data` without NUL characters, with lone surrogates replaced and infinite numbers
    nulled; (data, had NUL, had an infinite number)."""
    found = huge = False

    def clean(value):
        nonlocal found, huge
        if isinstance(value, float) and not math.isfinite(value):
            huge = True
            return None
        if isinstance(value, str):
            if "\x00" in value:
                found = True
                value = value.replace("\x00", "")
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    # Depth is bounded by the JSON decoder's limit (64), so recursion is safe here.
    return clean(data), found, huge


def _store(workspace, table, rows, fresh, now):
    # A lost connection, a deadlock or a serialization failure is not the events' fault:
    # the whole store is tried again, then answered 503 (StorageUnavailable).
    retry_transient(lambda: _store_once(workspace, table, rows, fresh, now),
                    what=f"events into workspace {workspace.pk}")


def _store_once(workspace, table, rows, fresh, now):
    for result, _ in rows:  # what an earlier, failed try decided does not stand
        result.status, result.error = "created", None
    partitions.ensure_for_days({row[0].date() for _, row in rows})
    names = {row[1].lower() for _, row in rows if row[1]}
    resources = {name: r.pk for name, r in
                 resources_by_host_name(workspace.subscription_id, names).items()}
    fields = ("subscription_id", "workspace_id", "table_name", "ingested_at", "time_generated",
              "computer", "event_id", "account", "ip_address", "fields", "resource_id")
    base = (workspace.subscription_id, workspace.pk, table, now)

    def values(row):
        return (*base, *row, resources.get(row[1].lower()))

    try:
        with transaction.atomic():
            bulk_insert(Event, fields, [values(row) for _, row in rows], explicit_pk=True)
            _account(workspace, table, [row for _, row in rows], fresh, now)
        return
    except DatabaseError as exc:
        if is_transient(exc):
            raise
    # The database refused the batch: store it again one event at a time (each in a
    # savepoint of one transaction), so that only the culprit is refused.
    stored = []
    with transaction.atomic():
        for result, row in rows:
            try:
                with transaction.atomic():
                    bulk_insert(Event, fields, [values(row)], explicit_pk=True)
                stored.append(row)
            except DatabaseError as exc:
                if is_transient(exc):
                    raise
                result.status = "rejected"
                result.error = {"code": "database_refused", "field": None,
                                "message": f"The database refused this event: {exc}"[:500]}
        _account(workspace, table, stored, fresh, now)


def _account(workspace, table, rows, fresh, now):
    """Record new columns in the catalog and what each day now holds."""
    if fresh:
        TableColumn.objects.bulk_create(
            [TableColumn(workspace=workspace, table_name=table, name=name, kusto_type=kind)
             for name, kind in fresh.items()], ignore_conflicts=True)
    per_day = {}
    for row in rows:
        day = row[0].date()
        per_day[day] = per_day.get(day, 0) + 1
    for day, count in sorted(per_day.items()):
        updated = EventDay.objects.filter(workspace=workspace, table_name=table, day=day).update(
            events=F("events") + count, last_ingested_at=now)
        if not updated:
            _, created = EventDay.objects.get_or_create(
                workspace=workspace, table_name=table, day=day,
                defaults={"events": count, "first_ingested_at": now, "last_ingested_at": now})
            if not created:
                EventDay.objects.filter(workspace=workspace, table_name=table, day=day).update(
                    events=F("events") + count, last_ingested_at=now)
