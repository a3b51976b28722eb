"""Search benchmark: the PostgreSQL baseline (hand-written SQL), the KQL compiler's cost,
and what indexes cost.

    .venv/bin/python bench/search.py [--events 1000000 5000000] [--runs 5]
                                     [--index-rows 200000]

For each size it loads SecurityEvent and Syslog rows shaped like
../shared/samples/windows-events-psexec.jsonl (about 1.4 KB each, over 30 days,
200 computers, 5,000 accounts, 10,000 addresses) into a scratch PostgreSQL
database by COPY, then times each query as hand-written SQL on the schema and indexes
events had in PostgreSQL before issue 14 (median of --runs, warm cache), how long
parsing and compiling the KQL take (the compiler writes ClickHouse SQL only, so the
baseline is hand-written), and what each secondary index costs ingestion. Event
ingestion through the HTTP API is measured by bench/ingest_events.py. Never run by the
test suite.
"""

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PG, machine  # noqa: E402

DB = "socbench_search"
ENV = {
    **os.environ,
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

# (name, KQL, hand-written SQL with {ws} and {since_1d}-style parameters by name)
QUERIES = [
    ("failed logons, last day, count",
     "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) | count",
     "SELECT count(*) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND event_id = 4625 AND time_generated > %(d1)s"),
    ("failed logons by account and address",
     "SecurityEvent | where EventID == 4625 and TimeGenerated > ago(1d) "
     "| summarize FailedLogons = count() by Account, IpAddress | where FailedLogons > 5 "
     "| sort by FailedLogons",
     "SELECT account, ip_address, count(*) AS n FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND event_id = 4625 AND time_generated > %(d1)s "
     "GROUP BY account, ip_address HAVING count(*) > 5 ORDER BY n DESC"),
    ("dumping command line (has), 7 days",
     "SecurityEvent | where TimeGenerated > ago(7d) | where EventID == 4688 and CommandLine "
     "has \"comsvcs.dll\" | project TimeGenerated, Computer, Account, CommandLine | take 50",
     "SELECT time_generated, computer, account, fields->>'CommandLine' FROM search_event "
     "WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' AND event_id = 4688 "
     "AND time_generated > %(d7)s AND fields->>'CommandLine' ~* "
     "'(^|[^[:alnum:]])comsvcs\\.dll($|[^[:alnum:]])' LIMIT 50"),
    ("syslog sudo by hour and computer",
     "Syslog | where TimeGenerated > ago(7d) | where Facility == \"authpriv\" and "
     "SyslogMessage contains \"sudo\" | summarize count() by bin(TimeGenerated, 1h), Computer",
     "SELECT date_bin('1 hour', time_generated, '2001-01-01'), computer, count(*) "
     "FROM search_event WHERE workspace_id = %(ws)s AND table_name = 'Syslog' "
     "AND time_generated > %(d7)s AND fields->>'Facility' = 'authpriv' "
     "AND strpos(lower(fields->>'SyslogMessage'), 'sudo') > 0 GROUP BY 1, 2"),
    ("busiest computers, last hour",
     "SecurityEvent | where TimeGenerated > ago(1h) | summarize count() by Computer "
     "| top 10 by count_",
     "SELECT computer, count(*) AS n FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(h1)s GROUP BY computer "
     "ORDER BY n DESC LIMIT 10"),
    ("one account's events, last day",
     "SecurityEvent | where TimeGenerated > ago(1d) | where Account == \"CONTOSO\\\\user42\" "
     "| project TimeGenerated, Computer, EventID | take 100",
     "SELECT time_generated, computer, event_id FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d1)s "
     "AND account = 'CONTOSO\\user42' LIMIT 100"),
    ("attacker address by event id, 7 days",
     f"SecurityEvent | where TimeGenerated > ago(7d) | where IpAddress == \"{ATTACKER}\" "
     "| summarize count() by EventID",
     "SELECT event_id, count(*) FROM search_event WHERE workspace_id = %(ws)s "
     f"AND table_name = 'SecurityEvent' AND time_generated > %(d7)s AND ip_address = "
     f"'{ATTACKER}' GROUP BY event_id"),
    ("one host's events by id, 7 days",
     "SecurityEvent | where TimeGenerated > ago(7d) | where Computer == \"web042.contoso.local\" "
     "| summarize count() by EventID",
     "SELECT event_id, count(*) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d7)s "
     "AND computer = 'web042.contoso.local' GROUP BY event_id"),
    ("distinct accounts per computer, last day",
     "SecurityEvent | where TimeGenerated > ago(1d) | summarize dcount(Account) by Computer",
     "SELECT computer, count(DISTINCT account) FROM search_event WHERE workspace_id = %(ws)s "
     "AND table_name = 'SecurityEvent' AND time_generated > %(d1)s GROUP BY computer"),
    ("last logon per account, 6 hours",
     "SecurityEvent | where TimeGenerated > ago(6h) and EventID == 4624 "
     "| summarize arg_max(TimeGenerated, Computer, IpAddress) by Account",
     "SELECT DISTINCT ON (account) account, time_generated, computer, ip_address "
     "FROM search_event WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' "
     "AND time_generated > %(h6)s AND event_id = 4624 ORDER BY account, time_generated DESC"),
    ("recent process creations, newest first",
     "SecurityEvent | where TimeGenerated > ago(1d) and EventID == 4688 "
     "| project TimeGenerated, Computer, NewProcessName | sort by TimeGenerated desc "
     "| take 100",
     "SELECT time_generated, computer, fields->>'NewProcessName' FROM search_event "
     "WHERE workspace_id = %(ws)s AND table_name = 'SecurityEvent' AND event_id = 4688 "
     "AND time_generated > %(d1)s ORDER BY time_generated DESC LIMIT 100"),
]


def setup_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    import subprocess
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=ENV,
                   cwd=ROOT)


