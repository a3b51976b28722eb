"""Queue benchmark: the triage queue page over a large PostgreSQL database.

    .venv/bin/python bench/triage.py [--alerts 1000000] [--subscriptions 50] [--resources 5000]

Seeds alerts and their incidents with COPY (a standalone alert is an incident of
one; every fourth alert joins a small incident), then measures the queue page
through Django's test client — first page, a deep keyset page, and with
filters — as median and p95 server time, queries per page and the page's
database time, and beside them, in the same run, the same queries written by
hand. Never run by the test
suite.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import ENV, machine, setup_database, timed  # noqa: E402

REPEAT = 30


def seed(alerts, subscriptions, resources):
    from django.db import connection

    from alerts.models import Alert
    from incidents.models import Incident, IncidentAlert
    from inventory.activity import Actor
    from inventory.models import Resource
    from inventory.subscriptions import create_subscription
    from socconsole.lib.bulk import bulk_insert

    rng = random.Random(7)
    subs = [create_subscription(name=f"queue-{i}", actor=Actor.of_system("bench"))
            for i in range(subscriptions)]
    res = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id"), [
        (subs[i % subscriptions].pk, "virtual_machine", f"vm-{i}", "")
        for i in range(resources)])
    sub_of = {r: subs[i % subscriptions].pk for i, r in enumerate(res)}
    start, now = datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC)
    chunk = 100_000
    for offset in range(0, alerts, chunk):
        n = min(chunk, alerts - offset)
        rows, incidents = [], []
        for i in range(offset, offset + n):
            r = rng.choice(res)
            t = start + timedelta(seconds=rng.randrange(300 * 86400))
            sev = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 3, 3))
            status = "active" if rng.random() < 0.3 else rng.choice(("dismissed", "resolved"))
            rows.append((sub_of[r], r, f"q-{i}", "native", "bench", f"Alert {i % 97}", sev,
                         status, ["Execution"], t, now, t, now, now))
            incidents.append((sub_of[r], r, True, f"Alert {i % 97}", sev, status,
                              ["Execution"], 1, int(status == "active"), t, t, t, now))
        ids = bulk_insert(Alert, ("subscription_id", "resource_id", "key", "format",
                                  "provider", "display_name", "severity", "status", "tactics",
                                  "time", "ingested_at", "start_time", "first_seen",
                                  "last_seen"), rows)
        inc = bulk_insert(Incident, ("subscription_id", "resource_id", "standalone", "title",
                                     "severity", "status", "tactics", "alert_count",
                                     "active_count", "first_time", "last_time", "last_activity",
                                     "created_at"), incidents)
        bulk_insert(IncidentAlert, ("incident_id", "alert_id", "subscription_id", "time"),
                    [(inc_id, alert_id, row[0], row[9]) for inc_id, alert_id, row
                     in zip(inc, ids, rows, strict=True)])
        print(f"  seeded {offset + n:,} alerts", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return subs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=50)
    parser.add_argument("--resources", type=int, default=5000)
    args = parser.parse_args()
    setup_database()
    os.environ.update({k: v for k, v in ENV.items() if k != "PATH"})
    os.environ["ALLOWED_HOSTS"] = "testserver"
    # Plain static files storage (no collectstatic); DEBUG stays off (no query log).
    os.environ["DJANGO_SETTINGS_MODULE"] = "socconsole.settings_test"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inventory.activity import Actor
    from inventory.people import grant_role

    subs = seed(args.alerts, args.subscriptions, args.resources)
    sub = subs[0]
    user = get_user_model().objects.create_user("bench-analyst", password="x" * 20)
    grant_role(subscription=sub, user=user, role="analyst", actor=Actor.of_system("bench"))
    client = Client()
    client.force_login(user)

    first = client.get(f"/s/{sub.pk}/queue/").content.decode()
    cursor = first.split("cursor=")[1].split('"')[0]
    for _ in range(20):  # walk 20 pages deep for the "deep" case
        page = client.get(f"/s/{sub.pk}/queue/?cursor={cursor}").content.decode()
        cursor = page.split("cursor=")[1].split('"')[0]
    cases = {
        "first page": f"/s/{sub.pk}/queue/",
        "21st page (keyset)": f"/s/{sub.pk}/queue/?cursor={cursor}",
        "filter: high, active": f"/s/{sub.pk}/queue/?severity=high&status=active",
        "filter: resource": f"/s/{sub.pk}/queue/?resource="
                            f"{sub.resources.first().pk}&status=active&status=dismissed",
    }
    session_key = client.cookies["sessionid"].value

    def by_hand(main, main_params):
        """Every query the page makes, written by hand: the session and user, the
        subscription and the user's memberships, the saved view, the page itself, the
        counts by severity, the handover note."""
        return [
            ("SELECT session_data FROM django_session WHERE session_key = %s "
             "AND expire_date > now()", [session_key]),
            ("SELECT * FROM auth_user WHERE id = %s", [user.pk]),
            ("SELECT * FROM inventory_subscription WHERE id = %s", [sub.pk]),
            ("SELECT subscription_id, role FROM inventory_membership WHERE user_id = %s",
             [user.pk]),
            ("SELECT * FROM incidents_savedview WHERE subscription_id = %s AND user_id = %s",
             [sub.pk, user.pk]),
            (main, main_params),
            ("SELECT severity, count(*) FROM incidents_incident WHERE subscription_id = %s "
             "AND status = 'active' GROUP BY severity", [sub.pk]),
            ("SELECT h.*, u.username FROM incidents_handovernote h LEFT JOIN auth_user u "
             "ON u.id = h.author_id WHERE h.subscription_id = %s ORDER BY h.created_at DESC "
             "LIMIT 1", [sub.pk]),
            ("SELECT m.*, s.name FROM inventory_membership m JOIN inventory_subscription s "
             "ON s.id = m.subscription_id WHERE m.user_id = %s ORDER BY s.name", [user.pk]),
        ]

    sql = {
        "first page": by_hand(
            "SELECT i.*, r.name FROM incidents_incident i LEFT JOIN inventory_resource r "
            "ON r.id = i.resource_id WHERE i.subscription_id = %s AND i.status = 'active' "
            "ORDER BY i.severity, i.last_activity DESC, i.id DESC LIMIT 51", [sub.pk]),
        "filter: high, active": by_hand(
            "SELECT i.*, r.name FROM incidents_incident i LEFT JOIN inventory_resource r "
            "ON r.id = i.resource_id WHERE i.subscription_id = %s AND i.status = 'active' "
            "AND i.severity = 0 ORDER BY i.severity, i.last_activity DESC, i.id DESC "
            "LIMIT 51", [sub.pk]),
    }
    print(f"\nmachine: {machine()}")
    print(f"data:    {args.alerts:,} alerts and incidents, {args.subscriptions} subscriptions, "
          f"{args.resources:,} resources; {REPEAT} requests per case\n")
    for name, url in cases.items():
        db_ms = []

        def request(url=url, db_ms=db_ms):
            spent = [0.0]

            def clock(execute, sql, params, many, context):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    spent[0] += time.perf_counter() - started

            reset_queries()
            with connection.execute_wrapper(clock), CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            db_ms.append(spent[0] * 1000)
            return len(ctx.captured_queries)
        median, p95, queries = timed(request, REPEAT)
        line = (f"{name:<22} page median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries} queries"
                f"  | page's database time {statistics.median(db_ms):5.1f} ms")
        if name in sql:
            statements = sql[name]

            def raw(statements=statements):
                with connection.cursor() as c:
                    for text, params in statements:
                        c.execute(text, params)
                        c.fetchall()
                return len(statements)
            raw_median, _, _ = timed(raw, REPEAT)
            line += (f"  | the same {len(statements)} queries by hand {raw_median:5.1f} ms "
                     f"(ratio {statistics.median(db_ms) / raw_median:.2f})")
        print(line, flush=True)


if __name__ == "__main__":
    main()
