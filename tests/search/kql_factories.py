"""Events written straight into the test process's events engine, and running a Kusto
query over them (the catalog and the days stay in the Django database)."""

import datetime as dt

from search.catalog import Catalog
from search.kql import compile_query
from search.models import EventDay, TableColumn
from search.schema import infer_type, seeded_columns
from tests.search import chdb_events

# Every semantic test runs "now" at this instant, so ago() and bins are stable.
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def make_events(workspace, table, rows, types=None):
    """Insert `rows` ({Kusto column: value}, TimeGenerated required) into `table`.

    Hot columns go to their typed column, everything else to `fields`; columns the
    catalog does not know yet are added to it, as ingestion does (or with `types`).
    """
    chdb_events.insert(workspace, table, rows)
    known = seeded_columns(table)
    days, new_columns = set(), {}
    for row in rows:
        days.add(row["TimeGenerated"].date())
        for name, value in row.items():
            if name not in known:
                new_columns.setdefault(name, (types or {}).get(name) or infer_type(value))
    for name, kind in new_columns.items():
        TableColumn.objects.get_or_create(workspace=workspace, table_name=table, name=name,
                                          defaults={"kusto_type": kind})
    for day in days:
        EventDay.objects.get_or_create(workspace=workspace, table_name=table, day=day,
                                       defaults={"events": 1, "first_ingested_at": NOW,
                                                 "last_ingested_at": NOW})
    return rows


def compile_for(text, workspaces, **kwargs):
    ids = [w.pk for w in workspaces]
    kwargs.setdefault("now", NOW)
    return compile_query(text, catalog=Catalog(ids), workspace_ids=ids, **kwargs)


def run(text, workspaces, **kwargs):
    """(column names, rows) of `text` over the events of `workspaces`."""
    compiled = compile_for(text, workspaces, **kwargs)
    rows = [compiled.convert_row(row) for row in execute(compiled)]
    return [name for name, _ in compiled.columns], rows


def execute(compiled):
    """The raw rows of a compiled query, from the events engine."""
    return chdb_events.fetch(compiled.sql, compiled.params)


def rows_of(text, workspaces, **kwargs):
    return run(text, workspaces, **kwargs)[1]


def sql_rows(sql, params):
    return chdb_events.fetch(sql, params)


def ago(**delta):
    return NOW - dt.timedelta(**delta)
