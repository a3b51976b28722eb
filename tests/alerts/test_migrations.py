"""Migrations that move data keep it: the correlation queue moving from a flag on the
alert to a table of its own (alerts 0008) loses no waiting alert, either way."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("alerts", "0007_relation_mentions_unchecked")]
AFTER = [("alerts", "0008_awaiting_queue_apart")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_waiting_alerts_move_to_the_queue_and_back():
    apps = migrate(BEFORE)
    try:
        Subscription = apps.get_model("inventory", "Subscription")
        Alert = apps.get_model("alerts", "Alert")
        sub = Subscription.objects.create(name="migrated")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        made = {key: Alert.objects.create(
            subscription=sub, key=key, format="native", display_name=key, severity=1,
            time=now, ingested_at=now, first_seen=now, last_seen=now,
            awaiting_correlation=waiting).pk
            for key, waiting in (("waits", True), ("done", False), ("waits too", True))}

        apps = migrate(AFTER)
        queue = apps.get_model("alerts", "AwaitingCorrelation")
        assert sorted(queue.objects.values_list("alert_id", "subscription_id")) == \
            [(made["waits"], sub.pk), (made["waits too"], sub.pk)]

        apps = migrate(BEFORE)
        Alert = apps.get_model("alerts", "Alert")
        assert dict(Alert.objects.values_list("key", "awaiting_correlation")) == \
            {"waits": True, "done": False, "waits too": True}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
