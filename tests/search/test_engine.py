"""The events engine on chDB, in this process: storage, parameters, limits, tenancy,
retention, and the one-process rule of the embedded engine."""

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings

from search import engine
from search.engine import (
    EngineInUse,
    EngineUnavailable,
    InsertRefused,
    Limits,
    QueryError,
    QueryLimitExceeded,
    Tenant,
    ddl,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=123456)
CONTOSO = Tenant(1, (10, 11))
FABRIKAM = Tenant(2, (20,))


def make_row(subscription_id=1, workspace_id=10, table="SecurityEvent", time=None,
             ingested=None, **kwargs):
    values = {"columns": {}, "raw": b"{}", "retention_days": 90, "computer": "host-1"}
    values.update(kwargs)
    return engine.row(subscription_id=subscription_id, workspace_id=workspace_id, table=table,
                      ingested_at=ingested or NOW, time_generated=time or NOW, **values)


def count(tenant=None, where="1"):
    return engine.query(f"SELECT count() FROM events WHERE {where}",  # noqa: S608
                        tenant=tenant).rows[0][0]


@pytest.fixture(autouse=True)
def _engine(events_engine):
    return events_engine


def test_it_round_trips_every_column_and_unicode():
    fields = {"Activity": "4625 - Ein Konto konnte nicht angemeldet werden. ñ 日本 🚀",
              "KeyLength": 0, "Elevated": True, "Ratio": 0.25, "Nested": {"a": [1, "ü"]}}
    stored = make_row(columns={"CommandLine": "powershell -enc 'ä\"\\\t\n", "LogonType": 3,
                               "NewProcessName": "C:\\Windows\\cmd.exe", **fields},
                      raw='{"Computer":"höst"}'.encode(), computer="höst-1", event_id=4625,
                      account="CONTOSO\\jürgen", ip_address="2001:db8::1", resource_id=7)
    engine.insert([stored])

    result = engine.query(f"SELECT {', '.join(ddl.COLUMNS)} FROM events",  # noqa: S608
                          tenant=CONTOSO)

    assert [name for name, _ in result.columns] == list(ddl.COLUMNS)
    (row,) = result.rows
    assert row == stored
    assert row[ddl.COLUMNS.index("time_generated")] == NOW
    assert row[ddl.COLUMNS.index("command_line")] == "powershell -enc 'ä\"\\\t\n"
    assert row[ddl.COLUMNS.index("logon_type")] == 3
    assert json.loads(row[ddl.COLUMNS.index("fields")]["Nested"]) == {"a": [1, "ü"]}
    assert "CommandLine" not in row[ddl.COLUMNS.index("fields")]


def test_it_converts_computed_types():
    engine.insert([make_row(event_id=4625), make_row(event_id=None)])

    result = engine.query(
        "SELECT toStartOfInterval(time_generated, INTERVAL 1 hour) AS hour, "
        "toDate(time_generated) AS day, groupArray(event_id) AS ids, "
        "uniqExact(computer) AS hosts, map('k', max(event_id)) AS m, "
        "tuple(1, 'x') AS t, CAST((2, [toDateTime('2026-01-02 03:04:05', 'UTC')]), "
        "'Tuple(n UInt8, at Array(DateTime(\\'UTC\\')))') AS named, "
        "toUInt64(18446744073709551615) AS big, 1.5 AS real "
        "FROM events GROUP BY hour, day", tenant=CONTOSO)

    hour, day, ids, hosts, mapping, pair, named, big, real = result.rows[0]
    assert hour == NOW.replace(minute=0, second=0, microsecond=0)
    assert day == NOW.date()
    assert ids == [4625]  # groupArray leaves nulls out
    assert hosts == 1
    assert mapping == {"k": 4625}
    assert pair == (1, "x")
    assert named == (2, [dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)])
    assert big == 2**64 - 1
    assert real == 1.5


def test_it_passes_parameters_of_every_type():
    tricky = "it's \"quoted\"\t\\ tab\nline ☃"
    engine.insert([make_row(account=tricky, time=NOW)])

    result = engine.query(
        "SELECT account, {when:DateTime64(6, 'UTC')} AS at, {names:Array(String)} AS names, "
        "{ids:Array(UInt64)} AS ids, {flag:Bool} AS flag FROM events "
        "WHERE account = {account:String} AND time_generated = {when:DateTime64(6, 'UTC')}",
        {"account": tricky, "when": NOW, "names": ["a'b", "c\\d", "é"], "ids": [1, 2],
         "flag": True}, tenant=CONTOSO)

    assert result.rows == [(tricky, NOW, ["a'b", "c\\d", "é"], [1, 2], True)]


