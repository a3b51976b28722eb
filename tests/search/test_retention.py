import datetime as dt

from django.db import connection

from inventory.models import Activity
from search import partitions
from search.models import Event, EventDay
from search.retention import apply_retention
from tests.search.factories import default_workspace, ingest

DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _days_on_disk():
    return partitions.existing_days()


def test_it_drops_whole_days_past_retention(p):
    ws = default_workspace(p.sub)
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-08-01T10:00:00Z"}] * 3, now=NOW - 100 * DAY)
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-27T10:00:00Z"}] * 2, now=NOW - DAY)
    result = apply_retention(now=NOW)
    assert result == {"dropped_days": 1, "deleted_events": 3, "deleted_runs": 0}
    assert Event.objects.count() == 2
    assert list(EventDay.objects.values_list("day", flat=True)) == [dt.date(2026, 11, 27)]
    if connection.vendor == "postgresql":
        assert dt.date(2026, 8, 1) not in _days_on_disk()
        assert dt.date(2026, 11, 27) in _days_on_disk()
    audit = Activity.objects.get(verb="events.retention")
    assert audit.after == {"deleted_events": 3, "retention_days": 90}


def test_retention_counts_from_ingestion_not_from_the_events_time(p):
    ws = default_workspace(p.sub)
    # Old events (the 2020 sample, say) ingested yesterday are kept.
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2020-10-19T03:30:41Z"}], now=NOW - DAY)
    assert apply_retention(now=NOW) == {"dropped_days": 0, "deleted_events": 0,
                                            "deleted_runs": 0}
    assert Event.objects.count() == 1


def test_a_shared_day_is_trimmed_per_workspace(p):
    ws = default_workspace(p.sub)
    short = p.sub.workspaces.create(name="short", workspace_id="0b7d4a8e-58a2-4e0e-9c43-"
                                    "6b1f0c2a9d11", retention_days=7)
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-11-10T10:00:00Z"}], now=NOW - 10 * DAY)
    ingest(short, "Syslog", [{"TimeGenerated": "2026-11-10T11:00:00Z"}], now=NOW - 10 * DAY)
    ingest(short, "Syslog", [{"TimeGenerated": "2026-11-10T12:00:00Z"}], now=NOW - DAY)
    result = apply_retention(now=NOW)
    assert result == {"dropped_days": 0, "deleted_events": 1, "deleted_runs": 0}
    assert sorted(Event.objects.values_list("workspace__name", flat=True)) == [
        ws.name, "short"]
    kept = Event.objects.get(workspace=short)
    assert kept.time_generated.hour == 12
    day = EventDay.objects.get(workspace=short)
    assert (day.events, day.first_ingested_at) == (1, NOW - DAY)


def test_it_is_idempotent(p):
    ws = default_workspace(p.sub)
    ingest(ws, "Syslog", [{"TimeGenerated": "2026-08-01T10:00:00Z"}], now=NOW - 100 * DAY)
    apply_retention(now=NOW)
    assert apply_retention(now=NOW) == {"dropped_days": 0, "deleted_events": 0,
                                            "deleted_runs": 0}


def test_searches_older_than_30_days_go(p):
    from search.models import QueryRun
    from tests.factories import make_query_run

    old, fresh = make_query_run(p.sub), make_query_run(p.sub)
    QueryRun.objects.filter(pk=old.pk).update(created_at=NOW - 31 * DAY)
    QueryRun.objects.filter(pk=fresh.pk).update(created_at=NOW - 29 * DAY)
    assert apply_retention(now=NOW)["deleted_runs"] == 1
    assert list(QueryRun.objects.values_list("pk", flat=True)) == [fresh.pk]
