"""Search benchmark: the events engine (ClickHouse, embedded) beside PostgreSQL.

    .venv/bin/python bench/search.py [--events 250000 1000000] [--runs 5]
                                     [--pg-max 5000000] [--chdb-path /tmp/benchs-events]

For each size it generates (seeded) SecurityEvent and Syslog rows shaped like
../shared/samples/windows-events-psexec.jsonl (its events as templates, over 30
days, 200 computers, 5,000 accounts, 10,000 addresses), in batches, and loads the
same rows into:

- the events engine (chDB at --chdb-path, the project's `events` table from
  search/engine/ddl.py) through the engine module's insert, timed;
- hand-made tables per log table (`SecurityEvent`, `Syslog`) in the same engine,
  with the same columns, ordering and skip indexes minus `table_name`;
- PostgreSQL with today's schema (`search_event`, daily partitions, its indexes), by
  COPY, for sizes up to --pg-max only (it loads about 9,000 rows/s).

Then each query runs as KQL compiled for ClickHouse and fetched exactly as a search
run fetches it (search.execution.fetch_rows: the tenant's row filter, the search
limits), as hand-written ClickHouse SQL on the wide table and on the per-table
tables, and as hand-written PostgreSQL SQL: the median of --runs warm runs, twice
interleaved (the better pass kept for each side); the compiled and the hand results
are compared. It prints the bytes on disk per event of each store, and the map's
event pivots (investigation/evidence.py) against the engine. Never run by the
test suite.
"""

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PG, machine  # noqa: E402

DB = os.environ.get("BENCH_SEARCH_DB", "socbench_search")
CHDB_PATH = "/tmp/benchs-events"
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-" + "k" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "socconsole.settings",
    "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13"),
    "LOG_LEVEL": "WARNING",
}
SAMPLE = ROOT.parent / "shared" / "samples" / "windows-events-psexec.jsonl"
DAYS = 30
ATTACKER = "203.0.113.87"
BATCH = 500_000
INSERT_ROWS = 100_000  # rows per engine insert
PER_TABLE = ("SecurityEvent", "Syslog")

# Hand-written ClickHouse SQL: {T} is the table read (`events`, or the per-table table),
# {TF} the table filter the wide table needs (empty on a per-table table).
_T = "FROM {T} WHERE workspace_id = {ws:UInt64} {TF}"
_D1 = "time_generated > {d1:DateTime64(6, 'UTC')}"
_D7 = "time_generated > {d7:DateTime64(6, 'UTC')}"