def django_setup():
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    import django

    django.setup()


def templates():
    """The sample's events, as SecurityEvent column dicts (mapped as ingestion maps them)."""
    from search.ingest.mapping import to_columns

    rows = [to_columns(json.loads(line)) for line in SAMPLE.read_text().splitlines()]
    for row in rows:
        row.pop("TimeGenerated", None)
    return rows


def security_rows(n, now, rng, temps):
    """(time, computer, event_id, account, ip, fields) tuples shaped like the sample."""
    computers = [f"web{i:03d}.contoso.local" for i in range(200)]
    logon = [t for t in temps if t.get("EventID") not in (4688,)]
    proc = [t for t in temps if t.get("EventID") == 4688]
    span = DAYS * 86400
    for i in range(n):
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
        yield (at, computers[i % 200], event_id, f"CONTOSO\\user{i % 5000}", ip, fields)


def syslog_rows(n, now, rng):
    facilities = ["authpriv", "daemon", "cron", "kern", "user"]
    for i in range(n):
        at = now - dt.timedelta(seconds=rng.random() * DAYS * 86400)
        facility = facilities[i % 5]
        message = (f"pam_unix(sudo:session): session opened for user root by deploy{i % 13}"
                   if i % 10 == 0 else
                   f"pam_unix(sshd:session): session opened for user u{i % 300}")
        yield (at, f"lnx{i % 50:02d}", None, "", f"10.9.{i % 256}.{i % 199}",
               {"Facility": facility, "SeverityLevel": "info", "ProcessName": "sshd",
                "ProcessID": 1000 + i % 5000, "SyslogMessage": message,
                "HostName": f"lnx{i % 50:02d}"})