def test_arrow_and_json_inserts_store_the_same_rows():
    # The embedded engine sends rows as Arrow columns and falls back to JSONEachRow; both
    # must store a row alike, nulls, unicode, maps, times and all.
    from search.engine.base import Engine
    from search.engine.embedded import EmbeddedEngine

    this = engine.engine()
    assert isinstance(this, EmbeddedEngine)
    rows = [make_row(columns={"CommandLine": "cmd /c 'ä\"\\\t\n 日本", "LogonType": 3,
                              "Nested": {"a": [1, None]}, "Empty": "", "Gone": None},
                     raw=b'{"x": "\\u00e9"}', event_id=4625, account="CONTOSO\\jürgen",
                     time=NOW - dt.timedelta(days=1, microseconds=7), resource_id=2**40),
            make_row(workspace_id=11, event_id=None, computer="", ip_address="::1",
                     ingested=NOW.astimezone(dt.timezone(dt.timedelta(hours=2))))]
    this.insert(rows)
    settings = {"max_insert_block_size": 1_048_576, "min_insert_block_size_rows": 0,
                "min_insert_block_size_bytes": 0}
    Engine._insert_rows(this, [(*r[:1], r[1] + 10, *r[2:]) for r in rows],
                        {**settings, **engine.base.INSERT_SETTINGS})
    result = engine.query(f"SELECT {', '.join(ddl.COLUMNS)} FROM events "  # noqa: S608
                          "ORDER BY workspace_id", tenant=Tenant(1, (10, 11, 20, 21)))

    arrow, json_ = result.rows[:2], result.rows[2:]
    assert [r[1] for r in arrow] == [10, 11] and [r[1] for r in json_] == [20, 21]
    assert [r[:1] + r[2:] for r in arrow] == [r[:1] + r[2:] for r in json_]
    assert arrow[0][14] == rows[0][14] and arrow[1][6] is None and arrow[0][13] == 2**40


def test_it_refuses_a_batch_with_a_bad_row_as_a_whole():
    good = [make_row(time=NOW - dt.timedelta(days=d)) for d in range(3)]
    bad = make_row()
    # A value the engine cannot parse as Nullable(Int32), on another day's partition.
    bad = (*bad[:6], "not a number", *bad[7:])

    with pytest.raises(InsertRefused) as refused:
        engine.insert([*good, bad])

    assert "nothing of it is stored" in str(refused.value)
    assert refused.value.index == 3
    assert count() == 0
    engine.insert(good)
    assert count() == 3


def test_it_refuses_a_row_that_cannot_be_encoded_before_sending_anything():
    with pytest.raises(InsertRefused) as refused:
        engine.insert([make_row(), make_row(account="lone \ud800 surrogate")])

    assert refused.value.index == 1
    assert count() == 0


def test_it_refuses_a_row_of_the_wrong_width():
    with pytest.raises(InsertRefused):
        engine.insert([make_row()[:-1]])


def test_it_ends_a_query_past_its_time_limit():
    with pytest.raises(QueryLimitExceeded) as exceeded:
        engine.query("SELECT count() FROM system.numbers WHERE number % 7 = 1", tenant=CONTOSO,
                     limits=Limits(max_execution_time=0.5))

    assert exceeded.value.limit == "max_execution_time"
    assert "time limit (0.5 s)" in str(exceeded.value)


def test_it_ends_a_query_past_its_row_limit_or_cuts_it():
    engine.insert([make_row(account=f"user{i}") for i in range(50)])

    with pytest.raises(QueryLimitExceeded) as exceeded:
        engine.query("SELECT account FROM events", tenant=CONTOSO,
                     limits=Limits(max_result_rows=10))
    assert exceeded.value.limit == "max_result_rows"

    cut = engine.query("SELECT account FROM events", tenant=CONTOSO,
                       limits=Limits(max_result_rows=10, result_overflow_mode="break"))
    assert len(cut.rows) == 10
    assert cut.truncated
    whole = engine.query("SELECT account FROM events", tenant=CONTOSO,
                         limits=Limits(max_result_rows=100, result_overflow_mode="break"))
    assert len(whole.rows) == 50
    assert not whole.truncated