# (name, KQL, hand ClickHouse SQL, hand PostgreSQL SQL, how the results compare)
# "rows": the same rows (any order); "count": the same number of rows (a `take` without
# sort may return any of the matching rows); "ranked": the same counts in the same order
# (`top` breaks ties between equal counts either way).
QUERIES = [
    ("failed logons, last day, count",
     "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) | count",
     f"SELECT count() {_T} AND event_id = 4625 AND {_D1}",
     "SELECT count(*) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND event_id = 4625 AND time_generated > %(d1)s",
     "rows"),
    ("failed logons by account and address",
     "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
     "| summarize FailedLogons = count() by Account, IpAddress | where FailedLogons > 5 "
     "| sort by FailedLogons",
     f"SELECT account, ip_address, count() AS n {_T} AND event_id = 4625 AND {_D1} "
     "GROUP BY account, ip_address HAVING n > 5 ORDER BY n DESC",
     "SELECT account, ip_address, count(*) AS n FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND event_id = 4625 AND time_generated > %(d1)s "
     "GROUP BY account, ip_address HAVING count(*) > 5 ORDER BY n DESC",
     "rows"),
    ("dumping command line (has), 7 days",
     "SecurityEvent | where TimeGenerated > ago(7d) | where EventID == 4688 and CommandLine "
     "has \"comsvcs.dll\" | project TimeGenerated, Computer, Account, CommandLine | take 50",
     f"SELECT time_generated, computer, account, command_line {_T} AND {_D7} "
     "AND event_id = 4688 AND hasTokenCaseInsensitive(command_line, 'comsvcs') "
     "AND match(command_line, '(?i)(^|[^A-Za-z0-9])comsvcs\\\\.dll($|[^A-Za-z0-9])') "
     "LIMIT 50",
     "SELECT time_generated, computer, account, fields->>'CommandLine' FROM search_event "
     "WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' AND event_id = 4688 "
     "AND time_generated > %(d7)s AND fields->>'CommandLine' ~* "
     "'(^|[^[:alnum:]])comsvcs\\.dll($|[^[:alnum:]])' LIMIT 50",
     "count"),
    ("syslog sudo by hour and computer, 7 days",
     "Syslog | where TimeGenerated > ago(7d) | where Facility == \"authpriv\" and "
     "SyslogMessage contains \"sudo\" | summarize count() by bin(TimeGenerated, 1h), Computer",
     "SELECT toStartOfHour(time_generated) AS h, computer, count() "
     f"{_T.replace('{TF}', '{TFS}')} AND {_D7} AND fields['Facility'] = '\"authpriv\"' "
     "AND positionCaseInsensitiveUTF8(message, 'sudo') > 0 GROUP BY h, computer",
     "SELECT date_bin('1 hour', time_generated, '2001-01-01'), computer, count(*) "
     "FROM search_event WHERE workspace_id = %(ws)s AND table_name = 'Syslog' "
     "AND time_generated > %(d7)s AND fields->>'Facility' = 'authpriv' "
     "AND strpos(lower(fields->>'SyslogMessage'), 'sudo') > 0 GROUP BY 1, 2",
     "rows"),
    ("busiest computers, last hour",
     "SecurityEvent | where TimeGenerated > ago(1h) | summarize count() by Computer "
     "| top 10 by count_",
     f"SELECT computer, count() AS n {_T} AND time_generated > {{h1:DateTime64(6, 'UTC')}} "
     "GROUP BY computer ORDER BY n DESC LIMIT 10",
     "SELECT computer, count(*) AS n FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(h1)s GROUP BY computer "
     "ORDER BY n DESC LIMIT 10",
     "ranked"),
    ("one account's events, last day",
     "SecurityEvent | where TimeGenerated > ago(1d) | where Account == \"CONTOSO\\\\user42\" "
     "| project TimeGenerated, Computer, EventID | take 100",
     f"SELECT time_generated, computer, event_id {_T} AND {_D1} "
     "AND account = 'CONTOSO\\\\user42' LIMIT 100",
     "SELECT time_generated, computer, event_id FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d1)s "
     "AND account = 'CONTOSO\\user42' LIMIT 100",
     "count"),
    ("attacker address by event id, 7 days",
     f"SecurityEvent | where TimeGenerated > ago(7d) | where IpAddress == \"{ATTACKER}\" "
     "| summarize count() by EventID",
     f"SELECT event_id, count() {_T} AND {_D7} AND ip_address = '{ATTACKER}' GROUP BY event_id",
     "SELECT event_id, count(*) FROM search_event WHERE workspace_id = %(ws)s "
     f"AND table_name = 'SecurityEvent' AND time_generated > %(d7)s AND ip_address = "
     f"'{ATTACKER}' GROUP BY event_id",
     "rows"),
    ("one host's events by id, 7 days",
     "SecurityEvent | where TimeGenerated > ago(7d) | where Computer == \"web042.contoso.local\" "
     "| summarize count() by EventID",
     f"SELECT event_id, count() {_T} AND {_D7} AND computer = 'web042.contoso.local' "
     "GROUP BY event_id",
     "SELECT event_id, count(*) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d7)s "
     "AND computer = 'web042.contoso.local' GROUP BY event_id",
     "rows"),
    ("distinct accounts per computer, last day",
     "SecurityEvent | where TimeGenerated > ago(1d) | summarize dcount(Account) by Computer",
     f"SELECT computer, uniqExact(account) {_T} AND {_D1} GROUP BY computer",
     "SELECT computer, count(DISTINCT account) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d1)s GROUP BY computer",
     "rows"),
    ("last logon per account, 6 hours",
     "SecurityEvent | where TimeGenerated > ago(6h) and EventID == 4624 "
     "| summarize arg_max(TimeGenerated, Computer, IpAddress) by Account",
     "SELECT account, max(time_generated), argMax(computer, time_generated), "
     f"argMax(ip_address, time_generated) {_T} AND time_generated > "
     "{h6:DateTime64(6, 'UTC')} AND event_id = 4624 GROUP BY account",
     "SELECT DISTINCT ON (account) account, time_generated, computer, ip_address "
     "FROM search_event WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' "
     "AND time_generated > %(h6)s AND event_id = 4624 ORDER BY account, time_generated DESC",
     "rows"),
    ("recent process creations, newest first",
     "SecurityEvent | where TimeGenerated > ago(1d) and EventID == 4688 "
     "| project TimeGenerated, Computer, NewProcessName | sort by TimeGenerated desc "
     "| take 100",
     f"SELECT time_generated, computer, process {_T} AND {_D1} AND event_id = 4688 "
     "ORDER BY time_generated DESC LIMIT 100",
     "SELECT time_generated, computer, fields->>'NewProcessName' FROM search_event "
     "WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' AND event_id = 4688 "
     "AND time_generated > %(d1)s ORDER BY time_generated DESC LIMIT 100",
     "rows"),
]


