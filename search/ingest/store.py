"""Storing events: each item stands alone, accepted rows go to the events engine in one batch."""

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory.collection import provision_hosts
from inventory.models import Resource
from inventory.resources import resources_by_host_name
from socconsole.lib.jsonbody import InvalidJSON, split_body
from socconsole.lib.transient import StorageUnavailable, retry_transient

from .. import engine
from ..models import EventDay, RejectedEvent, TableColumn
from ..schema import hot_columns, infer_type, seeded_columns
from .mapping import to_columns

MAX_COLUMNS = 1000
MAX_COLUMN_NAME = 128
MAX_EVENT_BYTES = 1 << 20
# Events older than this, or more than a day ahead of the clock, are refused: each day
# of events is a partition, and a producer's wrong clock must not create thousands.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)
SEEN_EVERY = dt.timedelta(minutes=1)
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# A number JSON can write but no double can hold (1e400) decodes as infinity. A number
# follows `:`, `[` or `,` (and blanks): so hex in strings ("7E478" in a hash or a GUID)
# does not send an event through the slow scrub.
_HUGE_EXPONENT = re.compile(rb"[:\[,][ \t\n\r]*-?[0-9]+(?:\.[0-9]+)?[eE]\+?[0-9]{3}")
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


def ingest_event_body(workspace, table, body, content_type, *, source="api"):
    """Split a request body (JSON array, one object, or NDJSON) and store its events.
    Raises BodyError for an unreadable body and EventError for a bad table name."""
    check_table(table)
    return ingest_event_items(workspace, table, split_body(body, content_type), source=source)


def ingest_event_items(workspace, table, items, *, now=None, source="api"):
    """Map, check and store `items` (RawItem) as events of `workspace`'s `table`.

    An event whose Computer is a resource that does not collect is refused
    (`collection_off`); every refused event is kept as a RejectedEvent."""
    check_table(table)
    now = now or timezone.now()
    known = set(seeded_columns(table)) | set(TableColumn.objects.filter(
        workspace=workspace, table_name=table).values_list("name", flat=True))
    hot = hot_columns(table)
    results, rows, fresh, sent = [], [], {}, []
    for item in items:
        result = EventResult(item.index, "created")
        results.append(result)
        sent.append((item, ""))
        try:
            row = _row(item, hot, now, result.warnings)
        except _Refused as exc:
            result.status, result.error = "rejected", exc.error
            continue
        sent[-1] = (item, row[1])
        rows.append((result, row))
    resources = retry_transient(lambda: _resources(workspace, rows),
                                what=f"resources of events into workspace {workspace.pk}")
    rows = _refuse_not_collecting(rows, resources)
    for _, row in rows:
        for name, value in row[-1].items():
            if name not in known and name not in fresh:
                fresh[name] = infer_type(value)

    def finish():
        # In the events' transaction: what was refused is kept exactly when what was
        # accepted is stored, and a retry after a lost connection writes neither twice.
        _seen(resources, rows, now)
        _keep_refused(workspace, table, sent, results, resources, source, now)

    if rows:
        raws = {item.index: item.raw for item, _ in sent}
        retry_transient(lambda: _store_in_engine(workspace, table, rows, raws, fresh, now,
                                                 resources, finish),
                        what=f"events into workspace {workspace.pk}")
    else:
        retry_transient(lambda: _atomic(finish), what=f"events into workspace {workspace.pk}")
    return EventReport(results)


def _atomic(function):
    with transaction.atomic():
        function()


def _resources(workspace, rows):
    """{lower-case computer: Resource} for the rows' computers; a computer known under no
    resource becomes one, collecting as automatic provisioning says."""
    names = {}
    for _, row in rows:
        if row[1]:
            names.setdefault(row[1].lower(), row[1])
    if not names:
        return {}
    found = resources_by_host_name(workspace.subscription_id, names)
    missing = [original for lower, original in names.items() if lower not in found]
    if missing:
        found.update(provision_hosts(workspace.subscription_id, missing))
    return found


