"""The events tables' DDL, created on chDB: one server's table and the cluster's tables."""

import shutil
from pathlib import Path

import pytest

from search.engine import ddl
from tests.chdb_process import in_chdb

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_CONFIG = ROOT / "deploy" / "clickhouse" / "cluster"

def describe(table):
    """Queries that say what `table` is: its columns, keys, TTL, indexes."""
    where = f"database = currentDatabase() AND table = '{table}'"
    return {
        f"{table}.columns": f"SELECT name, type, compression_codec FROM system.columns "
                            f"WHERE {where} ORDER BY position",
        f"{table}.keys": f"SELECT partition_key, sorting_key, primary_key FROM system.tables "
                         f"WHERE database = currentDatabase() AND name = '{table}'",
        f"{table}.indexes": f"SELECT name, type_full, expr, granularity "
                            f"FROM system.data_skipping_indices WHERE {where} ORDER BY name",
        f"{table}.ttl": f"SELECT extract(create_table_query, 'TTL .*$') FROM system.tables "
                        f"WHERE database = currentDatabase() AND name = '{table}'",
    }


def local_on_one_server():
    """cluster_ddl's shard table, as chDB can create it: no ON CLUSTER, no replication."""
    statement = ddl.cluster_ddl("soc")[0]
    assert ddl.REPLICATED_ENGINE in statement
    return statement.replace(" ON CLUSTER soc", "").replace(ddl.REPLICATED_ENGINE, "MergeTree")


def test_it_creates_the_events_table_and_stores_a_row(tmp_path):
    insert = ("INSERT INTO events (subscription_id, workspace_id, table_name, time_generated, "
              "ingested_at, command_line, fields, raw, retention_days) VALUES (1, 7, "
              "'SecurityEvent', now64(6), now64(6), 'rundll32 comsvcs.dll', "
              "map('Activity', '\"x\"'), '{}', 90)")
    found = in_chdb([ddl.CREATE_TABLE, ddl.CREATE_TABLE, insert], {
        **describe("events"),
        "hits": "SELECT workspace_id FROM events WHERE hasToken(lower(command_line), 'comsvcs')",
    }, path=tmp_path / "events")

    assert [name for name, _, _ in found["events.columns"]] == list(ddl.COLUMNS)
    assert [type_ for _, type_, _ in found["events.columns"]] == [
        type_.replace(" CODEC(ZSTD(3))", "") for _, type_ in ddl.COLUMN_TYPES]
    assert found["events.keys"] == [["toYYYYMMDD(time_generated)",
                                     "workspace_id, table_name, time_generated",
                                     "workspace_id, table_name, time_generated"]]
    assert [name for name, *_ in found["events.indexes"]] == ["command_line_tokens",
                                                              "message_tokens"]
    assert "retention_days" in found["events.ttl"][0][0]
    assert found["hits"] == [[7]]


def test_the_shard_table_is_the_one_server_table_but_for_its_engine(tmp_path):
    rename = ddl.CREATE_TABLE.replace(f"EXISTS {ddl.TABLE} (", "EXISTS single (")
    found = in_chdb([rename, local_on_one_server()],
                    {**describe("single"), **describe(ddl.LOCAL_TABLE)},
                    path=tmp_path / "events")

    for part in ("columns", "keys", "indexes", "ttl"):
        assert found[f"single.{part}"], part
        assert found[f"{ddl.LOCAL_TABLE}.{part}"] == found[f"single.{part}"], part


def test_the_distributed_table_spans_the_soc_cluster_of_the_deploy_config(tmp_path):
    # The nodes' own config files (deploy/clickhouse/cluster) loaded into chDB: their
    # cluster is what the Distributed table is created over.
    (tmp_path / "config.d").mkdir()
    for name in ("remote_servers.xml", "macros-s2.xml"):
        shutil.copy(CLUSTER_CONFIG / name, tmp_path / "config.d" / name)
    (tmp_path / "config.xml").write_text("<clickhouse></clickhouse>\n")
    distributed = ddl.cluster_ddl("soc")[1].replace(" ON CLUSTER soc", "")
    found = in_chdb([local_on_one_server(), distributed], {
        "clusters": "SELECT shard_num, replica_num, host_name, port FROM system.clusters "
                    "WHERE cluster = 'soc' ORDER BY shard_num",
        "macros": "SELECT macro, substitution FROM system.macros ORDER BY macro",
        "engine": "SELECT engine_full FROM system.tables "
                  "WHERE database = currentDatabase() AND name = 'events'",
        "columns": "SELECT name, type FROM system.columns "
                   "WHERE database = currentDatabase() AND table = 'events' ORDER BY position",
    }, config=tmp_path / "config.xml", env={"CLICKHOUSE_CLUSTER_SECRET": "test-secret"})

    assert found["clusters"] == [[1, 1, "clickhouse-s1", 9000], [2, 1, "clickhouse-s2", 9000]]
    assert found["macros"] == [["replica", "clickhouse-s2"], ["shard", "2"]]
    assert found["engine"] == [["Distributed('soc', 'default', 'events_local', "
                                "cityHash64(workspace_id))"]]
    assert [name for name, _ in found["columns"]] == list(ddl.COLUMNS)


def test_every_cluster_statement_runs_on_the_cluster_and_parses(tmp_path):
    statements = ddl.cluster_ddl("soc")
    assert [s.split("(")[0].split() for s in statements] == [
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS", "events_local", "ON", "CLUSTER", "soc"],
        ["CREATE", "TABLE", "IF", "NOT", "EXISTS", "events", "ON", "CLUSTER", "soc"],
    ]
    assert ("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/events_local', "
            "'{replica}')") in statements[0]
    assert ("ENGINE = Distributed(soc, currentDatabase(), events_local, "
            "cityHash64(workspace_id))") in statements[1]
    # The engine's own parser, ON CLUSTER included (formatQuery parses, runs nothing).
    found = in_chdb([], {f"s{i}": f"SELECT formatQuery({quote(s)})"
                         for i, s in enumerate(statements)}, path=tmp_path / "events")
    assert "ON CLUSTER soc" in found["s0"][0][0]
    assert "ON CLUSTER soc" in found["s1"][0][0]


@pytest.mark.parametrize("name", ["events", "events_local"])
def test_a_cluster_name_is_used_as_given(name):
    statement = next(s for s in ddl.cluster_ddl("other") if f"EXISTS {name} " in s)
    assert " ON CLUSTER other " in statement
    assert "soc" not in statement


def quote(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