def setup_database(chdb_path):
    import subprocess

    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True,
                   env={**os.environ, **ENV, "EVENTS_URL": f"chdb://{chdb_path}",
                        # The tree this script is in, whatever the environment installed.
                        "PYTHONPATH": os.pathsep.join(
                            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)},
                   cwd=ROOT)


def django_setup(chdb_path):
    # chDB holds one data path per process: a scratch one, emptied first.
    shutil.rmtree(chdb_path, ignore_errors=True)
    Path(chdb_path + ".lock").unlink(missing_ok=True)
    os.environ.update(ENV)
    os.environ["EVENTS_URL"] = f"chdb://{chdb_path}"
    import django

    django.setup()


def templates():
    """The sample's events, as SecurityEvent column dicts (mapped as ingestion maps them)."""
    from search.ingest.mapping import to_columns

    rows = [to_columns(json.loads(line)) for line in SAMPLE.read_text().splitlines()]
    for row in rows:
        row.pop("TimeGenerated", None)
    return rows


def security_rows(n, now, rng, temps, start=0):
    """(time, computer, event_id, account, ip, fields) tuples shaped like the sample."""
    computers = [f"web{i:03d}.contoso.local" for i in range(200)]
    logon = [t for t in temps if t.get("EventID") not in (4688,)]
    proc = [t for t in temps if t.get("EventID") == 4688]
    span = DAYS * 86400
    for i in range(start, start + n):
        at = now - dt.timedelta(seconds=rng.random() * span)
        pick = rng.random()
        if pick < 0.06:
            event_id, base = 4625, logon[i % len(logon)]
        elif pick < 0.12:
            event_id, base = 4624, logon[i % len(logon)]
        elif pick < 0.22:
            event_id, base = 4688, proc[i % len(proc)]
        else:
            base = temps[i % len(temps)]
            event_id = base.get("EventID")
        fields = {k: v for k, v in base.items()
                  if k not in ("Computer", "EventID", "Account", "IpAddress")}
        if event_id == 4688:
            fields["CommandLine"] = ("rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump "
                                     "624 C:\\Windows\\Temp\\lsass.dmp full") \
                if i % 5000 == 0 else f"C:\\Windows\\System32\\svchost.exe -k group{i % 97}"
        ip = ATTACKER if event_id == 4625 and i % 50 == 0 else \
            f"10.{i % 7}.{(i // 7) % 256}.{i % 251}"
        # The last value names the template (Columns reuses what it made of it).
        yield (at, computers[i % 200], event_id, f"CONTOSO\\user{i % 5000}", ip, fields,
               id(base))


def syslog_rows(n, now, rng, start=0):
    facilities = ["authpriv", "daemon", "cron", "kern", "user"]
    for i in range(start, start + n):
        at = now - dt.timedelta(seconds=rng.random() * DAYS * 86400)
        facility = facilities[i % 5]
        message = (f"pam_unix(sudo:session): session opened for user root by deploy{i % 13}"
                   if i % 10 == 0 else
                   f"pam_unix(sshd:session): session opened for user u{i % 300}")
        yield (at, f"lnx{i % 50:02d}", None, "", f"10.9.{i % 256}.{i % 199}",
               {"Facility": facility, "SeverityLevel": "info", "ProcessName": "sshd",
                "ProcessID": 1000 + i % 5000, "SyslogMessage": message,
                "HostName": f"lnx{i % 50:02d}"}, None)


# --- loading ------------------------------------------------------------------------

def pg_load(workspace, table, rows, ingested_at):
    """Hand-written COPY of `rows` into search_event (partitions made first); seconds."""
    from django.db import connection

    from search.engine_migration import partition_name

    with connection.cursor() as cur:  # the daily partitions the old schema stores them in
        for day in sorted({r[0].date() for r in rows}):
            first = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            cur.execute(f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF '
                        "search_event FOR VALUES FROM (%s) TO (%s)",
                        [first, first + dt.timedelta(days=1)])
    start = time.perf_counter()
    with connection.cursor() as cur:
        with cur.cursor.copy(
                "COPY search_event (subscription_id, workspace_id, table_name, ingested_at, "
                "time_generated, computer, event_id, account, ip_address, fields) "
                "FROM STDIN") as copy:
            for at, computer, event_id, account, ip, fields, _ in rows:
                copy.write_row((workspace.subscription_id, workspace.pk, table, ingested_at, at,
                                computer, event_id, account, ip, json.dumps(fields)))
    return time.perf_counter() - start


