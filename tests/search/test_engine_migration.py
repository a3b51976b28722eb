"""`manage.py migrate_events_to_clickhouse` on the embedded engine: copy, verify, resume
after an interruption without a row twice, and drop the source only where it verified."""

import datetime as dt
import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from inventory.models import Activity, Workspace
from search import engine
from search.engine import Tenant
from search.engine_migration import partition_name
from search.ingest import store as ingestion
from search.models import Event, EventMigration
from search.schema import hot_columns
from socconsole.lib.jsonbody import split_body

from .factories import default_workspace, ingest

# The engine's TTL reads the real clock: the events follow it.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAYS = [NOW.date() - dt.timedelta(days=n) for n in (3, 2, 1)]
COLUMNS = ("table_name, time_generated, ingested_at, computer, event_id, account, "
           "ip_address, logon_type, process, command_line, message, resource_id, fields, "
           "retention_days")


def at(day, hour):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC).isoformat()


def contoso_events(day):
    return {
        "SecurityEvent": [
            {"TimeGenerated": at(day, 9), "Computer": "vm1", "EventID": 4625,
             "Account": "CONTOSO\\jürgen", "IpAddress": "10.0.0.5", "LogonType": 3,
             "CommandLine": "cmd /c whoami", "Activity": "Échec"},
            {"TimeGenerated": at(day, 10), "Computer": "vm2", "EventID": "x",
             "NewProcessName": "C:\\Windows\\lsass.exe"}],
        "Syslog": [{"TimeGenerated": at(day, 11), "Computer": "web1",
                    "SyslogMessage": "sshd: Failed password", "HostIP": "10.0.0.9"}]}


def fabrikam_events(day):
    return {"SecurityEvent": [{"TimeGenerated": at(day, 12), "Computer": "fab1",
                               "EventID": 4624}]}


def store(workspace, events, now=NOW):
    """Write `events` ({table: [event]}) into the database's search_event as an install
    had them before the move: each row as ingestion then mapped it."""
    for table, items in events.items():
        hot = hot_columns(table)
        rows = [ingestion._row(item, hot, now, [])
                for item in split_body(json.dumps(items).encode(), "application/json")]
        resources = ingestion._resources(workspace, [(None, row) for row in rows])
        for day in {row[0].date() for row in rows}:
            _partition(day)
        Event.objects.bulk_create([Event(
            subscription_id=workspace.subscription_id, workspace=workspace, table_name=table,
            ingested_at=now, time_generated=at_, computer=computer, event_id=event_id,
            account=account, ip_address=ip, fields=fields,
            resource=resources.get(computer.lower()) if computer else None)
            for at_, computer, event_id, account, ip, fields in rows])


def _partition(day):
    """search_event's partition of `day` on PostgreSQL (migration 0002 partitions it)."""
    if connection.vendor != "postgresql":
        return
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with connection.cursor() as cur:
        cur.execute(f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF '
                    "search_event FOR VALUES FROM (%s) TO (%s)",
                    [start, start + dt.timedelta(days=1)])


def ingested(workspace, events, now=NOW):
    """Ingest `events` straight into the engine, as after the cut-over."""
    for table, items in events.items():
        assert ingest(workspace, table, items, now=now).rejected == 0


def partitions_of_search_event():
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'search_event'")
        return {row[0] for row in cur.fetchall()}


@pytest.fixture
def spaces(p, events_engine):
    """Contoso's default workspace with 9 events over three days (and 1 past retention),
    Fabrikam's with 3, all in the database: ingestion before the cut-over."""
    contoso, fabrikam = default_workspace(p.sub), default_workspace(p.other)
    for day in DAYS:
        store(contoso, contoso_events(day))
        store(fabrikam, fabrikam_events(day))
    long_ago = NOW - dt.timedelta(days=contoso.retention_days + 1)
    store(contoso, {"Syslog": [{"TimeGenerated": at(long_ago.date(), 8), "Computer": "old"}]},
          now=long_ago)
    assert Event.objects.count() == 13
    return contoso, fabrikam


