"""Correlation benchmark: alerts/s of incidents.correlation at two sizes.

    .venv/bin/python bench/correlate.py [--sizes 20000,100000] [--resources 5000] [--runs 3]

For each size it writes that many alerts awaiting correlation straight into a
scratch PostgreSQL database of its own with COPY (spread over the resources,
times over 30 days, so most resources gather several incidents), then times
`correlate()` until nothing waits; with several runs it prints the median per
size. The tables are analysed after seeding, as autovacuum would after a bulk
load; where autovacuum is off, the tables correlation churns are vacuumed every
100,000 alerts within the timed span. The cost per alert must not grow with the
total. Never run by the test suite.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ingest  # noqa: E402
from bench.ingest import PG, machine  # noqa: E402

DB = "socbench_correlate"
ENV = {**ingest.ENV, "DATABASE_URL": f"{PG}/{DB}"}


def setup_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=ENV,
                   cwd=ROOT)


def seed(size, resources, run):
    """`size` alerts in a fresh subscription, written with COPY; returns the subscription."""
    from inventory.activity import Actor
    from inventory.models import Resource
    from inventory.subscriptions import create_subscription
    from socconsole.lib.bulk import bulk_insert

    sub = create_subscription(name=f"correlate-{run}-{size}", actor=Actor.of_system("bench"))
    ids = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id"), [
        (sub.pk, "virtual_machine", f"vm-{run}-{i}", "") for i in range(resources)])
    rng = random.Random(size)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    rows = []
    for i in range(size):
        t = start + timedelta(seconds=rng.randrange(30 * 86400))
        rows.append((sub.pk, rng.choice(ids), f"c{run}-{size}-{i}", "native", "bench",
                     f"Alert {i % 50}", rng.randrange(4), "active",
                     [rng.choice(["Execution", "Discovery", "CredentialAccess"])], t, now, t,
                     now, now))
    from alerts.models import Alert, AwaitingCorrelation

    ids = bulk_insert(Alert, ("subscription_id", "resource_id", "key", "format", "provider",
                              "display_name", "severity", "status", "tactics", "time",
                              "ingested_at", "start_time", "first_seen", "last_seen"), rows)
    AwaitingCorrelation.add(sub.pk, ids, new=True)
    # As autovacuum would soon after a bulk load: without statistics the planner takes a
    # freshly loaded table for a small one.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE alerts_alert, alerts_awaitingcorrelation")
    return sub


VACUUM_EVERY = 100_000
CHURNED = ("alerts_awaitingcorrelation", "incidents_incident", "incidents_incidentalert")


def autovacuum_off():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "off"


def vacuum():
    """What autovacuum would do on the tables correlation churns (it is off on some
    machines, where dead rows pile up and statistics never change): returns the time."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED)}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--resources", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    setup_database()
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    import django

    django.setup()
    from incidents.correlation import correlate
    from incidents.models import Incident

    print(f"machine: {machine()}")
    print(f"backend: {PG}/{DB}, {args.resources} resources, alerts over 30 days")
    rates = {size: [] for size in sizes}
    stand_in = autovacuum_off()
    if stand_in:
        print(f"autovacuum is off: VACUUM ANALYZE every {VACUUM_EVERY:,} alerts, timed")
    for run in range(args.runs):
        for size in sizes:
            sub = seed(size, args.resources, f"{run}-{size}")
            started = time.perf_counter()
            done, vacuumed, cleaning = 0, 0, 0.0
            while step := correlate(subscription_id=sub.pk, limit=5000):
                done += step
                if stand_in and done - vacuumed >= VACUUM_EVERY:
                    cleaning += vacuum()
                    vacuumed = done
            elapsed = time.perf_counter() - started
            rates[size].append(done / elapsed)
            incidents = Incident.objects.filter(subscription=sub)
            print(f"run {run + 1}: {size:>9,} alerts: {done / elapsed:,.0f} alerts/s "
                  f"({elapsed:.1f} s); {incidents.filter(standalone=False).count():,} "
                  f"incidents, {incidents.filter(standalone=True).count():,} standalone"
                  + (f"; {cleaning:.1f} s of it in VACUUM" if stand_in else ""), flush=True)
    if args.runs > 1:
        for size in sizes:
            print(f"median: {size:>9,} alerts: {statistics.median(rates[size]):,.0f} alerts/s")


if __name__ == "__main__":
    main()