def engine_rows(workspace, table, rows, ingested_at):
    """The rows as the engine's insert tuples (search.engine.row), the event as sent kept
    as `raw` the way ingestion keeps it."""
    from search.engine import row

    out = []
    for at, computer, event_id, account, ip, fields, _ in rows:
        out.append(row(subscription_id=workspace.subscription_id, workspace_id=workspace.pk,
                       table=table, ingested_at=ingested_at, time_generated=at,
                       columns=fields, raw=sent_text(at, computer, event_id, account, ip,
                                                     fields),
                       retention_days=RETENTION_DAYS, computer=computer, event_id=event_id,
                       account=account, ip_address=ip))
    return out


RETENTION_DAYS = 3650


def sent_text(at, computer, event_id, account, ip, fields):
    """The event as a sender would have sent it (JSON), kept as `raw`."""
    return json.dumps({"TimeGenerated": at.isoformat(), "Computer": computer,
                       "EventID": event_id, "Account": account, "IpAddress": ip, **fields},
                      separators=(",", ":"))


class Columns:
    """A hand-written bulk insert into the engine: the rows as the columns of an Arrow
    table, inserted by one native INSERT ... SELECT FROM Python(table) per batch.

    Each value is what search.engine.row makes of the row: the per-template part (the
    typed columns taken out of the fields, the `fields` map, the JSON of the other
    fields) is made by row() once per template and reused for every row built on it."""

    def __init__(self, workspace, ingested_at):
        self.workspace, self.ingested_at = workspace, ingested_at
        self._templates = {}

    def _template(self, table, template, fields):
        key = (table, template)
        if key[1] is None or key not in self._templates:
            from search.engine import ddl, row

            rest = {k: v for k, v in fields.items() if k != "CommandLine"}
            built = row(subscription_id=0, workspace_id=0, table=table,
                        ingested_at=self.ingested_at, time_generated=self.ingested_at,
                        columns=rest, retention_days=RETENTION_DAYS)
            by_name = dict(zip(ddl.COLUMNS, built, strict=True))
            value = (by_name["logon_type"], by_name["process"], by_name["message"],
                     list(by_name["fields"]), list(by_name["fields"].values()),
                     json.dumps(rest, separators=(",", ":"))[1:])
            if key[1] is None:
                return value
            self._templates[key] = value
        return self._templates[key]

    def table(self, table, rows):
        import pyarrow as pa

        n = len(rows)
        times, computers, event_ids, accounts, ips = [], [], [], [], []
        logon, process, command, message, raws = [], [], [], [], []
        offsets, keys, values = [0], [], []
        for at, computer, event_id, account, ip, fields, template in rows:
            lt, proc, msg, ks, vs, rest = self._template(table, template, fields)
            times.append(at)
            computers.append(computer)
            event_ids.append(event_id)
            accounts.append(account)
            ips.append(ip)
            logon.append(lt)
            process.append(proc)
            message.append(msg)
            line = fields.get("CommandLine")
            command.append("" if line is None else line)
            keys.extend(ks)
            values.extend(vs)
            offsets.append(len(keys))
            head = json.dumps({"TimeGenerated": at.isoformat(), "Computer": computer,
                               "EventID": event_id, "Account": account, "IpAddress": ip,
                               **({"CommandLine": line} if line is not None else {})},
                              separators=(",", ":"))
            raws.append(head[:-1] + "," + rest if rest != "}" else head)
        stamp = pa.timestamp("us", tz="UTC")
        return pa.table({
            "subscription_id": pa.array([self.workspace.subscription_id] * n, pa.uint64()),
            "workspace_id": pa.array([self.workspace.pk] * n, pa.uint64()),
            "table_name": pa.array([table] * n, pa.string()),
            "time_generated": pa.array(times, stamp),
            "ingested_at": pa.array([self.ingested_at] * n, stamp),
            "computer": pa.array(computers, pa.string()),
            "event_id": pa.array(event_ids, pa.int32()),
            "account": pa.array(accounts, pa.string()),
            "ip_address": pa.array(ips, pa.string()),
            "logon_type": pa.array(logon, pa.int32()),
            "process": pa.array(process, pa.string()),
            "command_line": pa.array(command, pa.string()),
            "message": pa.array(message, pa.string()),
            "resource_id": pa.nulls(n, pa.uint64()),
            "fields": pa.MapArray.from_arrays(pa.array(offsets, pa.int32()),
                                              pa.array(keys, pa.string()),
                                              pa.array(values, pa.string())),
            "raw": pa.array(raws, pa.string()),
            "retention_days": pa.array([RETENTION_DAYS] * n, pa.uint16()),
        })


