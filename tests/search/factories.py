"""Events for search tests, written the way ingestion writes them."""

import json

from search.ingest import ingest_event_items
from socconsole.lib.jsonbody import split_body


def default_workspace(subscription):
    return subscription.workspaces.get(is_default=True)


def ingest(workspace, table, events, now=None):
    """Ingest `events` (dicts) into `table`; returns the report."""
    items = split_body(json.dumps(events).encode(), "application/json")
    return ingest_event_items(workspace, table, items, now=now)
