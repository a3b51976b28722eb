"""Activity log benchmark: the filtered activity page and its CSV export on PostgreSQL.

    .venv/bin/python bench/activity.py [--rows 1000000] [--subscriptions 10] [--export 100000]

Seeds activity rows with COPY (nine in ten in the measured subscription, the worst
case for its filters), then measures through Django's test client the activity
page, unfiltered and with each filter, as median and p95 server time with the page's
database time; beside it, in the same run, the page's main query written by hand.
Then a CSV export of about `--export` rows, streamed to the end, beside a hand-written
`COPY (SELECT …) TO STDOUT WITH CSV` of the same rows. Never run by the test suite.
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

from bench.ingest import machine, timed  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_ACTIVITY_DB", "socbench_activity")
REPEAT = 15
EXPORT_REPEAT = 3

# Verbs by weight, as a busy subscription writes them: ingestion and triage dominate,
# settings and people changes are rare.
VERBS = [("alerts.ingest", 300), ("alert.dismiss", 200), ("alert.resolve", 150),
         ("alert.activate", 30), ("alert.comment", 60), ("incident.resolve", 60),
         ("incident.escalate", 20), ("incident.acknowledge", 20), ("incident.assign", 40),
         ("incident.comment", 40), ("investigation.start", 30), ("investigation.expand", 40),
         ("suppression.create", 5), ("token.create", 2), ("token.revoke", 1),
         ("membership.grant", 1), ("workspace.retention", 1), ("events.retention", 5)]
TARGET = {"alerts": "subscription", "alert": "alert", "incident": "incident",
          "investigation": "investigation", "suppression": "suppression_rule",
          "token": "token", "membership": "user", "workspace": "workspace",
          "events": "workspace"}


def setup_database(env):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, env=env,
                   cwd=ROOT)


def seed(rows, subscriptions):
    from django.db import connection

    from inventory.activity import Actor
    from inventory.models import Activity
    from inventory.subscriptions import create_subscription
    from socconsole.lib.bulk import bulk_insert

    rng = random.Random(13)
    subs = [create_subscription(name=f"audit-{i}", actor=Actor.of_system("bench"))
            for i in range(subscriptions)]
    verbs = [v for v, _ in VERBS]
    weights = [w for _, w in VERBS]
    users = [f"analyst-{i}" for i in range(200)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    span = 300 * 86400
    chunk = 100_000
    for offset in range(0, rows, chunk):
        n = min(chunk, rows - offset)
        batch = []
        for i, verb in zip(range(offset, offset + n), rng.choices(verbs, weights, k=n),
                           strict=True):
            sub = subs[0] if rng.random() < 0.9 else rng.choice(subs[1:] or subs)
            if verb == "alerts.ingest":
                kind, actor = "token", f"token feed-{i % 5} (service)"
            elif verb.endswith("retention"):
                kind, actor = "system", "retention"
            else:
                kind, actor = "user", rng.choice(users)
            t = start + timedelta(seconds=rng.randrange(span))
            status = verb.split(".")[1]
            batch.append((sub.pk, kind, actor, verb, TARGET[verb.split(".")[0]], str(i),
                          f"Target {i % 997}", "", {"status": "active"}, {"status": status},
                          t))
        bulk_insert(Activity, ("subscription_id", "actor_kind", "actor_label", "verb",
                               "target_type", "target_id", "target_label", "reason",
                               "before", "after", "created_at"), batch)
        print(f"  seeded {offset + n:,} activity rows", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_activity")
    return subs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--export", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database the last run seeded, without seeding it")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "SECRET_KEY": "bench-only-" + "k" * 50,
           "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "false",
           "DJANGO_SETTINGS_MODULE": "socconsole.settings", "LOG_LEVEL": "WARNING",
           "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/13")}
    if not args.reuse:
        setup_database(env)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    # Plain static files storage (no collectstatic); DEBUG stays off (no query log).
    os.environ["DJANGO_SETTINGS_MODULE"] = "socconsole.settings_test"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from inventory.activity import Actor
    from inventory.models import Subscription
    from inventory.people import grant_role

    if args.reuse:
        sub = Subscription.objects.get(name="audit-0")
        user = get_user_model().objects.get(username="bench-auditor")
    else:
        sub = seed(args.rows, args.subscriptions)[0]
        user = get_user_model().objects.create_user("bench-auditor", password="x" * 20)
        grant_role(subscription=sub, user=user, role="analyst",
                   actor=Actor.of_system("bench"))
    client = Client()
    client.force_login(user)
    base = f"/s/{sub.pk}/activity/"
    main_sql = ("SELECT * FROM inventory_activity WHERE subscription_id = %s{} "
                "ORDER BY created_at DESC, id DESC LIMIT 51")
    alert_verbs = [v for v, _ in VERBS if v.startswith("alert.")]
    cases = {
        "no filter": ("", "", []),
        "actor (a user)": ("actor=analyst-7", " AND actor_label = %s", ["analyst-7"]),
        "verb (common)": ("verb=alert.dismiss", " AND verb = %s", ["alert.dismiss"]),
        "verb (rare)": ("verb=token.revoke", " AND verb = %s", ["token.revoke"]),
        "verb prefix alert.": ("verb=alert.", " AND verb = ANY(%s)", [alert_verbs]),
        "target kind": ("target=incident", " AND target_type = %s", ["incident"]),
        "one day": ("since=2026-06-01&until=2026-06-01",
                    " AND created_at >= %s AND created_at < %s",
                    ["2026-06-01T00:00Z", "2026-06-02T00:00Z"]),
        "actor + prefix + range": ("actor=analyst-7&verb=incident.&since=2026-03-01"
                                   "&until=2026-09-30",
                                   " AND actor_label = %s AND verb = ANY(%s)"
                                   " AND created_at >= %s AND created_at < %s",
                                   ["analyst-7", [v for v, _ in VERBS
                                                  if v.startswith("incident.")],
                                    "2026-03-01T00:00Z", "2026-10-01T00:00Z"]),
    }
    print(f"\nmachine: {machine()}")
    print(f"data:    {args.rows:,} activity rows, {args.subscriptions} subscriptions (90% in "
          f"the one measured); {REPEAT} requests per case\n")
    for name, (query, where, params) in cases.items():
        db_ms = []

        def request(query=query, db_ms=db_ms):
            spent = [0.0]

            def clock(execute, statement, bound, many, context):
                started = time.perf_counter()
                try:
                    return execute(statement, bound, many, context)
                finally:
                    spent[0] += time.perf_counter() - started

            with connection.execute_wrapper(clock):
                response = client.get(f"{base}?{query}")
            assert response.status_code == 200, response.content[:500]
            db_ms.append(spent[0] * 1000)

        median, p95, _ = timed(request, REPEAT)
        sql, values = main_sql.format(where), [sub.pk, *params]

        def raw(sql=sql, values=values):
            with connection.cursor() as c:
                c.execute(sql, values)
                c.fetchall()
        raw_median, _, _ = timed(raw, REPEAT)
        with connection.cursor() as c:
            c.execute("EXPLAIN " + sql, values)
            plan = " ".join(line[0].strip() for line in c.fetchall()[:3])
        index = next((w for w in plan.split() if w.startswith("activity_")), "no index")
        print(f"{name:<24} page median {median:6.1f} ms  p95 {p95:6.1f} ms  | page's database "
              f"time {statistics.median(db_ms):5.1f} ms  | main query by hand "
              f"{raw_median:5.1f} ms ({index})", flush=True)

    # The export: the newest entries since the day that holds about `--export` of them.
    with connection.cursor() as c:
        c.execute("SELECT created_at FROM inventory_activity WHERE subscription_id = %s "
                  "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1", [sub.pk, args.export])
        found = c.fetchone()
    since = found[0] if found else datetime(2026, 1, 1, tzinfo=UTC)
    since_text = since.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def export():
        response = client.get(f"{base}export.csv", {"since": since_text})
        count = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
        return count

    median, _, count = timed(export, EXPORT_REPEAT)

    def copy():
        out = 0
        with connection.cursor() as c, c.connection.cursor().copy(
                "COPY (SELECT created_at, actor_label, verb, target_type, target_id, "
                "target_label, reason, before, after FROM inventory_activity "
                "WHERE subscription_id = %s AND created_at >= %s "
                "ORDER BY created_at DESC, id DESC) TO STDOUT WITH CSV HEADER",
                [sub.pk, since]) as stream:
            for data in stream:
                out += bytes(data).count(b"\n")
        return out - 1

    copy_median, _, copied = timed(copy, EXPORT_REPEAT)
    print(f"\nCSV export of {count:,} rows: median {median:7.0f} ms ({count / median * 1000:,.0f} "
          f"rows/s)  | hand-written COPY of {copied:,} rows {copy_median:5.0f} ms "
          f"(ratio {median / copy_median:.1f}); {EXPORT_REPEAT} runs", flush=True)


if __name__ == "__main__":
    main()