def ch_insert_arrow(batch):
    """INSERT INTO events SELECT ... FROM Python(batch): chDB reads the Arrow table in
    place. Seconds."""
    from search.engine import ddl, engine

    names = ", ".join(ddl.COLUMNS)
    embedded = engine()
    start = time.perf_counter()
    with embedded._mutex:  # the engine's one session, as its own statements use it
        embedded._session.query(f"INSERT INTO {ddl.TABLE} ({names}) SELECT {names} "  # noqa: S608
                                "FROM Python(batch)")
    return time.perf_counter() - start


def ch_load(tuples):
    """The engine module's insert of the tuples; seconds."""
    from search import engine

    start = time.perf_counter()
    for i in range(0, len(tuples), INSERT_ROWS):
        engine.insert(tuples[i:i + INSERT_ROWS])
    return time.perf_counter() - start


def compare_inserts(workspace, now, rng, temps, n):
    """The same n rows by the engine module's insert and by the Arrow bulk insert, on the
    empty table (emptied again after): (module rows/s, Arrow rows/s, build seconds each)."""
    from search.engine import engine

    rows = list(security_rows(n, now, rng, temps))
    start = time.perf_counter()
    tuples = engine_rows(workspace, "SecurityEvent", rows, now)
    module_build = time.perf_counter() - start
    module = ch_load(tuples)
    start = time.perf_counter()
    batch = Columns(workspace, now).table("SecurityEvent", rows)
    arrow_build = time.perf_counter() - start
    arrow = ch_insert_arrow(batch)
    count = engine().query("SELECT count() FROM events", tenant=None).rows[0][0]
    assert count == 2 * n, count
    engine().truncate()
    return n / module, n / arrow, module_build, arrow_build


def per_table_ddl():
    """CREATE TABLE for each per-table table: the events table's columns, ordering and
    skip indexes, without table_name."""
    from search.engine import ddl

    statements = []
    for table in PER_TABLE:
        columns = [f"{c} {t}" for c, t in ddl.COLUMN_TYPES if c != "table_name"]
        clauses = [c.replace("table_name, ", "") for c in ddl.STORAGE_CLAUSES]
        body = ",\n    ".join(columns + list(ddl.INDEXES))
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} (\n    {body}\n) "
                          f"ENGINE = MergeTree\n" + "\n".join(clauses))
    return statements


def copy_to_per_table(ingested_at):
    """The rows of one load step (one ingested_at) copied from `events` into the
    per-table tables, inside the engine; seconds."""
    from search.engine import ddl, engine

    columns = ", ".join(c for c in ddl.COLUMNS if c != "table_name")
    start = time.perf_counter()
    for table in PER_TABLE:
        engine().command(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM events "  # noqa: S608
                         f"WHERE table_name = '{table}' AND ingested_at = "
                         "{at:DateTime64(6, 'UTC')}", {"at": ingested_at})
    return time.perf_counter() - start


def load_step(workspace, grow, offset, now, ingested_at, rng, temps, with_pg):
    """Generate `grow` more events (a tenth Syslog) in batches and load each batch into
    the engine, and into PostgreSQL when `with_pg`. Returns the timings."""
    from search.models import EventDay

    n_sys = grow // 10
    n_sec = grow - n_sys
    timing = {"ch_s": 0.0, "pg_s": 0.0, "gen_s": 0.0, "rows": 0}
    columns = Columns(workspace, ingested_at)
    days = {}
    for table, total in (("SecurityEvent", n_sec), ("Syslog", n_sys)):
        done = 0
        while done < total:
            n = min(BATCH, total - done)
            start = time.perf_counter()
            first = offset[table] + done
            rows = list(security_rows(n, now, rng, temps, first) if table == "SecurityEvent"
                        else syslog_rows(n, now, rng, first))
            batch = columns.table(table, rows)
            timing["gen_s"] += time.perf_counter() - start
            timing["ch_s"] += ch_insert_arrow(batch)
            del batch
            if with_pg:
                timing["pg_s"] += pg_load(workspace, table, rows, ingested_at)
            for r in rows:
                key = (table, r[0].date())
                days[key] = days.get(key, 0) + 1
            done += n
            timing["rows"] += n
        offset[table] += total
    for (table, day), count in days.items():
        event_day, created = EventDay.objects.get_or_create(
            workspace=workspace, table_name=table, day=day,
            defaults={"events": count, "first_ingested_at": ingested_at,
                      "last_ingested_at": ingested_at})
        if not created:
            event_day.events += count
            event_day.last_ingested_at = ingested_at
            event_day.save(update_fields=["events", "last_ingested_at"])
    timing["per_table_s"] = copy_to_per_table(ingested_at)
    return timing