def _refuse_not_collecting(rows, resources):
    kept = []
    for result, row in rows:
        resource = resources.get(row[1].lower()) if row[1] else None
        if resource is not None and not resource.collecting:
            result.status, result.error = "rejected", {
                "code": "collection_off", "field": "Computer",
                "message": f"Data collection is off for {resource.name[:255]}: its events are "
                           "not accepted. An admin can turn collection on for it on the "
                           "subscription's inventory page."}
            continue
        kept.append((result, row))
    return kept


def _seen(resources, rows, now):
    """Mark when the resources' events were last accepted, at most once a minute each."""
    ids = {resources[row[1].lower()].pk for result, row in rows
           if result.status == "created" and row[1] and row[1].lower() in resources}
    if ids:
        Resource.objects.filter(pk__in=ids).filter(
            Q(last_event_at__isnull=True) | Q(last_event_at__lt=now - SEEN_EVERY)).update(
            last_event_at=now)


def _keep_refused(workspace, table, sent, results, resources, source, now):
    refused = []
    for (item, computer), result in zip(sent, results, strict=True):
        if result.status != "rejected":
            continue
        resource = resources.get(computer.lower()) if computer else None
        refused.append(RejectedEvent(
            subscription_id=workspace.subscription_id, workspace=workspace, table_name=table,
            source=source, index=item.index, body=bytes(item.raw), computer=computer,
            resource=resource, code=result.error["code"], message=result.error["message"],
            field=result.error.get("field") or "", received_at=now))
    if refused:
        RejectedEvent.objects.bulk_create(refused, batch_size=200)


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


def _account(workspace, table, rows, fresh, now):
    """Record new columns in the catalog and what each day now holds."""
    if fresh:
        # In name order: two batches bringing the same new columns at once then take
        # their locks in one order (in arrival order they deadlocked, and were retried).
        TableColumn.objects.bulk_create(
            [TableColumn(workspace=workspace, table_name=table, name=name, kusto_type=kind)
             for name, kind in sorted(fresh.items())], ignore_conflicts=True)
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


def _store_in_engine(workspace, table, rows, raws, fresh, now, resources, finish):
    """Store the rows in the events engine as one batch, and account for them in the
    database's transaction; a row the engine refuses is refused alone and the rest is
    stored again as one batch (each try stores all of it or nothing)."""
    for result, _ in rows:  # what an earlier, failed try decided does not stand
        result.status, result.error = "created", None
    ids = {name: r.pk for name, r in resources.items()}
    pending = [(result, row, engine.row(
        subscription_id=workspace.subscription_id, workspace_id=workspace.pk, table=table,
        ingested_at=now, time_generated=row[0], computer=row[1], event_id=row[2],
        account=row[3], ip_address=row[4], columns=row[5], raw=raws[result.index],
        retention_days=workspace.retention_days,
        resource_id=ids.get(row[1].lower()) if row[1] else None)) for result, row in rows]
    while True:
        try:
            with transaction.atomic():
                _account(workspace, table, [row for _, row, _ in pending], fresh, now)
                finish()
                # Last in the transaction: a refused batch rolls the accounting back. A
                # commit lost after it would store the batch again when retried.
                if pending:
                    engine.insert([event for _, _, event in pending])
            return
        except engine.InsertRefused as exc:
            at = exc.index if exc.index is not None and exc.index < len(pending) else None
            refused = [pending[at]] if at is not None else list(pending)
            for result, _, _ in refused:
                result.status = "rejected"
                result.error = {"code": "engine_refused", "field": None,
                                "message": f"The events engine refused this event: {exc}"[:500]}
            pending = [p for p in pending if p[0].status == "created"]
        except engine.EngineUnavailable as exc:
            raise StorageUnavailable(
                f"{exc} Nothing was stored; send the request again in "
                f"{StorageUnavailable.retry_after} seconds.") from None
