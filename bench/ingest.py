"""Ingestion benchmark: alerts/s through the HTTP API (gunicorn) vs hand-written COPY.

    .venv/bin/python bench/ingest.py [--alerts 20000] [--batch 500] [--runs 3]

It creates a scratch PostgreSQL database, starts gunicorn on it, posts N
Defender-format alerts (six entities each, in batches) through POST
/api/v1/alerts, and in the same run writes the same rows (alerts, payloads,
entities, identifiers, mentions, relations) with hand-written COPY. It prints
alerts/s for both, their ratio, and the machine. Never run by the test suite.
"""

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, Queue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alertgen import make_alerts  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "socbench")  # a name of your own on a shared server
PORT = 8765
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-" + "k" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "socconsole.settings",
    # As in production, correlation goes to the queue (no worker runs here: the benchmark
    # measures ingestion alone; bench/correlate.py measures correlation).
    "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13"),
    # Several processes (gunicorn workers, Celery) cannot share the embedded events
    # engine: as in docker-compose, a ClickHouse server (this benchmark sends no events).
    "EVENTS_URL": os.environ.get("BENCH_EVENTS_URL", "clickhouse://soc:soc@127.0.0.1:8123/soc"),
    "LOG_LEVEL": "WARNING",
}


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, env=ENV, cwd=ROOT, **kwargs)


def timed(fn, repeat):
    """(median ms, p95 ms, the last call's result) of `repeat` calls of `fn`."""
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], result


def machine():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def setup_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    sh(sys.executable, "manage.py", "migrate", "-v0")


def django_setup():
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    import django

    django.setup()


def make_subscription(name, with_token):
    from inventory.activity import Actor
    from inventory.subscriptions import create_subscription
    from inventory.tokens import create_token

    actor = Actor.of_system("bench")
    sub = create_subscription(name=name, actor=actor)
    token = create_token(subscription=sub, name="bench", actor=actor)[1] if with_token else None
    return sub, token


class Server:
    """gunicorn serving the console on `port` with `env`, until stop(); `threads` above
    one runs gunicorn's threaded worker (gthread)."""

    def __init__(self, workers, env=None, port=PORT, threads=1):
        # The gunicorn installed beside this interpreter (the project's virtualenv).
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen(
            [str(gunicorn), "socconsole.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--threads", str(threads), "--timeout", "300",
             "--log-level", "warning"], env=env or ENV, cwd=ROOT)
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up ({self.proc.returncode})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def post_bodies(path, bodies, token, clients, *, port=PORT, content_type="application/json",
                keys=("accepted", "duplicates", "rejected")):
    """POST the bodies to `path` from `clients` keep-alive connections; returns (seconds,
    {key: sum of the answers' key}). Any answer but 200 fails the run."""
    queue, totals, errors = Queue(), dict.fromkeys(keys, 0), []
    for body in bodies:
        queue.put(body)
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        while True:
            try:
                body = queue.get_nowait()
            except Empty:
                return
            conn.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": content_type})
            response = conn.getresponse()
            answer = json.loads(response.read())
            with lock:
                if response.status != 200:
                    errors.append((response.status, str(answer)[:500]))
                    continue
                for key in totals:
                    totals[key] += answer[key]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, first: {errors[0]}")
    return elapsed, totals


def post_all(bodies, token, clients):
    """Post alert bodies to the ingestion API; returns (seconds, totals)."""
    return post_bodies("/api/v1/alerts", bodies, token, clients)


def entity_key(kind, e, host):
    """The one identifier the hand-written path needs: it knows the generator's shapes."""
    if kind == "host":
        return f"host|name-ntdomain|{host}|bench"
    if kind == "account":
        return f"account|name-ntdomain|{e['Name']}|bench"
    if kind == "ip":
        return f"ip|address|{e['Address']}"
    if kind == "file":
        return f"file|path|{e['Directory'].lower()}|{e['Name']}|{host}"
    if kind == "filehash":
        return f"filehash|sha256|{e['Value']}"
    return f"process|pid-time-host|{e['ProcessId']}|{e['CreationTimeUtc']}|{host}"