# --- sizes --------------------------------------------------------------------------

def settle(limit=300):
    """Wait (up to `limit` s) until the engine's background merges are done, as they are
    on a table that has been taking events for a while; the active parts' count."""
    from search.engine import engine

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and engine().query(
            "SELECT count() FROM system.merges", tenant=None).rows[0][0]:
        time.sleep(2)
    return engine().query("SELECT count() FROM system.parts WHERE active AND table = 'events'",
                          tenant=None).rows[0][0]


def ch_bytes():
    """{table: (rows, bytes on disk)} of the engine's active parts."""
    from search.engine import engine

    result = engine().query(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active "
        "AND database = currentDatabase() AND table IN ('events', 'SecurityEvent', 'Syslog') "
        "GROUP BY table", tenant=None)
    return {t: (int(r), int(b)) for t, r, b in result.rows}


def ch_column_bytes():
    from search.engine import engine

    result = engine().query(
        "SELECT name, data_compressed_bytes FROM system.columns WHERE database = "
        "currentDatabase() AND table = 'events' ORDER BY data_compressed_bytes DESC",
        tenant=None)
    return [(n, int(b)) for n, b in result.rows]


def pg_bytes():
    """(rows, bytes) of search_event's partitions with their indexes and TOAST."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                    "WHERE inhparent = 'search_event'::regclass")
        size = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM search_event")
        rows = cur.fetchone()[0]
    return rows, int(size)


# --- queries ------------------------------------------------------------------------

def best_of_two(fn, runs):
    """Median of `runs` warm runs (after one warm-up), twice; the better median."""
    medians, result = [], None
    for _ in range(2):
        times = []
        for i in range(runs + 1):
            start = time.perf_counter()
            result = fn()
            if i:
                times.append(time.perf_counter() - start)
        medians.append(statistics.median(times) * 1000)
    return min(medians), result


def comparable(rows, how):
    rows = [tuple(r) for r in rows]
    if how == "count":
        return len(rows)
    if how == "ranked":
        return [r[-1] for r in rows]
    return sorted(rows, key=repr)


def run_queries(workspace, runs, now, with_pg):
    from django.db import connection

    from search.catalog import Catalog
    from search.engine import engine
    from search.execution import fetch_rows
    from search.kql import compile_query

    ch_params = {"ws": workspace.pk, "h1": now - dt.timedelta(hours=1),
                 "h6": now - dt.timedelta(hours=6), "d1": now - dt.timedelta(days=1),
                 "d7": now - dt.timedelta(days=7)}
    pg_params = dict(ch_params)
    from search.engine import Tenant, search_limits

    tenant = Tenant(workspace.subscription_id, (workspace.pk,))
    limits = search_limits(max_result_rows=10001)
    results = []
    for name, kql, hand_ch, hand_pg, how in QUERIES:
        table = kql.split("|", 1)[0].strip()
        wide = hand_ch.replace("{T}", "events").replace(
            "{TF}", "AND table_name = 'SecurityEvent'").replace(
            "{TFS}", "AND table_name = 'Syslog'")
        narrow = hand_ch.replace("{T}", table).replace("{TF}", "").replace("{TFS}", "")
        compile_times = []
        for _ in range(20):
            start = time.perf_counter()
            compiled = compile_query(kql, catalog=Catalog([workspace.pk]),
                                     workspace_ids=[workspace.pk], row_limit=10000,
                                     now=now)
            compile_times.append(time.perf_counter() - start)
        used = {k: v for k, v in ch_params.items() if "{" + k + ":" in wide}

        def kql_run(compiled=compiled):
            # As a search run fetches: search.execution.fetch_rows (tenant, limits).
            return fetch_rows(f"/* queryrun 0 */ {compiled.sql}", compiled.params, 10001,
                              workspace=workspace)

        def hand(sql, used=used):
            return engine().query(sql, used, tenant=None).rows

        def hand_as_run(sql=wide, used=used):
            # The same hand SQL with what a run adds: the tenant's row filter, the limits.
            return engine().query(sql, used, tenant=tenant, limits=limits).rows

        kql_ms, kql_rows = best_of_two(kql_run, runs)
        wide_ms, wide_rows = best_of_two(lambda wide=wide: hand(wide), runs)
        narrow_ms, narrow_rows = best_of_two(lambda narrow=narrow: hand(narrow), runs)
        # Interleaved second look, so that neither side always runs on a warmer cache.
        kql_ms = min(kql_ms, best_of_two(kql_run, runs)[0])
        wide_ms = min(wide_ms, best_of_two(lambda wide=wide: hand(wide), runs)[0])
        as_run_ms, as_run_rows = best_of_two(hand_as_run, runs)
        pg_ms, pg_rows = None, None
        if with_pg:
            with connection.cursor() as cur:
                def pg_run(cur=cur, hand_pg=hand_pg):
                    cur.execute(hand_pg, pg_params)
                    return cur.fetchall()
                pg_ms, pg_rows = best_of_two(pg_run, runs)
        same = comparable(kql_rows, how) == comparable(wide_rows, how) == \
            comparable(narrow_rows, how) == comparable(as_run_rows, how)
        results.append({"query": name, "compile_ms": statistics.median(compile_times) * 1000,
                        "kql_ms": kql_ms, "wide_ms": wide_ms, "narrow_ms": narrow_ms,
                        "as_run_ms": as_run_ms,
                        "pg_ms": pg_ms, "ratio": kql_ms / max(wide_ms, 1e-6),
                        "rows": len(kql_rows), "pg_rows": None if pg_rows is None
                        else len(pg_rows), "same": same, "how": how})
    return results


def pivots(workspace, runs):
    """investigation/evidence.py's event pivots against the engine: median ms, rows."""
    from investigation import evidence

    host, account = "web042.contoso.local", "CONTOSO\\user42"
    calls = [
        ("logons of a host", lambda: evidence.logons(workspace, "host", host)),
        ("processes of a host", lambda: evidence.processes(workspace, host)),
        ("network of a host", lambda: evidence.network(workspace, "host", host)),
        ("connections of an address", lambda: evidence.network(workspace, "ip", ATTACKER)),
        ("logons of an address", lambda: evidence.logons(workspace, "ip", ATTACKER)),
        ("hosts of an account", lambda: evidence.hosts_of_account(workspace, account)),
    ]
    out = []
    window = evidence.WINDOW
    try:
        for label, days in (("30 days", 30), ("a week", 7)):
            # The map asks over evidence.WINDOW (30 days); "a week" asks the same over 7.
            evidence.WINDOW = dt.timedelta(days=days)
            for name, call in calls:
                times = []
                rows = None
                for i in range(max(runs, 5) * 2 + 1):
                    start = time.perf_counter()
                    rows = call()
                    if i:
                        times.append(time.perf_counter() - start)
                if rows.error:
                    raise RuntimeError(f"{name}: {rows.error}")
                out.append((name, label, statistics.median(times) * 1000, len(rows.rows)))
    finally:
        evidence.WINDOW = window
    return out


