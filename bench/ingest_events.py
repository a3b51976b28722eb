"""Event ingestion benchmark: events/s through the HTTP API into the engine vs by hand.

    .venv/bin/python bench/ingest_events.py [--events 200000] [--batch 1000 5000]
                                            [--clients 2] [--threads 4] [--runs 3]

It creates a scratch PostgreSQL database (the console's own tables: the subscription,
workspace and ingest token), then, for each batch size and run, starts gunicorn with
one worker and --threads threads on a fresh embedded engine (EVENTS_URL=chdb://...:
chDB serves one process, so one worker; the app refuses a second process on the path
at start-up), posts N Windows events shaped like
../shared/samples/windows-events-psexec.jsonl as NDJSON to
POST /api/v1/workspaces/{id}/events?table=SecurityEvent from --clients client threads,
stops the server and counts the rows stored in the engine (they must equal the events
sent). As the baseline, the same lines are parsed (json.loads), mapped with the
project's mapping (search.ingest.mapping.to_columns) and inserted by hand as
JSONEachRow into the same table (same DDL) on another fresh path, in this process. It
prints events/s of both, median of --runs, and their ratio. Never run by the test suite.
"""

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import PG, Server, machine, post_bodies  # noqa: E402

DB = os.environ.get("BENCH_DB", "socbench_ingev")
PORT = 8767
SAMPLE = ROOT.parent / "shared" / "samples" / "windows-events-psexec.jsonl"
FIXTURE = ROOT / "tests" / "fixtures" / "windows-events.jsonl"
TABLE = "SecurityEvent"
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-" + "k" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "socconsole.settings",
    "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/9"),
    "LOG_LEVEL": "WARNING",
}


def sample_lines():
    """The sample's Windows events (the suite's fixture when the sample is absent)."""
    source = SAMPLE if SAMPLE.exists() else FIXTURE
    return source, [json.loads(line) for line in source.read_text().splitlines()
                    if line.strip()]


def make_events(n, now, seed=0):
    """`n` NDJSON lines shaped like the sample: its events in turn, over the last day,
    from 200 computers, 5,000 accounts and 10,000 addresses, varied command lines."""
    _, base = sample_lines()
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        event = dict(base[i % len(base)])
        at = now - dt.timedelta(seconds=rng.random() * 86400)
        event["TimeCreated"] = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        event["Hostname"] = f"web{i % 200:03d}.contoso.local"
        if "TargetUserName" in event:
            event["TargetUserName"] = f"user{rng.randrange(5000)}"
        if "SubjectUserName" in event:
            event["SubjectUserName"] = f"user{rng.randrange(5000)}"
        if "IpAddress" in event:
            event["IpAddress"] = f"10.{i % 7}.{rng.randrange(256)}.{rng.randrange(1, 251)}"
        if "CommandLine" in event:
            event["CommandLine"] = f"C:\\Windows\\System32\\svchost.exe -k group{i % 97}"
        lines.append(json.dumps(event).encode())
    return lines


def batches(lines, size):
    return [b"\n".join(lines[i:i + size]) for i in range(0, len(lines), size)]


def post_all(bodies, token, workspace_guid, clients=2, port=PORT, table=TABLE):
    """Post NDJSON bodies to the events endpoint; (seconds, events accepted). Any answer
    but 200, or a rejected event, fails the run."""
    elapsed, totals = post_bodies(f"/api/v1/workspaces/{workspace_guid}/events?table={table}",
                                  bodies, token, clients, port=port,
                                  content_type="application/x-ndjson",
                                  keys=("accepted", "rejected"))
    if totals["rejected"]:
        raise RuntimeError(f"{totals['rejected']} events were rejected")
    return elapsed, totals["accepted"]


def setup_database(scratch):
    import subprocess

    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT,
                   env={**ENV, "EVENTS_URL": f"chdb://{scratch / 'migrate'}"})


def django_setup(scratch):
    # This process opens an engine only when it counts or inserts by hand, never while
    # the server holds its path.
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    os.environ["EVENTS_URL"] = f"chdb://{scratch / 'bench'}"
    import django

    django.setup()