def copy_baseline(bodies, subscription_id):
    """The same rows written by hand: json.loads, dedupe entities in a dict, COPY."""
    import psycopg

    start = time.perf_counter()
    now = datetime.now(UTC)
    alerts, payloads, entities, identifiers, mentions, relations = [], [], [], [], [], []
    entity_ids = {}
    with psycopg.connect(f"{PG}/{DB}") as conn, conn.cursor() as cur:

        def ids(table, n):
            cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                        "FROM generate_series(1, %s)", [n])
            return [r[0] for r in cur.fetchall()]

        items = [item for body in bodies for item in json.loads(body)]
        alert_ids = iter(ids("alerts_alert", len(items)))
        mention_ids = iter(ids("alerts_alertentity", sum(len(i["Entities"]) for i in items)))
        entity_pool = iter(ids("alerts_entity", len(items) * 6))
        for item in items:
            alert_id = next(alert_ids)
            t = item["TimeGenerated"]
            alerts.append((alert_id, subscription_id, item["SystemAlertId"], "export",
                           item["ProductName"], item["AlertDisplayName"], item["Description"],
                           {"High": 0, "Medium": 1, "Low": 2}.get(item["Severity"], 3), "active",
                           json.dumps([item["Intent"]]), t, t, t, now, t,
                           json.dumps(item["RemediationSteps"]),
                           json.dumps(item["ExtendedProperties"]), item["CompromisedEntity"],
                           item["AzureResourceId"], now, now))
            payloads.append((alert_id, json.dumps(item).encode()))
            by_ref = {}
            host = item["Entities"][0]["HostName"].lower()
            for position, e in enumerate(item["Entities"]):
                kind = e["Type"]
                key = entity_key(kind, e, host)
                entity_id = entity_ids.get(key)
                if entity_id is None:
                    entity_id = entity_ids[key] = next(entity_pool)
                    label = e.get("HostName") or e.get("Name") or e.get("Address") or \
                        e.get("Value") or e.get("CommandLine")
                    entities.append((entity_id, subscription_id, kind, label,
                                     json.dumps({k: v for k, v in e.items()
                                                 if not isinstance(v, dict | list)}), True, t, t))
                    identifiers.append((subscription_id, entity_id, key, True, False))
                mention_id = next(mention_ids)
                by_ref[e["$id"]] = mention_id
                mentions.append((mention_id, alert_id, entity_id, position, kind, "",
                                 json.dumps(e), "new", ""))
            refs = item["Entities"]
            relations.append((subscription_id, alert_id, by_ref["5"], by_ref["6"], "has_hash",
                              "FileHashes", "", False))
            for prop, target, rtype in (("Host", "2", "runs_on"), ("Account", "3", "runs_as"),
                                        ("ImageFile", "5", "image")):
                relations.append((subscription_id, alert_id, by_ref["7"], by_ref[target], rtype,
                                  prop, "", False))
            del refs
        copies = [
            ("alerts_alert (id, subscription_id, key, format, provider, display_name, "
             "description, severity, status, tactics, start_time, end_time, detected_time, "
             "ingested_at, time, remediation_steps, extended_properties, compromised_entity, "
             "resource_ref, first_seen, last_seen, product, vendor, alert_type, "
             "provider_status, techniques, extended_links, correlation_key, alert_uri, "
             "occurrence_count, warnings, verdict)",
             [a + ("", "", "", "", "[]", "[]", "", "", 1, "[]", "") for a in alerts]),
            ("alerts_awaitingcorrelation (alert_id, subscription_id)",
             [(a[0], subscription_id) for a in alerts]),
            ("alerts_alertpayload (alert_id, body)", payloads),
            ("alerts_entity (id, subscription_id, kind, label, props, known, first_seen, "
             "last_seen)", entities),
            ("alerts_entityidentifier (subscription_id, entity_id, value, strong, name_only)",
             identifiers),
            ("alerts_alertentity (id, alert_id, entity_id, position, kind, label, props, "
             "matched_by, matched_on)", mentions),
            ("alerts_relation (subscription_id, alert_id, source_id, target_id, type, prop, "
             "target_ref, in_cycle)", relations),
        ]
        for target, rows in copies:
            t = time.perf_counter()
            with cur.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if os.environ.get("BENCH_VERBOSE"):
                print(f"  COPY {target.split()[0]}: {len(rows)} rows "
                      f"{time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        conn.commit()
        if os.environ.get("BENCH_VERBOSE"):
            print(f"  commit {time.perf_counter() - t:.2f} s; prepare "
                  f"{t - start:.2f} s")
    return time.perf_counter() - start, len(items)


def _flush_queue():
    try:
        import redis

        redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()
    except Exception as exc:  # noqa: BLE001 — cleaning up is best effort
        print(f"(could not empty the benchmark's queue: {exc})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--clients", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    setup_database()
    django_setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        backend = f"PostgreSQL {cursor.fetchone()[0]}"
    connection.close()
    server = Server(args.workers)
    api_rates, copy_rates = [], []
    try:
        warm_sub, warm_token = make_subscription("bench-warm", True)
        post_all([json.dumps(make_alerts(50, prefix="warm")).encode()] * 4, warm_token,
                 args.clients)
        for run in range(args.runs):
            alerts = make_alerts(args.alerts, seed=run, prefix=f"run{run}")
            bodies = [json.dumps(alerts[i:i + args.batch]).encode()
                      for i in range(0, len(alerts), args.batch)]
            _, token = make_subscription(f"bench-api-{run}", True)
            copy_sub, _ = make_subscription(f"bench-copy-{run}", False)
            connection.close()
            elapsed, totals = post_all(bodies, token, args.clients)
            assert totals["accepted"] == args.alerts, totals
            api_rates.append(args.alerts / elapsed)
            copy_elapsed, n = copy_baseline(bodies, copy_sub.pk)
            copy_rates.append(n / copy_elapsed)
            print(f"run {run + 1}: API {api_rates[-1]:,.0f} alerts/s ({elapsed:.1f} s), "
                  f"COPY {copy_rates[-1]:,.0f} alerts/s ({copy_elapsed:.1f} s)", flush=True)
    finally:
        server.stop()
        _flush_queue()
    api, copy = statistics.median(api_rates), statistics.median(copy_rates)
    print()
    print(f"machine:  {machine()}")
    print(f"backend:  {backend}; gunicorn {args.workers} workers, {args.clients} clients")
    print(f"alerts:   {args.alerts} per run, batches of {args.batch}, {args.runs} runs, "
          "about 6 entities each")
    print(f"API:      {api:,.0f} alerts/s (median)")
    print(f"COPY:     {copy:,.0f} alerts/s (median, hand-written)")
    print(f"ratio:    {api / copy:.2f} (target >= 0.25; API target >= 2,000 alerts/s)")


if __name__ == "__main__":
    main()