# --- report -------------------------------------------------------------------------

def ms(value):
    return "—" if value is None else f"{value:.1f}"


def print_step(size, timing, with_pg, results, sizes, piv):
    print(f"\n## {size:,} events\n")
    gen = timing["gen_s"]
    rate = timing["rows"] / timing["ch_s"]
    print(f"Loaded {timing['rows']:,} more rows: engine bulk insert (Arrow) {rate:,.0f} rows/s"
          f" ({timing['ch_s']:.1f} s; generating and building the columns {gen:.1f} s "
          f"apart), per-table copy inside the engine {timing['per_table_s']:.1f} s"
          + (f", PostgreSQL COPY {timing['rows'] / timing['pg_s']:,.0f} rows/s "
             f"({timing['pg_s']:.1f} s)" if with_pg else ", PostgreSQL not loaded (> --pg-max)")
          + f". Merges settled in {timing['settle_s']:.0f} s: {timing['parts']} active parts.\n")
    print("| query | compile ms | KQL on engine ms | hand CH wide ms | ratio | "
          "hand CH as a run ms | hand CH per-table ms | hand PG ms | rows | same result |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        flag = " *" if r["ratio"] > 1.2 else ""
        print(f"| {r['query']} | {r['compile_ms']:.2f} | {r['kql_ms']:.1f} | {r['wide_ms']:.1f} | "
              f"{r['ratio']:.2f}{flag} | {r['as_run_ms']:.1f} | {r['narrow_ms']:.1f} | "
              f"{ms(r['pg_ms'])} | {r['rows']}"
              f"{'' if r['pg_rows'] is None else '/' + str(r['pg_rows'])} | "
              f"{'yes' if r['same'] else 'NO'} ({r['how']}) |")
    print("\n| store | rows | bytes on disk | bytes/event |")
    print("| --- | ---: | ---: | ---: |")
    for store, (rows, size_) in sizes.items():
        print(f"| {store} | {rows:,} | {size_:,} | {size_ / max(rows, 1):,.0f} |")
    print("\n| pivot (investigation/evidence.py) | window | median ms | rows |")
    print("| --- | --- | ---: | ---: |")
    for name, label, median, rows in piv:
        print(f"| {name} | {label} | {median:.1f} | {rows} |")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg-max", type=int, default=5_000_000,
                        help="load PostgreSQL only for sizes up to this (default 5,000,000)")
    parser.add_argument("--compare-insert", type=int, default=50_000,
                        help="rows inserted both ways before the loads, to compare")
    parser.add_argument("--chdb-path", default=CHDB_PATH,
                        help="the engine's scratch data path, emptied first")
    args = parser.parse_args()
    print(f"# bench/search.py on {machine()}, {dt.date.today()}")
    setup_database(args.chdb_path)
    django_setup(args.chdb_path)
    import chdb
    from django.db import connection

    from inventory.activity import Actor
    from inventory.subscriptions import create_subscription
    from search.engine import engine

    version = engine().query("SELECT version()", tenant=None).rows[0][0]
    print(f"chDB {chdb.__version__}, ClickHouse engine {version}")
    for statement in per_table_ddl():
        engine().command(statement)
    actor = Actor.of_system("bench")
    sub = create_subscription(name="bench", actor=actor)
    workspace = sub.workspaces.get(is_default=True)
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(1)
    temps = templates()
    module, arrow, module_build, arrow_build = compare_inserts(
        workspace, now, random.Random(2), temps, args.compare_insert)
    print(f"\nInsert of the same {args.compare_insert:,} SecurityEvent rows into the empty "
          f"engine: search.engine.insert (JSONEachRow) {module:,.0f} rows/s (+ {module_build:.1f}"
          f" s building the tuples with row()), native INSERT ... SELECT FROM Python(arrow "
          f"table) {arrow:,.0f} rows/s (+ {arrow_build:.1f} s building the columns). The "
          "loads below use the second.")
    loaded, offset = 0, {"SecurityEvent": 0, "Syslog": 0}
    summary = []
    for step, size in enumerate(sorted(args.events)):
        with_pg = size <= args.pg_max
        if not with_pg and loaded <= args.pg_max and loaded:
            print(f"\nPostgreSQL stops at {loaded:,} events (--pg-max {args.pg_max:,}).")
        ingested_at = now + dt.timedelta(microseconds=step)
        timing = load_step(workspace, size - loaded, offset, now, ingested_at, rng, temps,
                           with_pg)
        loaded = size
        if with_pg:
            with connection.cursor() as cur:
                cur.execute("VACUUM ANALYZE search_event")
        start = time.perf_counter()
        timing["parts"] = settle()
        timing["settle_s"] = time.perf_counter() - start
        results = run_queries(workspace, args.runs, now, with_pg)
        parts = ch_bytes()
        sizes = {"engine, wide `events`": parts.get("events", (0, 0))}
        narrow = [parts.get(t, (0, 0)) for t in PER_TABLE]
        sizes["engine, per-table (SecurityEvent + Syslog)"] = (
            sum(r for r, _ in narrow), sum(b for _, b in narrow))
        if with_pg:
            sizes["PostgreSQL search_event (partitions + indexes)"] = pg_bytes()
        piv = pivots(workspace, args.runs)
        print_step(size, timing, with_pg, results, sizes, piv)
        summary.append((size, results))
    print("\n### `events` columns on disk (compressed bytes), at the largest size\n")
    print("| column | bytes |")
    print("| --- | ---: |")
    for name, size_ in ch_column_bytes():
        print(f"| {name} | {size_:,} |")
    if len(summary) > 1:
        (small, first), (large, last) = summary[0], summary[-1]
        print(f"\n### Cost per query from {small:,} to {large:,} events (KQL on engine, ms)\n")
        print("| query | small | large | large/small |")
        print("| --- | ---: | ---: | ---: |")
        for a, b in zip(first, last, strict=True):
            print(f"| {a['query']} | {a['kql_ms']:.1f} | {b['kql_ms']:.1f} | "
                  f"{b['kql_ms'] / max(a['kql_ms'], 1e-6):.2f} |")


if __name__ == "__main__":
    main()
