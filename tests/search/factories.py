"""Events for search tests, written the way ingestion writes them."""

import json

from search import engine
from search.engine import Tenant, ddl
from search.ingest import ingest_event_items
from socconsole.lib.jsonbody import split_body


def default_workspace(subscription):
    return subscription.workspaces.get(is_default=True)


def ingest(workspace, table, events, now=None):
    """Ingest `events` (dicts) into `table`; returns the report."""
    items = split_body(json.dumps(events).encode(), "application/json")
    return ingest_event_items(workspace, table, items, now=now)


# The storage columns of an event, in the database's names (Event's columns).
STORAGE_COLUMNS = ("subscription_id", "workspace_id", "table_name", "time_generated",
                   "ingested_at", "computer", "event_id", "account", "ip_address",
                   "resource_id", "fields")


def stored_events(workspace, table=None):
    """The events the engine holds for `workspace` (and `table`), oldest first, as dicts
    of STORAGE_COLUMNS. `fields` holds the decoded values of every other column, as the
    database's search_event kept them."""
    where, params = "", {}
    if table is not None:
        where, params = "WHERE table_name = {table:String}", {"table": table}
    columns = ", ".join(ddl.COLUMNS)
    result = engine.query(
        f"SELECT {columns} FROM {ddl.TABLE} {where} "  # noqa: S608
        "ORDER BY time_generated, ingested_at", params,
        tenant=Tenant(workspace.subscription_id, (workspace.pk,)))
    return [_from_engine(dict(zip(ddl.COLUMNS, values, strict=True)))
            for values in result.rows]


def _from_engine(values):
    fields = {name: json.loads(text) for name, text in values["fields"].items()}
    for column, storage in ddl.hot_columns(values["table_name"]).items():
        if storage in STORAGE_COLUMNS or storage == "time_generated":
            continue
        if values[storage] not in (None, ""):
            fields[column] = values[storage]
    event = {name: values[name] for name in STORAGE_COLUMNS}
    event["fields"] = fields
    return event