def test_it_ends_a_query_past_its_read_limit():
    engine.insert([make_row(table="Syslog", columns={"SyslogMessage": "x" * 1000})
                   for _ in range(100)])

    with pytest.raises(QueryLimitExceeded) as exceeded:
        engine.query("SELECT count() FROM events WHERE message LIKE '%y%'", tenant=CONTOSO,
                     limits=Limits(max_bytes_to_read=10_000))

    assert exceeded.value.limit == "max_bytes_to_read"
    assert count(CONTOSO, "message LIKE '%y%'") == 0


@pytest.mark.parametrize("sql", [
    "INSERT INTO events (subscription_id) SELECT 1",
    "ALTER TABLE events DELETE WHERE 1",
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT 1 SETTINGS readonly = 0",
])
def test_it_runs_search_queries_read_only(sql):
    engine.insert([make_row()])

    with pytest.raises(QueryLimitExceeded) as exceeded:
        engine.query(sql, tenant=CONTOSO, limits=Limits())

    assert exceeded.value.limit == "readonly"
    assert count() == 1


def test_it_answers_correctly_after_a_failed_query():
    # chDB hands what a failed statement wrote to the next statement's answer.
    with pytest.raises(QueryLimitExceeded):
        engine.query("SELECT number FROM numbers(1000)", tenant=None,
                     limits=Limits(max_result_rows=10))

    assert engine.query("SELECT 41 + 1 AS answer", tenant=None).rows == [(42,)]


def test_it_reports_a_bad_query_as_a_query_error():
    with pytest.raises(QueryError) as failed:
        engine.query("SELECT no_such_column FROM events", tenant=CONTOSO)

    assert not isinstance(failed.value, QueryLimitExceeded)
    assert failed.value.code == 47


@pytest.mark.parametrize("sql", [
    "SELECT subscription_id, workspace_id FROM events",
    "SELECT subscription_id, workspace_id FROM default.events",
    "SELECT subscription_id, workspace_id FROM (SELECT * FROM events) AS e",
    "WITH e AS (SELECT * FROM events) SELECT subscription_id, workspace_id FROM e",
    "SELECT b.subscription_id, b.workspace_id FROM events AS a "
    "CROSS JOIN default.events AS b",
    "SELECT subscription_id, workspace_id FROM events WHERE subscription_id = 2 "
    "UNION ALL SELECT subscription_id, workspace_id FROM events",
    "SELECT subscription_id, workspace_id FROM view(SELECT * FROM `default`.`events`)",
    # A filter of its own, in a subquery where a trailing one would be refused.
    "SELECT subscription_id, workspace_id FROM (SELECT * FROM events "
    "SETTINGS readonly = 0, additional_table_filters = {'events': '1'})",
])
def test_it_never_reads_another_tenants_rows(sql):
    engine.insert([make_row(1, 10), make_row(1, 11), make_row(1, 12),
                   make_row(2, 20), make_row(2, 20, account="fabrikam\\admin")])

    contoso = engine.query(sql, tenant=CONTOSO, limits=Limits()).rows
    fabrikam = engine.query(sql, tenant=FABRIKAM, limits=Limits()).rows

    assert contoso and set(contoso) <= {(1, 10), (1, 11)}
    assert (1, 12) not in contoso  # a workspace the run does not name
    assert set(fabrikam) <= {(2, 20)}
    assert len(fabrikam) in (2, 4)


def test_it_reads_nothing_for_a_workspace_of_another_subscription():
    engine.insert([make_row(2, 20)])

    assert count(Tenant(1, (20,))) == 0
    assert count(Tenant(1, ())) == 0
    assert count(Tenant(2, (20,))) == 1


def test_it_applies_a_new_retention_to_stored_rows():
    old = NOW - dt.timedelta(days=20)
    engine.insert([make_row(1, 10, ingested=old), make_row(1, 10), make_row(1, 11, ingested=old),
                   make_row(2, 20, ingested=old)])
    assert engine.drop_expired() == {}

    assert engine.set_retention(10, 7) == 1

    assert engine.drop_expired() == {}
    assert count(where="workspace_id = 10") == 1
    assert count(where="workspace_id = 11") == 1
    assert count(where="workspace_id = 20") == 1
    assert engine.query("SELECT DISTINCT retention_days FROM events WHERE workspace_id = 10",
                        tenant=None).rows == [(7,)]


def test_it_drops_rows_once_past_their_retention():
    engine.insert([make_row(1, 10, ingested=NOW - dt.timedelta(days=5), retention_days=30),
                   make_row(2, 20, ingested=NOW - dt.timedelta(days=5), retention_days=7)])

    assert engine.drop_expired(NOW + dt.timedelta(days=3)) == {20: 1}
    assert engine.drop_expired(NOW + dt.timedelta(days=30)) == {10: 1}
    assert count() == 0


