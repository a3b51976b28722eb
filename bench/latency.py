"""Latency benchmark: from an alert's POST to the queue and to its incident, end to end.

    .venv/bin/python bench/latency.py [--rate 200] [--seconds 60] [--batch 20] [--runs 3]

It creates a scratch PostgreSQL database, starts gunicorn (2 workers) and a real
Celery worker (`celery -A socconsole worker`, 2 processes) on Redis, then posts
Defender-format alerts through POST /api/v1/alerts at a steady rate (a batch
every batch/rate seconds, on a fixed schedule that does not wait for slow
answers) for the given time. A watcher polls the database every 50 ms and notes,
per alert, when it first shows in the queue (its row is in the queue's query:
the subscription's active incidents, a standalone alert being an incident of
one) and when it first belongs to an incident of several alerts (correlated).
Both are measured from the POST's answer. Prints p50/p95/max per run and the
median of the runs. Never run by the test suite.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alertgen import make_alerts  # noqa: E402
from bench.ingest import machine  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "socme_latency"
PORT = 8767
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB}",
    "SECRET_KEY": "bench-only-" + "l" * 50,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "DJANGO_SETTINGS_MODULE": "socconsole.settings",
    "CELERY_BROKER_URL": os.environ.get("BENCH_LATENCY_BROKER", "redis://127.0.0.1:6379/12"),
    # Several processes (gunicorn workers, Celery) cannot share the embedded events
    # engine: as in docker-compose, a ClickHouse server (this benchmark sends no events).
    "EVENTS_URL": os.environ.get("BENCH_EVENTS_URL", "clickhouse://soc:soc@127.0.0.1:8123/soc"),
    "LOG_LEVEL": "WARNING",
    # No collectstatic for a benchmark: whitenoise's warning about it is noise here.
    "PYTHONWARNINGS": "ignore:No directory at",
}
POLL = 0.05
# The watcher's question, asked of the queue's own table: which of these alerts have a
# row in the subscription's queue (active incidents), and is that row an incident of
# several alerts?
IN_QUEUE = ("SELECT m.alert_id, i.standalone FROM incidents_incidentalert m "
            "JOIN incidents_incident i ON i.id = m.incident_id "
            "WHERE m.alert_id = ANY(%s) AND i.subscription_id = %s AND i.status = 'active'")


def sh(*args):
    subprocess.run(args, check=True, env=ENV, cwd=ROOT)


def setup_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    sh(sys.executable, "manage.py", "migrate", "-v0")


def drop_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def flush_broker():
    import redis

    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()


def make_subscription(name):
    from django.db import connection

    from inventory.activity import Actor
    from inventory.subscriptions import create_subscription
    from inventory.tokens import create_token

    actor = Actor.of_system("bench")
    sub = create_subscription(name=name, actor=actor)
    token = create_token(subscription=sub, name="bench", actor=actor)[1]
    connection.close()
    return sub.pk, token


class Processes:
    """gunicorn and the Celery worker, each in its own process group."""

    def __init__(self, web_workers, concurrency):
        self.procs = []
        self.start([str(ROOT / ".venv/bin/gunicorn"), "socconsole.wsgi:application", "-b",
                    f"127.0.0.1:{PORT}", "-w", str(web_workers), "--timeout", "120",
                    "--log-level", "warning"])
        self.start([str(ROOT / ".venv/bin/celery"), "-A", "socconsole", "--quiet", "worker",
                    f"--concurrency={concurrency}", "--loglevel=warning", "--without-gossip",
                    "--without-mingle", "-n", f"latency-{os.getpid()}@%h"])
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        from socconsole.celery import app

        for _ in range(150):
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError("the Celery worker did not start")

    def start(self, args):
        self.procs.append(subprocess.Popen(args, env=ENV, cwd=ROOT, start_new_session=True))

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()  # the master stops its own children (warm shutdown)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Run:
    """One run: a sender on a fixed schedule, senders that post, a watcher that polls."""

    def __init__(self, sub_id, token, bodies, interval, senders):
        self.sub_id, self.token, self.bodies, self.interval = sub_id, token, bodies, interval
        self.answered = {}        # alert id -> monotonic time of its POST's answer
        self.queued = {}          # alert id -> first seen in the queue
        self.correlated = {}      # alert id -> first seen in an incident of several alerts
        self.late = []            # how late each POST left against its schedule
        self.errors = []
        self.lock = threading.Lock()
        self.todo = Queue()
        self.senders = senders
        self.posting = True

    def send(self):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        while (job := self.todo.get()) is not None:
            due, body = job
            self.late.append(time.monotonic() - due)
            try:
                conn.request("POST", "/api/v1/alerts", body=body, headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = json.loads(response.read())
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                continue
            now = time.monotonic()
            if response.status != 200 or answer["accepted"] != len(answer["results"]):
                self.errors.append((response.status, str(answer)[:300]))
                continue
            with self.lock:
                for result in answer["results"]:
                    self.answered[result["id"]] = now

    def watch(self):
        import psycopg

        with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
            while True:
                with self.lock:
                    open_ids = [i for i in self.answered if i not in self.correlated]
                if not open_ids and not self.posting:
                    return
                if open_ids:
                    rows = conn.execute(IN_QUEUE, [open_ids, self.sub_id]).fetchall()
                    now = time.monotonic()
                    for alert_id, standalone in rows:
                        self.queued.setdefault(alert_id, now)
                        if not standalone:
                            self.correlated[alert_id] = now
                if not self.posting and time.monotonic() > self.give_up:
                    return
                time.sleep(POLL)

    def go(self, drain):
        threads = [threading.Thread(target=self.send) for _ in range(self.senders)]
        watcher = threading.Thread(target=self.watch)
        for t in threads:
            t.start()
        watcher.start()
        start = time.monotonic()
        for k, body in enumerate(self.bodies):
            due = start + k * self.interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self.todo.put((due, body))
        for _ in threads:
            self.todo.put(None)
        for t in threads:
            t.join()
        self.elapsed = time.monotonic() - start
        self.give_up = time.monotonic() + drain
        self.posting = False
        watcher.join()

    def figures(self):
        def stats(seen):
            waits = sorted(seen[i] - self.answered[i] for i in seen)
            if not waits:
                return None
            return {"p50": statistics.median(waits),
                    "p95": waits[max(0, int(len(waits) * 0.95) - 1)], "max": waits[-1],
                    "n": len(waits)}

        return {"posted": len(self.answered), "elapsed": self.elapsed,
                "queue": stats(self.queued), "incident": stats(self.correlated),
                "late_p95": sorted(self.late)[int(len(self.late) * 0.95) - 1],
                "errors": len(self.errors)}


def line(name, s, total):
    if s is None:
        return f"  {name:<9} none seen"
    missing = f", {total - s['n']} never" if s["n"] < total else ""
    return (f"  {name:<9} p50 {s['p50']:6.2f} s  p95 {s['p95']:6.2f} s  "
            f"max {s['max']:6.2f} s{missing}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200, help="alerts per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery processes")
    parser.add_argument("--senders", type=int, default=4, help="client threads")
    parser.add_argument("--drain", type=int, default=120,
                        help="seconds to wait, after posting, for the rest to be correlated")
    args = parser.parse_args()
    total = args.rate * args.seconds

    flush_broker()
    setup_database()
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    import django

    django.setup()
    processes = Processes(args.web_workers, args.concurrency)
    results = []
    try:
        warm_id, warm_token = make_subscription("latency-warm")
        Run(warm_id, warm_token, [json.dumps(make_alerts(args.batch, prefix="warm"))
                                  .encode()] * 5, 0.1, 1).go(drain=10)
        for run in range(args.runs):
            sub_id, token = make_subscription(f"latency-{run}")
            alerts = make_alerts(total, seed=run, prefix=f"latency{run}")
            bodies = [json.dumps(alerts[i:i + args.batch]).encode()
                      for i in range(0, total, args.batch)]
            current = Run(sub_id, token, bodies, args.batch / args.rate, args.senders)
            current.go(drain=args.drain)
            f = current.figures()
            results.append(f)
            print(f"run {run + 1}: {f['posted']:,} alerts posted in {f['elapsed']:.1f} s "
                  f"({f['posted'] / f['elapsed']:,.0f}/s; sends late p95 "
                  f"{f['late_p95'] * 1000:.0f} ms; {f['errors']} errors)", flush=True)
            print(line("queue", f["queue"], total), flush=True)
            print(line("incident", f["incident"], total), flush=True)
    finally:
        processes.stop()
        flush_broker()
        drop_database()

    def median(kind, key):
        values = [r[kind][key] for r in results if r[kind] is not None]
        return statistics.median(values) if values else float("nan")

    print()
    print(f"machine:  {machine()}")
    print(f"setup:    PostgreSQL, gunicorn {args.web_workers} workers, Celery worker "
          f"{args.concurrency} processes on Redis; {args.rate} alerts/s for {args.seconds} s "
          f"in batches of {args.batch}, {args.runs} runs")
    for kind, target in (("queue", 2), ("incident", 10)):
        p95 = median(kind, "p95")
        print(f"{kind + ':':<9} p50 {median(kind, 'p50'):.2f} s, p95 {p95:.2f} s, max "
              f"{median(kind, 'max'):.2f} s (medians of the runs; target p95 < {target} s: "
              f"{'met' if p95 < target else 'NOT met'})")


if __name__ == "__main__":
    main()
