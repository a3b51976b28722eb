import datetime as dt

from inventory.models import Activity
from search.models import EventDay
from search.retention import apply_retention
from tests.search.factories import default_workspace, ingest, stored_events

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
# Retention runs 100 days after the first ingestion, which is now: the events engine's TTL
# reads the real clock, so nothing is ingested already past its retention.
NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + 100 * DAY


def at(when):
    return when.isoformat()


def test_it_drops_whole_days_past_retention(p):
    ws = default_workspace(p.sub)
    old, recent = NOW - 100 * DAY - 2 * HOUR, NOW - DAY - 2 * HOUR
    ingest(ws, "Syslog", [{"TimeGenerated": at(old)}] * 3, now=NOW - 100 * DAY)
    ingest(ws, "Syslog", [{"TimeGenerated": at(recent)}] * 2, now=NOW - DAY)
    result = apply_retention(now=NOW)
    assert result == {"dropped_days": 1, "deleted_events": 3, "deleted_runs": 0}
    assert len(stored_events(ws)) == 2
    assert list(EventDay.objects.values_list("day", flat=True)) == [recent.date()]
    audit = Activity.objects.get(verb="events.retention")
    assert audit.after == {"deleted_events": 3, "retention_days": 90}


def test_retention_counts_from_ingestion_not_from_the_events_time(p):
    ws = default_workspace(p.sub)
    # Old events (the 2020 sample, say) ingested yesterday are kept.
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2020-10-19T03:30:41Z"}], now=NOW - DAY)
    assert apply_retention(now=NOW) == {"dropped_days": 0, "deleted_events": 0,
                                            "deleted_runs": 0}
    assert len(stored_events(ws)) == 1


def test_a_shared_day_is_trimmed_per_workspace(p):
    ws = default_workspace(p.sub)
    short = p.sub.workspaces.create(name="short", workspace_id="0b7d4a8e-58a2-4e0e-9c43-"
                                    "6b1f0c2a9d11", retention_days=7)
    day = dt.datetime.combine((NOW - 11 * DAY).date(), dt.time(), tzinfo=dt.UTC)
    ingest(ws, "Syslog", [{"TimeGenerated": at(day + 10 * HOUR)}], now=NOW - 10 * DAY)
    ingest(short, "Syslog", [{"TimeGenerated": at(day + 11 * HOUR)}], now=NOW - 10 * DAY)
    ingest(short, "Syslog", [{"TimeGenerated": at(day + 12 * HOUR)}], now=NOW - DAY)
    result = apply_retention(now=NOW)
    assert result == {"dropped_days": 0, "deleted_events": 1, "deleted_runs": 0}
    assert len(stored_events(ws)) == 1
    [kept] = stored_events(short)
    assert kept["time_generated"].hour == 12
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
