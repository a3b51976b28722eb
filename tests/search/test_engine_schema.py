"""The events tables (ensure_schema, create_events_tables): on one engine or a cluster."""

import time

import pytest
from django.core.management import CommandError, call_command

from search.engine import ddl, ensure_schema

TABLES = ("SELECT name FROM system.tables WHERE database = currentDatabase() "
          "AND name LIKE 'events%' ORDER BY name")
INSERT = ("INSERT INTO events (subscription_id, workspace_id, table_name, time_generated, "
          "ingested_at, retention_days) VALUES (1, 7, 'Syslog', now64(6), now64(6), 90)")


def tables(engine):
    return [row[0] for row in engine.query(TABLES, tenant=None).rows]


def test_it_creates_the_table_where_it_is_missing(events_engine, capsys):
    events_engine.command(f"DROP TABLE IF EXISTS {ddl.TABLE}")
    assert tables(events_engine) == []

    call_command("create_events_tables")

    assert tables(events_engine) == ["events"]
    assert "Events tables ready in the events engine (1 statements)." in capsys.readouterr().out


def test_it_keeps_what_is_stored_when_run_again(events_engine):
    events_engine.command(INSERT)

    assert ensure_schema() == [ddl.CREATE_TABLE]

    assert events_engine.query("SELECT count() FROM events", tenant=None).rows == [(1,)]


def test_on_a_cluster_it_runs_the_cluster_statements(events_engine, settings):
    # chDB is no cluster: the engine's refusal shows the cluster statement was sent.
    settings.EVENTS_CLUSTER = "soc"
    with pytest.raises(CommandError) as refused:
        call_command("create_events_tables")

    assert "The events tables were not created" in str(refused.value)
    assert "cluster 'soc'" in str(refused.value)
    assert tables(events_engine) == ["events"]  # the one-server table, left as it was


def test_it_tries_again_while_told_to_wait_then_says_why(events_engine, settings, capsys):
    settings.EVENTS_CLUSTER = "soc"
    started = time.monotonic()
    with pytest.raises(CommandError, match="cluster 'soc'"):
        call_command("create_events_tables", "--wait", "3")

    assert 2 <= time.monotonic() - started < 6
    assert "Waiting for the events engine" in capsys.readouterr().err
