"""Investigation map benchmark: build and lay out the map of incidents of 10, 100 and 1,000
alerts, and one expansion of a host seen in 10,000 alerts, on a scratch PostgreSQL.

    .venv/bin/python bench/investigation.py [--runs 5] [--busy 10000]

Alerts are ingested the way producers send them (alerts.ingest), so entities, mentions
and relations are the real rows; each incident's alerts share a host and an account and
name a process and file of their own. Server time is measured in process around the
domain functions the views call (build + layout; expand + connect + layout), as the
median of --runs runs. Never run by the test suite.
"""

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import ENV, PG, machine  # noqa: E402

DB = "socme_invbench"  # its own scratch database: other benchmarks may run meanwhile


def setup_database():
    import os
    import subprocess

    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    env = {**ENV, "DATABASE_URL": f"{PG}/{DB}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=env,
                   cwd=ROOT)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    import django

    django.setup()


def alerts_for(prefix, count, host, busy_host=None):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = []
    for i in range(count):
        entities = [
            {"$id": "1", "Type": "host", "HostName": host, "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "account", "Name": f"user{i % 7}", "NTDomain": "CONTOSO"},
            {"$id": "3", "Type": "ip", "Address": f"10.{i % 250}.{i // 250 % 250}.7"},
            {"$id": "4", "Type": "process", "ProcessId": str(1000 + i),
             "CommandLine": f"tool{i % 40}.exe --run {i}",
             "CreationTimeUtc": (start + timedelta(minutes=i)).strftime(
                 "%Y-%m-%dT%H:%M:%SZ"), "Host": {"$ref": "1"}, "Account": {"$ref": "2"},
             "ImageFile": {"$id": "5", "Type": "file", "Name": f"tool{i % 40}.exe",
                           "Directory": "C:\\Tools"}},
        ]
        if busy_host:
            entities.append({"$id": "6", "Type": "host", "HostName": busy_host,
                             "NTDomain": "CONTOSO"})
        items.append({"id": f"{prefix}-{i}", "display_name": f"{prefix} alert {i % 13}",
                      "severity": ("high", "medium", "low")[i % 3],
                      "alert_type": "Bench_Alert", "compromised_entity": host,
                      "start_time": (start + timedelta(minutes=i)).strftime(
                          "%Y-%m-%dT%H:%M:%SZ"), "entities": entities})
    return items


def ingest(subscription, items):
    from alerts.ingest.store import ingest_body
    from inventory.activity import Actor

    for offset in range(0, len(items), 500):
        ingest_body(subscription, json.dumps(items[offset:offset + 500]).encode(),
                    "application/json", actor=Actor.of_system("bench"))


def one_incident(subscription, prefix, count):
    """`count` alerts on one host within minutes, correlated into one incident."""
    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    ingest(subscription, alerts_for(prefix, count, f"vm-{prefix}"))
    correlate(subscription_id=subscription.pk)
    ids = set(IncidentAlert.objects.filter(alert__key__startswith=f"{prefix}-")
              .values_list("incident_id", flat=True))
    from incidents.models import Incident

    return Incident.objects.filter(pk__in=ids).order_by("-alert_count").first()


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", type=int, default=10_000)
    args = parser.parse_args()
    setup_database()
    from alerts.models import Entity
    from inventory.activity import Actor
    from inventory.subscriptions import create_subscription
    from investigation import layout
    from investigation.actions import initial_map
    from investigation.expand import expand

    sub = create_subscription(name="bench-investigation", actor=Actor.of_system("bench"))
    print(f"machine: {machine()}")
    print(f"date:    {datetime.now(UTC):%Y-%m-%d}; median of {args.runs} runs\n")
    for count in (10, 100, 1000):
        incident = one_incident(sub, f"inc{count}", count)
        m = initial_map(incident=incident)
        median, low, high = timed(lambda incident=incident: initial_map(incident=incident),
                                  args.runs)
        print(f"incident of {incident.alert_count:>5,} alerts: build + layout "
              f"{median:7.1f} ms (min {low:.1f}, max {high:.1f}); "
              f"{m.g.number_of_nodes()} nodes, {m.g.number_of_edges()} edges", flush=True)
        if count == 100:
            # The same incident drawn whole, without collapsing by kind: what the target
            # would cost if the page showed every node at once.
            full = {"max_alerts": 10**6, "max_entities": 10**6}
            m = initial_map(incident=incident, **full)
            median, low, high = timed(
                lambda incident=incident, full=full: initial_map(incident=incident, **full),
                args.runs)
            print(f"  … drawn whole: build + layout {median:7.1f} ms (min {low:.1f}, "
                  f"max {high:.1f}); {m.g.number_of_nodes()} nodes, "
                  f"{m.g.number_of_edges()} edges", flush=True)

    # A host named in 10,000 alerts, beside a small incident that also names it.
    print(f"\nseeding {args.busy:,} alerts that name vm-busy …", flush=True)
    ingest(sub, alerts_for("busy", args.busy, "vm-noise", busy_host="vm-busy"))
    incident = one_incident(sub, "small", 5)
    ingest(sub, [{**alerts_for("link", 1, "vm-small")[0],
                  "entities": [{"$id": "1", "Type": "host", "HostName": "vm-busy",
                                "NTDomain": "CONTOSO"}]}])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    busy = Entity.objects.get(subscription=sub, kind="host", label="vm-busy")
    start = initial_map(incident=incident)
    start.add_node(f"entity:{busy.pk}", "host", "vm-busy")
    start.add_edge(start.root, f"entity:{busy.pk}", "involves")
    layout.place(start)
    state = start.to_state()

    def expansion():
        from investigation.graph import Map

        m = Map.from_state(state)
        added = expand(m, sub.pk, f"entity:{busy.pk}", incident_id=incident.pk)
        layout.place(m, added, around=f"entity:{busy.pk}")
        return m, added

    m, added = expansion()
    median, low, high = timed(expansion, args.runs)
    more = m.node(f"more:entity:{busy.pk}")["label"] if f"more:entity:{busy.pk}" in m.g \
        else "none"
    print(f"expansion of a host in {args.busy:,} alerts: {median:7.1f} ms (min {low:.1f}, "
          f"max {high:.1f}); {len(added)} nodes added, summary {more}")


if __name__ == "__main__":
    main()