def test_it_counts_retention_from_ingestion_not_from_the_events_time():
    # A 2020 sample ingested today is kept its 7 days, by the TTL as by drop_expired.
    engine.insert([make_row(time=dt.datetime(2020, 10, 19, 3, 30, tzinfo=dt.UTC),
                            retention_days=7)])

    assert engine.drop_expired(NOW + dt.timedelta(days=6)) == {}
    assert count() == 1
    assert engine.drop_expired(NOW + dt.timedelta(days=8)) == {10: 1}


def test_it_keeps_no_row_already_past_its_retention():
    # The TTL may drop rows ingested past their retention as they are written (it is the
    # engine's choice); drop_expired() leaves none of them either way.
    engine.insert([make_row(ingested=NOW - dt.timedelta(days=10), retention_days=7),
                   make_row(retention_days=7)])

    assert engine.drop_expired() in ({}, {10: 1})
    assert count() == 1


def test_it_takes_a_tables_typed_columns_out_of_the_fields():
    syslog = make_row(table="Syslog", columns={"SyslogMessage": "sshd: Failed password",
                                               "ProcessName": "sshd", "Facility": "auth"})
    logon = make_row(columns={"LogonType": "network", "CommandLine": {"argv": ["a"]}})

    assert syslog[ddl.COLUMNS.index("message")] == "sshd: Failed password"
    assert syslog[ddl.COLUMNS.index("process")] == "sshd"
    assert syslog[ddl.COLUMNS.index("fields")] == {"Facility": '"auth"'}
    assert logon[ddl.COLUMNS.index("logon_type")] is None
    assert logon[ddl.COLUMNS.index("fields")] == {"LogonType_raw": '"network"'}
    assert logon[ddl.COLUMNS.index("command_line")] == '{"argv":["a"]}'


def test_it_serves_threads_from_one_session():
    engine.insert([make_row(account=f"user{i}") for i in range(20)])
    answers, errors = [], []

    def read():
        try:
            for _ in range(10):
                answers.append(count(CONTOSO))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert answers == [20] * 40


def test_it_refuses_a_second_process_on_the_embedded_path():
    engine.engine()  # this process holds the path
    code = ("import django; django.setup()\n"
            "from search import engine\n"
            "try:\n"
            "    engine.engine()\n"
            "except engine.EngineInUse as exc:\n"
            "    print(exc); raise SystemExit(3)\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings_test",
           "EVENTS_URL": settings.EVENTS_URL}

    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: S603
                           text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])

    assert other.returncode == 3, other.stderr
    assert f"held by process {os.getpid()}" in other.stdout
    assert "EVENTS_URL=clickhouse://" in other.stdout
    assert count() == 0  # and this process's engine still answers


def test_it_refuses_a_process_forked_after_opening():
    engine.engine()
    pid = os.fork()
    if pid == 0:  # the child: must not use the parent's chDB session
        try:
            count()
        except EngineInUse as exc:
            os._exit(3 if "forked" in str(exc) else 4)
        except BaseException:  # noqa: BLE001
            os._exit(5)
        os._exit(0)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 3


def test_it_says_a_server_that_cannot_be_reached_is_unavailable():
    server = engine.open_engine("clickhouse://default:secret@127.0.0.1:1/default")

    with pytest.raises(EngineUnavailable) as down:
        server.insert([make_row()])
    with pytest.raises(EngineUnavailable):
        server.query("SELECT 1", tenant=None)

    assert not isinstance(down.value, InsertRefused)
    assert "secret" not in server.url


def test_it_answers_503_with_retry_after_when_the_engine_is_unavailable(rf):
    from socconsole.api import on_engine_unavailable

    response = on_engine_unavailable(rf.post("/api/v1/workspaces/1/events"),
                                     EngineUnavailable("The events engine is down."))

    assert response.status_code == 503
    assert int(response["Retry-After"]) == EngineUnavailable.retry_after
    assert json.loads(response.content)["error"]["code"] == "unavailable"
    assert "Nothing of this request was stored" in \
        json.loads(response.content)["error"]["message"]


@pytest.mark.parametrize("url", ["postgres://x@y/z", "chdb://", "clickhouse://h:8123/a/b"])
def test_it_refuses_an_events_url_it_cannot_use(url):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings_test",
           "EVENTS_URL": url}
    check = subprocess.run([sys.executable, "-c", "import django; django.setup()"],  # noqa: S603
                           env=env, capture_output=True, text=True, timeout=60,
                           cwd=Path(__file__).resolve().parents[2])

    assert check.returncode != 0
    assert "EVENTS_URL must be" in check.stderr


