"""On a cluster (EVENTS_CLUSTER), what changes stored rows goes to every shard's local table.

A Distributed table stores nothing and refuses mutations, so retention, the demo's
reset and the migration's re-copy must name `events_local ON CLUSTER`. chDB is no
cluster: each statement is sent to the real engine, which parses it (EXPLAIN AST, with
its parameters) and then refuses to run it for want of the cluster, and the one-server
table is left as it was.
"""

import datetime as dt

import pytest

from search import engine
from search.engine import QueryError, Tenant, ddl

NOW = dt.datetime.now(dt.UTC)
CLUSTER = "soc"
ON_LOCAL = f"{ddl.LOCAL_TABLE} ON CLUSTER {CLUSTER}"


@pytest.fixture
def sent(events_engine, settings, monkeypatch):
    """The statements the engine is sent once EVENTS_CLUSTER is set, each checked to
    parse on the engine before it runs (EXPLAIN AST: the parser only, no cluster needed)."""
    statements = []
    command = type(events_engine).command

    def recording(self, sql, params=None, settings=None):
        statements.append(sql)
        self.query(f"EXPLAIN AST {sql}", params, tenant=None)  # the engine's own parser
        return command(self, sql, params, settings)

    events_engine.insert([_row()])  # kept 90 days from now
    monkeypatch.setattr(type(events_engine), "command", recording)
    settings.EVENTS_CLUSTER = CLUSTER
    return statements


def _row(**kwargs):
    values = {"subscription_id": 1, "workspace_id": 10, "table": "Syslog",
              "time_generated": NOW, "ingested_at": NOW, "columns": {}, "raw": b"{}",
              "computer": "host-1", "retention_days": 90}
    return engine.row(**{**values, **kwargs})


def _refused_for_the_cluster(call):
    # chDB has no distributed DDL, nor the shards' table: it says one or the other.
    with pytest.raises(QueryError, match=f"Replicated DDL|{ddl.LOCAL_TABLE} does not exist|"
                                         f"cluster '{CLUSTER}'"):
        call()


def _stored():
    return engine.query("SELECT count() FROM events", tenant=None).rows[0][0]


def test_a_new_retention_rewrites_the_shards_tables(sent):
    _refused_for_the_cluster(lambda: engine.set_retention(10, 3))

    assert sent[0].startswith(f"ALTER TABLE {ON_LOCAL} UPDATE retention_days")
    assert _stored() == 1


def test_expired_rows_are_deleted_on_every_shard(sent):
    _refused_for_the_cluster(lambda: engine.drop_expired(NOW + dt.timedelta(days=91)))

    assert sent == [f"DELETE FROM {ON_LOCAL} WHERE {ddl.EXPIRES} < {{now:DateTime64(6, 'UTC')}}"]
    assert _stored() == 1


def test_a_delete_goes_to_the_shards(sent):
    _refused_for_the_cluster(lambda: engine.delete("workspace_id = {ws:UInt64}", {"ws": 10}))

    assert sent == [f"DELETE FROM {ON_LOCAL} WHERE workspace_id = {{ws:UInt64}}"]
    assert _stored() == 1


def test_emptying_the_table_empties_the_shards(sent):
    _refused_for_the_cluster(engine.engine().truncate)

    assert sent == [f"TRUNCATE TABLE IF EXISTS {ON_LOCAL}"]


def test_the_tables_are_the_shards_and_a_distributed_table_over_them(sent):
    _refused_for_the_cluster(engine.ensure_schema)

    assert sent[0].lstrip().startswith(f"CREATE TABLE IF NOT EXISTS {ON_LOCAL} (")
    assert engine.engine().schema_statements() == ddl.cluster_ddl(CLUSTER)


def test_each_shard_filters_its_reads_by_tenant(events_engine):
    # The tenant's filter is set for the Distributed table and for what each shard reads
    # under it; on one server the second name matches nothing and changes nothing.
    events_engine.insert([_row(), _row(subscription_id=2, workspace_id=20)])

    assert engine.query("SELECT count() FROM events", tenant=Tenant(1, (10,))).rows == [(1,)]
    assert engine.query("SELECT count() FROM events", tenant=Tenant(3, (30,))).rows == [(0,)]