def load(workspace, table, rows, now):
    """Hand-written COPY of `rows` into search_event (partitions made first)."""
    from django.db import connection

    from search.engine_migration import partition_name
    from search.models import EventDay

    rows = list(rows)
    with connection.cursor() as cur:
        for day in sorted({r[0].date() for r in rows}):
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            cur.execute(f'CREATE TABLE IF NOT EXISTS "{partition_name(day)}" PARTITION OF '
                        "search_event FOR VALUES FROM (%s) TO (%s)",
                        [start, start + dt.timedelta(days=1)])
    start = time.perf_counter()
    with connection.cursor() as cur:
        with cur.cursor.copy(
                "COPY search_event (subscription_id, workspace_id, table_name, ingested_at, "
                "time_generated, computer, event_id, account, ip_address, fields) "
                "FROM STDIN") as copy:
            for at, computer, event_id, account, ip, fields in rows:
                copy.write_row((workspace.subscription_id, workspace.pk, table, now, at,
                                computer, event_id, account, ip, json.dumps(fields)))
    elapsed = time.perf_counter() - start
    days = {}
    for r in rows:
        days[r[0].date()] = days.get(r[0].date(), 0) + 1
    for day, count in days.items():
        EventDay.objects.update_or_create(workspace=workspace, table_name=table, day=day,
                                          defaults={"events": count, "first_ingested_at": now,
                                                    "last_ingested_at": now})
    return len(rows), elapsed


def timed(cur, sql, params, runs):
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        cur.execute(sql, params)
        rows = cur.fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1000, rows


def run_queries(workspace, runs, now, only=None):
    from django.db import connection

    from search.catalog import Catalog
    from search.kql import compile_query

    params = {"ws": workspace.pk, "h1": now - dt.timedelta(hours=1),
              "h6": now - dt.timedelta(hours=6), "d1": now - dt.timedelta(days=1),
              "d7": now - dt.timedelta(days=7)}
    results = []
    with connection.cursor() as cur:
        cur.execute("ANALYZE search_event")
        for name, kql, hand in QUERIES:
            if only and name != only:
                continue
            compile_times, lookup_times = [], []
            for _ in range(20):
                catalog = Catalog([workspace.pk])
                start = time.perf_counter()
                catalog.columns(kql.split("|", 1)[0].strip())
                lookup_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                compile_query(kql, catalog=catalog, workspace_ids=[workspace.pk],
                              row_limit=10000, now=now)
                compile_times.append(time.perf_counter() - start)
            theirs, their_rows = timed(cur, hand, params, runs)
            theirs = min(theirs, timed(cur, hand, params, runs)[0])
            results.append({"query": name, "compile_ms": statistics.median(compile_times) * 1000,
                            "catalog_ms": statistics.median(lookup_times) * 1000,
                            "sql_ms": theirs, "rows": len(their_rows)})
    return results


# The pivot indexes the product creates (search/models.py); the benchmark drops them to
# measure each one's gain and cost, and puts them back.
PRODUCT_PIVOTS_BY_COLUMN = {"account": "event_ws_table_account", "ip_address": "event_ws_table_ip",
                            "computer": "event_ws_table_computer"}
PRODUCT_PIVOTS = list(PRODUCT_PIVOTS_BY_COLUMN.values())

CANDIDATES = {
    "account": ("bench_account", "(workspace_id, table_name, account, time_generated)",
                "one account's events, last day"),
    "ip_address": ("bench_ip", "(workspace_id, table_name, ip_address, time_generated)",
                   "attacker address by event id, 7 days"),
    "computer": ("bench_computer", "(workspace_id, table_name, computer, time_generated)",
                 "one host's events by id, 7 days"),
}


def index_gains(workspace, runs, now):
    """The queries a candidate index is for, timed without it and with it."""
    from django.db import connection

    out = []
    with connection.cursor() as cur:
        for name in PRODUCT_PIVOTS:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
        cur.execute("ANALYZE search_event")
    before = {r["query"]: r for r in run_queries(workspace, runs, now)}
    with connection.cursor() as cur:
        for column, (name, columns, query) in CANDIDATES.items():
            cur.execute(f"CREATE INDEX {name} ON search_event {columns}")
            cur.execute("ANALYZE search_event")
            after = {r["query"]: r for r in run_queries(workspace, runs, now, only=query)}
            cur.execute(f"DROP INDEX {name}")
            out.append((column, query, before[query]["sql_ms"], after[query]["sql_ms"]))
        for column, (_, columns, _) in CANDIDATES.items():
            cur.execute(f"CREATE INDEX {PRODUCT_PIVOTS_BY_COLUMN[column]} ON search_event "
                        f"{columns}")
    return out