def test_a_new_embedded_path_takes_events_and_searches_with_no_step_before(p, tmp_path,
                                                                          settings):
    """`make run` on a fresh clone: the first process on a new path creates the table."""
    from search.runs import run_now
    from tests.search.factories import default_workspace, ingest

    held = settings.EVENTS_URL
    settings.EVENTS_URL = f"chdb://{tmp_path / 'fresh'}"
    try:
        ws = default_workspace(p.sub)
        report = ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z",
                                               "EventID": 4625, "Computer": "vm-web-01"}])
        assert (report.accepted, report.rejected) == (1, 0)
        _columns, rows, _ = run_now(ws, "SecurityEvent | summarize count() by Computer")
        assert rows == [["vm-web-01", 1]]
    finally:
        engine.close()
        settings.EVENTS_URL = held


def test_it_moves_to_another_path_when_the_setting_changes(tmp_path, settings):
    first = engine.engine()
    engine.insert([make_row()])
    settings.EVENTS_URL = f"chdb://{tmp_path / 'other'}"

    engine.ensure_schema()  # chDB holds one path per process: the first is closed
    assert engine.engine() is not first
    assert count() == 0
    engine.insert([make_row(), make_row()])
    assert count() == 2
    engine.close()
    settings.EVENTS_URL = first.configured_url

    assert count() == 1


def _production_env(tmp_path, **extra):
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings", "DEBUG": "true",
            "EVENTS_URL": f"chdb://{tmp_path / 'events'}",
            **extra}


def test_gunicorn_with_two_workers_on_the_embedded_engine_fails_to_start(tmp_path):
    gunicorn = Path(sys.executable).with_name("gunicorn")

    run = subprocess.run(  # noqa: S603
        [str(gunicorn), "socconsole.wsgi:application", "--bind", "127.0.0.1:0",
         "--workers", "2"], env=_production_env(tmp_path), capture_output=True, text=True,
        timeout=120, cwd=Path(__file__).resolve().parents[2])

    assert run.returncode == 3  # gunicorn: a worker failed to boot
    assert "is held by process" in run.stderr
    assert "EVENTS_URL=clickhouse://" in run.stderr


def test_a_celery_worker_on_a_path_another_process_holds_refuses_to_start(tmp_path, settings):
    engine.engine()  # this process holds its path, as the web process would
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "socconsole", "worker", "--pool=solo",
         "-Q", f"refused-{os.getpid()}"],
        env=_production_env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
                            EVENTS_URL=settings.EVENTS_URL),
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])

    assert run.returncode == 1
    assert f"is held by process {os.getpid()}" in run.stderr
    assert "EVENTS_URL=clickhouse://" in run.stderr


def test_search_limits_follow_the_settings(settings):
    settings.SEARCH_TIMEOUT_SECONDS, settings.SEARCH_ROW_LIMIT = 7, 100
    settings.SEARCH_MAX_BYTES = 0

    limits = engine.search_limits()

    assert (limits.max_execution_time, limits.max_result_rows) == (7, 101)
    assert limits.result_overflow_mode == "break"
    assert limits.max_bytes_to_read is None
    assert limits.readonly


def test_a_compiled_sort_by_time_of_one_workspace_reads_in_order():
    # `workspace_id = x`, not `IN (x)`: only equality fixes the sort key's first column,
    # so that `sort by TimeGenerated desc | take n` walks the key back and stops early.
    from search.kql import compile_query
    from search.schema import seeded_columns

    class Catalog:
        def columns(self, table):
            return seeded_columns(table)

    for hour in (1, 2):
        engine.insert([make_row(time=NOW - dt.timedelta(hours=hour, minutes=i))
                       for i in range(5)])
    compiled = compile_query("SecurityEvent | sort by TimeGenerated desc | take 3 "
                             "| project TimeGenerated", catalog=Catalog(), workspace_ids=[10],
                             now=NOW)
    assert "WHERE workspace_id = {p0:Int64} AND" in compiled.sql
    plan = "\n".join(r[0] for r in engine.query(f"EXPLAIN indexes=1 {compiled.sql}",
                                                compiled.params, tenant=None).rows)
    assert "Read type: InReverseOrder" in plan
    rows = engine.query(compiled.sql, compiled.params, tenant=CONTOSO).rows
    assert [r[0] for r in rows] == [NOW - dt.timedelta(hours=1, minutes=i) for i in range(3)]
