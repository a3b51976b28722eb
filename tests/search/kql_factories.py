"""Events written straight into search_event, and running a Kusto query over them.

`ENGINE["vendor"]` picks where queries run: None for the Django database (SQLite or
PostgreSQL), "clickhouse" for the embedded ClickHouse of tests/search/chdb_events.py,
which then receives the same events (the catalog stays in the Django database).
"""

import datetime as dt

from django.db import connection

from search import partitions
from search.catalog import Catalog
from search.kql import compile_query
from search.models import Event, EventDay, TableColumn
from search.schema import hot_columns, infer_type, seeded_columns
from tests.search import chdb_events

# Every semantic test runs "now" at this instant, so ago() and bins are stable.
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
ENGINE = {"vendor": None}


def vendor():
    return ENGINE["vendor"] or connection.vendor


def make_events(workspace, table, rows, types=None):
    """Insert `rows` ({Kusto column: value}, TimeGenerated required) into `table`.

    Hot columns go to their typed column, everything else to `fields`; columns the
    catalog does not know yet are added to it, as ingestion does (or with `types`).
    """
    if vendor() == "clickhouse":
        chdb_events.insert(workspace, table, rows)
    hot = hot_columns(table)
    known = seeded_columns(table)
    events, days, new_columns = [], set(), {}
    for row in rows:
        row = dict(row)
        when = row.pop("TimeGenerated")
        typed = {storage: row.pop(column) for column, storage in hot.items()
                 if column != "TimeGenerated" and column in row}
        for storage in ("computer", "account", "ip_address"):
            typed.setdefault(storage, "")
        for name, value in row.items():
            if name not in known:
                new_columns.setdefault(name, (types or {}).get(name) or infer_type(value))
        events.append(Event(subscription_id=workspace.subscription_id, workspace=workspace,
                            table_name=table, time_generated=when, ingested_at=when,
                            fields=row, **typed))
        days.add(when.date())
    partitions.ensure_for_days(days)
    Event.objects.bulk_create(events)
    for name, kind in new_columns.items():
        TableColumn.objects.get_or_create(workspace=workspace, table_name=table, name=name,
                                          defaults={"kusto_type": kind})
    for day in days:
        EventDay.objects.get_or_create(workspace=workspace, table_name=table, day=day,
                                       defaults={"events": 1, "first_ingested_at": NOW,
                                                 "last_ingested_at": NOW})
    return events


def compile_for(text, workspaces, **kwargs):
    ids = [w.pk for w in workspaces]
    kwargs.setdefault("now", NOW)
    return compile_query(text, catalog=Catalog(ids), workspace_ids=ids,
                         vendor=vendor(), **kwargs)


def run(text, workspaces, **kwargs):
    """(column names, rows) of `text` over the events of `workspaces`."""
    compiled = compile_for(text, workspaces, **kwargs)
    rows = [compiled.convert_row(row) for row in execute(compiled)]
    return [name for name, _ in compiled.columns], rows


def execute(compiled):
    """The raw rows of a compiled query, from the engine it was compiled for."""
    if vendor() == "clickhouse":
        return chdb_events.fetch(compiled.sql, compiled.params)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        return cursor.fetchall()


def rows_of(text, workspaces, **kwargs):
    return run(text, workspaces, **kwargs)[1]


def sql_rows(sql, params):
    if vendor() == "clickhouse":
        return chdb_events.fetch(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [list(row) for row in cursor.fetchall()]


def ago(**delta):
    return NOW - dt.timedelta(**delta)
