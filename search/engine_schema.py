"""The events engine's tables: one table on a server, or shards and a Distributed table."""

from django.conf import settings

from search import engine
from search.engine import ddl


def create_events_tables():
    """Create the events tables where missing; return the statements run.

    On EVENTS_CLUSTER, each statement runs ON CLUSTER: sent to one node, run by all.
    """
    if not settings.EVENTS_CLUSTER:
        engine.ensure_schema()
        return [ddl.CREATE_TABLE]
    statements = ddl.cluster_ddl(settings.EVENTS_CLUSTER)
    for statement in statements:
        engine.engine().command(statement)
    return statements