def stored(path, workspace_pk):
    """Rows of `workspace_pk`'s SecurityEvent in the engine at `path` (opened and closed)."""
    from search.engine import open_engine
    from search.engine.ddl import TABLE as EVENTS

    opened = open_engine(f"chdb://{path}")
    try:
        return opened.query(f"SELECT count() FROM {EVENTS} "  # noqa: S608
                            "WHERE workspace_id = {ws:UInt64} AND table_name = {t:String}",
                            {"ws": workspace_pk, "t": TABLE}, tenant=None).rows[0][0]
    finally:
        opened.close()


def api_run(bodies, warm, token, workspace, path, clients, threads):
    """Events/s through gunicorn on a fresh engine at `path`; checks the stored count."""
    env = {**ENV, "EVENTS_URL": f"chdb://{path}"}
    server = Server(1, env=env, port=PORT, threads=threads)
    try:
        # Warms the worker and provisions the computers' resources, in another table.
        post_all(warm, token, workspace.workspace_id, clients, table="BenchWarm")
        seconds, accepted = post_all(bodies, token, workspace.workspace_id, clients)
    finally:
        server.stop()
    return seconds, accepted, stored(path, workspace.pk)


def hand_run(bodies, workspace, path, chunk, fmt):
    """The same lines parsed (json.loads), mapped (the project's to_columns) and inserted
    by hand into the events table on a fresh path, one INSERT per `chunk` rows: as
    JSONEachRow text built in bulk (`fmt` "json") or as Arrow columns read through
    chDB's Python() table function ("arrow"). (seconds, rows sent, rows stored)."""
    import pyarrow as pa
    from chdb import session

    from search.engine.ddl import COLUMNS, CREATE_TABLE, hot_columns
    from search.engine.ddl import TABLE as EVENTS
    from search.ingest.mapping import to_columns

    integers = {"event_id", "logon_type"}
    hot = hot_columns(TABLE)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    constant = {"subscription_id": workspace.subscription_id, "workspace_id": workspace.pk,
                "table_name": TABLE, "ingested_at": now, "resource_id": None,
                "retention_days": workspace.retention_days, "time_generated": None,
                "computer": "", "event_id": None, "account": "", "ip_address": "",
                "logon_type": None, "process": "", "command_line": "", "message": ""}
    names = ", ".join(COLUMNS)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    string = json.encoder.encode_basestring

    def send_json(records):
        engine.query(f"INSERT INTO {EVENTS} ({names}) SETTINGS date_time_input_format = "
                     "'basic' FORMAT JSONEachRow\n" + "\n".join(map(encode, records)))

    def send_arrow(records):
        arrays = []
        for name in COLUMNS:
            values = [r[name] for r in records]
            if name == "fields":
                offsets, keys, items = [0], [], []
                for mapping in values:
                    keys.extend(mapping)
                    items.extend(mapping.values())
                    offsets.append(len(keys))
                arrays.append(pa.MapArray.from_arrays(pa.array(offsets, pa.int32()),
                                                      pa.array(keys, pa.string()),
                                                      pa.array(items, pa.string())))
            else:  # the engine casts the text of times and the numbers to the columns' types
                arrays.append(pa.array(values))
        batch = pa.Table.from_arrays(arrays, names=list(COLUMNS))  # noqa: F841 - read by chDB
        engine.query(f"INSERT INTO {EVENTS} ({names}) SELECT * FROM Python(batch)")

    send = send_arrow if fmt == "arrow" else send_json
    engine = session.Session(str(path))
    try:
        engine.query(CREATE_TABLE)
        # The engine's first insert pays for its start-up; the server's warm-up does too.
        send([{**constant, "time_generated": now, "fields": {}, "raw": "{}"}])
        engine.query(f"TRUNCATE TABLE {EVENTS}")
        start = time.perf_counter()
        records, count = [], 0
        for body in bodies:
            for raw in body.split(b"\n"):
                columns = to_columns(json.loads(raw))
                columns.pop("Type", None)
                record = dict(constant)
                for column, storage in hot.items():
                    if column in columns:
                        value = columns.pop(column)
                        if storage in integers:
                            try:
                                value = int(value)
                            except (TypeError, ValueError):
                                columns[f"{column}_raw"] = value
                                value = None
                        record[storage] = value
                record["fields"] = {k: string(v) if type(v) is str else encode(v)
                                    for k, v in columns.items() if v is not None}
                record["raw"] = raw.decode()
                records.append(record)
                if len(records) >= chunk:
                    send(records)
                    count += len(records)
                    records = []
        if records:
            send(records)
            count += len(records)
        seconds = time.perf_counter() - start
        total = int(engine.query(f"SELECT count() FROM {EVENTS}", "CSV").bytes())  # noqa: S608
    finally:
        engine.close()
    return seconds, count, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1000, 5000],
                        help="events per request, each measured")
    parser.add_argument("--clients", type=int, default=2, help="client threads")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads (1 worker)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hand-chunk", type=int, default=50_000,
                        help="rows per INSERT of the hand-written baseline")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-events-"))
    source, _ = sample_lines()
    print(f"# bench/ingest_events.py on {machine()}, {dt.date.today()}", flush=True)
    try:
        setup_database(scratch)
        django_setup(scratch)
        from django.db import connection

        from inventory.activity import Actor
        from inventory.subscriptions import create_subscription
        from inventory.tokens import create_token

        actor = Actor.of_system("bench")
        sub = create_subscription(name="bench-events", actor=actor)
        workspace = sub.workspaces.get(is_default=True)
        token = create_token(subscription=sub, name="bench", actor=actor)[1]
        connection.close()
        now = dt.datetime.now(dt.UTC)
        lines = make_events(args.events, now)
        size = sum(len(line) for line in lines) / len(lines)
        warm = batches(make_events(1000, now, seed=99), 200)
        api, hand = {}, {}
        for batch in args.batch:
            bodies = batches(lines, batch)
            api[batch] = []
            for run in range(args.runs):
                path = scratch / f"api-{batch}-{run}"
                seconds, accepted, count = api_run(bodies, warm, token, workspace, path,
                                                   args.clients, args.threads)
                if not accepted == count == args.events:
                    raise RuntimeError(f"sent {args.events}, accepted {accepted}, "
                                       f"stored {count}")
                api[batch].append(args.events / seconds)
                print(f"API, {batch:,} per request, run {run + 1}: "
                      f"{api[batch][-1]:,.0f} events/s ({seconds:.1f} s), {count:,} stored",
                      flush=True)
                shutil.rmtree(path, ignore_errors=True)
        bodies = batches(lines, max(args.batch))
        for fmt in ("json", "arrow"):
            hand[fmt] = []
            for run in range(args.runs):
                path = scratch / f"hand-{fmt}-{run}"
                seconds, count, total = hand_run(bodies, workspace, path, args.hand_chunk,
                                                 fmt)
                if not count == total == args.events:
                    raise RuntimeError(f"inserted {count} by hand, {total} stored")
                hand[fmt].append(args.events / seconds)
                print(f"hand-written insert ({fmt}), run {run + 1}: {hand[fmt][-1]:,.0f} "
                      f"events/s ({seconds:.1f} s)", flush=True)
                shutil.rmtree(path, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    by_format = {fmt: statistics.median(rates) for fmt, rates in hand.items()}
    best = max(by_format, key=by_format.get)
    baseline = by_format[best]
    print()
    print(f"machine:  {machine()}")
    print(f"events:   {args.events:,} per run from {source.name}, {size:,.0f} bytes each, "
          f"median of {args.runs} runs")
    print(f"server:   gunicorn 1 worker, {args.threads} threads, embedded engine (chDB); "
          f"{args.clients} client threads")
    for batch, rates in api.items():
        rate = statistics.median(rates)
        print(f"API:      {rate:,.0f} events/s at {batch:,} per request "
              f"(ratio to hand {rate / baseline:.2f})")
    for fmt, rate in by_format.items():
        print(f"hand:     {rate:,.0f} events/s ({'JSONEachRow text' if fmt == 'json' else 'Arrow'}"
              f", {args.hand_chunk:,} rows per INSERT){' <- the baseline' if fmt == best else ''}")
    print("targets:  API >= 50,000 events/s and >= 0.5 x hand")


if __name__ == "__main__":
    main()