def index_costs(workspace, n, now, rng, temps):
    """COPY throughput of n events with only the primary key, then with each index."""
    from django.db import connection

    indexes = {
        "event_ws_table_time": "(workspace_id, table_name, time_generated)",
        "event_ws_table_eventid": "(workspace_id, table_name, event_id, time_generated)",
        "bench_account": "(workspace_id, table_name, account, time_generated)",
        "bench_ip": "(workspace_id, table_name, ip_address, time_generated)",
        "bench_computer": "(workspace_id, table_name, computer, time_generated)",
    }
    rows = list(security_rows(n, now, rng, temps))
    out = []
    with connection.cursor() as cur:
        for name in ("event_ws_table_time", "event_ws_table_eventid", *PRODUCT_PIVOTS):
            cur.execute(f"DROP INDEX IF EXISTS {name}")
        steps = [("primary key only", None)] + list(indexes.items())
        for label, columns in steps:
            if columns:
                cur.execute(f"CREATE INDEX {label} ON search_event {columns}")
            cur.execute("DELETE FROM search_event WHERE table_name = 'IndexBench'")
            _, seconds = load(workspace, "IndexBench", rows, now)
            out.append((label, n / seconds))
        for label, column in (("bench_account", "account"), ("bench_ip", "ip_address"),
                              ("bench_computer", "computer")):
            cur.execute(f"ALTER INDEX {label} RENAME TO {PRODUCT_PIVOTS_BY_COLUMN[column]}")
        cur.execute("DELETE FROM search_event WHERE table_name = 'IndexBench'")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--index-rows", type=int, default=200_000)
    args = parser.parse_args()
    print(f"# bench/search.py on {machine()}, {dt.date.today()}")
    setup_database()
    django_setup()
    from django.db import connection

    from inventory.activity import Actor
    from inventory.subscriptions import create_subscription

    actor = Actor.of_system("bench")
    sub = create_subscription(name="bench", actor=actor)
    workspace = sub.workspaces.get(is_default=True)
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(1)
    temps = templates()
    # Measured on the empty table first, so that each step's clean-up is cheap.
    print(f"\n## What each index costs ingestion ({args.index_rows:,} events by COPY)\n")
    print("| indexes | rows/s |")
    print("| --- | ---: |")
    for label, rate in index_costs(workspace, args.index_rows, now, rng, temps):
        print(f"| + {label} | {rate:,.0f} |")
    loaded = 0
    for size in sorted(args.events):
        grow = size - loaded
        n_sys = grow // 10
        count, seconds = load(workspace, "SecurityEvent",
                              security_rows(grow - n_sys, now, rng, temps), now)
        load(workspace, "Syslog", syslog_rows(n_sys, now, rng), now)
        loaded = size
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE search_event")
        print(f"\n## {size:,} events ({count / seconds:,.0f} rows/s loaded by COPY)\n")
        print("| query | catalog ms | parse+compile ms | PostgreSQL SQL ms | rows |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for r in run_queries(workspace, args.runs, now):
            print(f"| {r['query']} | {r['catalog_ms']:.2f} | {r['compile_ms']:.2f} | "
                  f"{r['sql_ms']:.1f} | {r['rows']} |")
        print("\n| candidate index | query | without ms | with ms |")
        print("| --- | --- | ---: | ---: |")
        for column, query, without, with_ in index_gains(workspace, args.runs, now):
            print(f"| {column} | {query} | {without:.1f} | {with_:.1f} |")


if __name__ == "__main__":
    main()