def run(**options):
    out, err = io.StringIO(), io.StringIO()
    call_command("migrate_events_to_clickhouse", stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def failing(**options):
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("migrate_events_to_clickhouse", stdout=io.StringIO(), stderr=err,
                     **options)
    return caught.value, err.getvalue()


def stored(workspace, columns=COLUMNS, tenant=None):
    tenant = tenant or Tenant(workspace.subscription_id, (workspace.pk,))
    return engine.query(f"SELECT {columns} FROM events WHERE workspace_id = {{ws:UInt64}} "  # noqa: S608
                        "ORDER BY time_generated, computer", {"ws": workspace.pk},
                        tenant=tenant).rows


def per_day(workspace):
    return dict(engine.query("SELECT toDate(time_generated) AS d, count() FROM events "
                             "GROUP BY d ORDER BY d",
                             tenant=Tenant(workspace.subscription_id, (workspace.pk,))).rows)


def source_days(workspace):
    return sorted({e.time_generated.date() for e in Event.objects.filter(workspace=workspace)
                   if e.time_generated.date() in DAYS})


def test_it_stores_each_event_as_ingestion_into_the_engine_would(p, spaces):
    contoso, fabrikam = spaces
    direct = Workspace.objects.create(subscription=p.sub, name="Direct",
                                      workspace_id=uuid.uuid4())
    for day in DAYS:  # the same events, ingested straight into the engine
        ingested(direct, contoso_events(day))

    output = run(batch=2)

    assert stored(contoso) == stored(direct)
    assert len(stored(contoso)) == 9  # the event past retention is not copied
    assert stored(contoso, "raw") == [("",)] * 9
    assert per_day(fabrikam) == dict.fromkeys(DAYS, 1)
    # Fabrikam's tenant reads none of Contoso's rows, whatever the query asks for.
    assert stored(contoso, tenant=Tenant(p.other.pk, (fabrikam.pk,))) == []
    assert {r.state for r in EventMigration.objects.all()} == {"copied"}
    assert EventMigration.objects.filter(verified_at__isnull=False).count() == 6
    assert f"{p.sub.name} / {contoso.name} {DAYS[0]}: copied 3 rows" in output
    assert "rows/s" in output
    assert "Copied 12 rows in 9 batches; 6 of 6 days verified." in output
    assert Event.objects.count() == 13  # without --drop-source the source stays


def test_it_limits_to_a_subscription_and_a_workspace(p, spaces):
    contoso, fabrikam = spaces

    run(subscription="Fabrikam", workspace=fabrikam.name)

    assert len(stored(fabrikam)) == 3
    assert stored(contoso) == []
    error, _ = failing(subscription="Nobody")
    assert "No workspace matches" in str(error)


def test_it_prints_what_it_would_copy_on_a_dry_run(p, spaces):
    contoso, _ = spaces

    output = run(dry_run=True, subscription=p.sub.name)

    assert f"{p.sub.name} / {contoso.name} {DAYS[1]}: 3 rows" in output
    assert "Would copy 3 days, 9 rows" in output
    assert stored(contoso) == []
    assert not EventMigration.objects.exists()


def test_it_resumes_a_run_stopped_half_way_without_copying_a_row_twice(p, spaces):
    contoso, fabrikam = spaces

    output = run(batch=2, max_batches=3)

    assert "Stopped after 3 batches" in output
    # Day one whole (2 + 1 rows), and the first batch of day two.
    assert per_day(contoso) == {DAYS[0]: 3, DAYS[1]: 2}
    halfway = EventMigration.objects.get(workspace=contoso, day=DAYS[1])
    assert (halfway.state, halfway.copied) == ("copying", 2)

    output = run(batch=2)

    assert per_day(contoso) == dict.fromkeys(DAYS, 3)
    assert per_day(fabrikam) == dict.fromkeys(DAYS, 1)
    assert len({repr(r) for r in stored(contoso)}) == 9
    assert "deleting" not in output  # the engine held what was recorded: no recopy


def test_it_copies_a_day_again_when_a_batch_was_stored_but_not_recorded(p, spaces):
    contoso, _ = spaces
    # The cut-over: an event ingested into the engine.
    ingested(contoso, {"Syslog": [{"TimeGenerated": at(DAYS[0], 23), "Computer": "direct"}]})
    run(batch=2, max_batches=1)
    # A crash between the insert and its record: the engine holds a batch more.
    lost = stored(contoso, "*")[0]
    engine.insert([lost])
    assert per_day(contoso) == {DAYS[0]: 1 + 2 + 1}

    output = run(batch=2)

    assert f"{DAYS[0]}: deleting 3 rows of an earlier, unfinished copy" in output
    assert "6 of 6 days verified" in output  # the ingested event is not the source's
    assert per_day(contoso) == {DAYS[0]: 4, DAYS[1]: 3, DAYS[2]: 3}
    assert len({repr(r) for r in stored(contoso)}) == 10
    (raw,) = [r for c, r in stored(contoso, "computer, raw") if c == "direct"]
    assert json.loads(raw)["Computer"] == "direct"  # kept through the delete


def test_it_resumes_after_the_engine_went_down_half_way(p, spaces, settings):
    contoso, fabrikam = spaces
    embedded = settings.EVENTS_URL

    class EngineDownAfterTheFirstDay(io.StringIO):
        def write(self, text):
            if "copied" in text:  # a real transport failure: nothing listens there
                settings.EVENTS_URL = "clickhouse://default@127.0.0.1:9/events"
            return super().write(text)

    with pytest.raises(CommandError) as caught:
        call_command("migrate_events_to_clickhouse", batch=2,
                     stdout=EngineDownAfterTheFirstDay(), stderr=io.StringIO())

    assert "run the command again to continue" in str(caught.value)
    settings.EVENTS_URL = embedded
    assert per_day(contoso) == {DAYS[0]: 3}

    run(batch=2)

    assert per_day(contoso) == dict.fromkeys(DAYS, 3)
    assert per_day(fabrikam) == dict.fromkeys(DAYS, 1)


def test_it_keeps_what_it_copied_when_interrupted(p, spaces):
    contoso, _ = spaces

    class CtrlCAfterTheFirstDay(io.StringIO):
        def write(self, text):
            if "copied" in text:
                raise KeyboardInterrupt
            return super().write(text)

    with pytest.raises(CommandError) as caught:
        call_command("migrate_events_to_clickhouse", batch=2,
                     stdout=CtrlCAfterTheFirstDay(), stderr=io.StringIO())

    assert caught.value.returncode == 130
    assert EventMigration.objects.get(workspace=contoso, day=DAYS[0]).state == "copied"

    output = run(batch=2)

    assert f"{contoso.name} {DAYS[0]}: copied" not in output
    assert "Copied 9 rows" in output  # the 12 less the day copied before the interruption
    assert per_day(contoso) == dict.fromkeys(DAYS, 3)


def test_it_names_the_event_the_engine_refuses_and_resumes_once_it_is_accepted(p, spaces):
    contoso, _ = spaces
    store(contoso, {"Syslog": [{"TimeGenerated": at(DAYS[1], 23), "Computer": "poison"}]})
    poison = Event.objects.get(computer="poison")
    engine.engine().command("ALTER TABLE events ADD CONSTRAINT no_poison "
                            "CHECK computer != 'poison'")
    try:
        error, _ = failing(batch=2)
    finally:
        engine.engine().command("ALTER TABLE events DROP CONSTRAINT no_poison")

    assert f"{DAYS[1]}: the events engine refused event {poison.pk}" in str(error)
    assert per_day(contoso) == {DAYS[0]: 3, DAYS[1]: 2}  # nothing of the refused batch

    run(batch=2)

    assert per_day(contoso) == {DAYS[0]: 3, DAYS[1]: 4, DAYS[2]: 3}


def test_it_drops_the_source_only_of_the_days_that_verified(p, spaces):
    contoso, fabrikam = spaces

    output = run(batch=2, max_batches=3, drop_source=True)

    assert "Deleted 3 source rows." in output
    assert source_days(contoso) == DAYS[1:]
    assert per_day(contoso) == {DAYS[0]: 3, DAYS[1]: 2}
    entry = Activity.objects.get(verb="events.migrated")
    assert entry.after == {"days": [str(DAYS[0])], "deleted_source_events": 3}

    run(batch=2, drop_source=True)

    assert source_days(contoso) == source_days(fabrikam) == []
    assert Event.objects.count() == 1  # the event past retention, for retention to drop
    assert per_day(contoso) == dict.fromkeys(DAYS, 3)
    assert per_day(fabrikam) == dict.fromkeys(DAYS, 1)
    assert "Copied 0 rows" in run(drop_source=True)  # dropped days are done
    if connection.vendor == "postgresql":  # emptied partitions are dropped, not vacuumed
        assert not {partition_name(d) for d in DAYS} & partitions_of_search_event()
    # An event that still reached the database (a process not yet restarted).
    store(contoso, {"Syslog": [{"TimeGenerated": at(DAYS[0], 23), "Computer": "late"}]})

    output = run()

    assert f"{DAYS[0]}: 1 rows reached the source after its copy was dropped" in output
    assert per_day(contoso) == dict.fromkeys(DAYS, 3)


def test_it_reports_a_mismatch_and_drops_nothing(p, spaces):
    contoso, _ = spaces
    run()
    engine.engine().command("DELETE FROM events WHERE computer = 'vm2' AND "
                            "toDate(time_generated) = {d:Date}", {"d": DAYS[1]},
                            {"lightweight_deletes_sync": 2, "mutations_sync": 2})

    error, table = failing(drop_source=True)

    assert "1 days differ" in str(error) and "Nothing was dropped" in str(error)
    header, _, line = table.strip().splitlines()
    assert header.split() == ["subscription", "workspace", "day", "source", "engine",
                              "difference"]
    assert line.split()[-4:] == [str(DAYS[1]), "3", "2", "-1"]
    assert Event.objects.count() == 13
    assert EventMigration.objects.get(workspace=contoso, day=DAYS[1]).state == "pending"

    run(drop_source=True)  # copies the day again, then every day verifies

    assert per_day(contoso) == dict.fromkeys(DAYS, 3)
    assert len({repr(r) for r in stored(contoso)}) == 9
    assert Event.objects.count() == 1
