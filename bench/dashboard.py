"""Dashboard benchmark: a subscription's dashboard over a large PostgreSQL database.

    .venv/bin/python bench/dashboard.py [--alerts 1000000] [--incidents 100000]
        [--subscriptions 50] [--resources 5000]

Seeds alerts, incidents of ten alerts each, their activity (taken, and resolved or
dismissed), suppression rules and event days with COPY, the times spread over the
last 120 days so that the dashboard's 30 days hold a quarter; then requests the
dashboard through Django's test client as bench/triage.py does the queue: median and
p95 server time, queries per page, the page's database time, and beside them, in
the same run, the same queries written by hand. Never run by the test suite.
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
SPAN_DAYS = 120


def seed(alerts, incidents, subscriptions, resources):
    from django.db import connection

    from alerts.models import Alert, SuppressionRule
    from incidents.models import Incident, IncidentAlert
    from inventory.activity import Actor
    from inventory.models import Activity, Resource
    from inventory.subscriptions import create_subscription
    from search.models import EventDay
    from socconsole.lib.bulk import bulk_insert

    rng = random.Random(13)
    subs = [create_subscription(name=f"dash-{i}", actor=Actor.of_system("bench"))
            for i in range(subscriptions)]
    res = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id"), [
        (subs[i % subscriptions].pk, "virtual_machine", f"vm-{i}", "")
        for i in range(resources)])
    sub_of = {r: subs[i % subscriptions].pk for i, r in enumerate(res)}
    now = datetime.now(UTC)
    per_incident = max(alerts // incidents, 1)
    chunk = 10_000  # incidents per COPY
    made = 0
    for offset in range(0, incidents, chunk):
        n = min(chunk, incidents - offset)
        inc_rows, plans = [], []
        for _ in range(n):
            r = rng.choice(res)
            start = now - timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
            sev = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 3, 3))
            status = "active" if rng.random() < 0.3 else rng.choice(("dismissed", "resolved"))
            ack = start + timedelta(seconds=rng.randrange(60, 4 * 3600)) \
                if status != "active" or rng.random() < 0.5 else None
            closed = start + timedelta(seconds=rng.randrange(3600, 3 * 86400)) \
                if status != "active" else None
            last = start + timedelta(minutes=per_incident)
            inc_rows.append((sub_of[r], r, False, f"Incident on vm {r}", sev, status,
                             ["Execution"], per_incident, per_incident if status == "active"
                             else 0, start, last, last, start, ack, rng.random() < 0.03,
                             None))
            plans.append((sub_of[r], r, start, sev, status, ack, closed))
        inc_ids = bulk_insert(Incident, ("subscription_id", "resource_id", "standalone",
                                         "title", "severity", "status", "tactics",
                                         "alert_count", "active_count", "first_time",
                                         "last_time", "last_activity", "created_at",
                                         "acknowledged_at", "escalated", "assigned_to_id"),
                              inc_rows)
        alert_rows, activity = [], []
        for inc_id, (sub, r, start, sev, status, ack, closed) in zip(inc_ids, plans,
                                                                      strict=True):
            for k in range(per_incident):
                made += 1
                t = start + timedelta(minutes=k)
                kind = rng.randrange(97)
                verdict = ("false_positive" if kind % 3 == 0 else "benign_positive") \
                    if status == "dismissed" else ""
                alert_rows.append((sub, r, f"d-{made}", "native", "bench", f"Alert {kind}",
                                   f"Bench_Type_{kind}", sev, status, verdict, ["Execution"],
                                   t, t, t, t, t))
            if ack:
                activity.append((sub, "user", "bench-analyst", "incident.take", "incident",
                                 str(inc_id), "i", "", ack))
            if closed:
                verb = "incident.resolve" if status == "resolved" else "incident.dismiss"
                activity.append((sub, "user", "bench-analyst", verb, "incident", str(inc_id),
                                 "i", "", closed))
        alert_ids = bulk_insert(Alert, (
            "subscription_id", "resource_id", "key", "format", "provider", "display_name",
            "alert_type", "severity", "status", "verdict", "tactics", "time", "ingested_at",
            "start_time", "first_seen", "last_seen"), alert_rows)
        bulk_insert(IncidentAlert, ("incident_id", "alert_id", "subscription_id", "time"), [
            (inc_ids[i // per_incident], a, row[0], row[11])
            for i, (a, row) in enumerate(zip(alert_ids, alert_rows, strict=True))])
        # COPY writes created_at as given (the ORM would stamp it now).
        bulk_insert(Activity, ("subscription_id", "actor_kind", "actor_label", "verb",
                               "target_type", "target_id", "target_label", "reason",
                               "created_at"), activity)
        print(f"  seeded {offset + n:,} incidents, {made:,} alerts", flush=True)
    bulk_insert(SuppressionRule, ("subscription_id", "alert_type", "reason", "expires_at",
                                  "created_at", "matched"), [
        (s.pk, f"Bench_Type_{k}", "bench", now + timedelta(days=30), now, rng.randrange(500))
        for s in subs for k in range(20)])
    days = [(now - timedelta(days=d)).date() for d in range(SPAN_DAYS)]
    bulk_insert(EventDay, ("workspace_id", "table_name", "day", "events",
                           "first_ingested_at", "last_ingested_at"), [
        (w.pk, table, day, 1000, now, now - timedelta(hours=rng.choice((1, 30))))
        for s in subs for w in s.workspaces.all() for table in ("SecurityEvent", "Syslog")
        for day in days])
    # As autovacuum leaves a table at rest: statistics, and the visibility map that lets
    # a count read an index alone.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return subs


def by_hand(sub, user, session_key, since, now):
    """Every query the page makes, written by hand."""
    human = ("incident.take", "incident.assign", "incident.comment", "incident.escalate",
             "incident.dismiss", "incident.resolve", "incident.activate")
    sla = [(0, 15), (1, 60), (2, 240), (3, 1440)]
    overdue = " OR ".join(f"(severity = {r} AND created_at < %s)" for r, _ in sla)
    return [
        ("SELECT session_data FROM django_session WHERE session_key = %s "
         "AND expire_date > now()", [session_key]),
        ("SELECT * FROM auth_user WHERE id = %s", [user.pk]),
        ("SELECT * FROM inventory_subscription WHERE id = %s", [sub.pk]),
        ("SELECT subscription_id, role FROM inventory_membership WHERE user_id = %s",
         [user.pk]),
        ("SELECT severity, count(*), count(*) FILTER (WHERE escalated), "
         f"count(*) FILTER (WHERE acknowledged_at IS NULL AND ({overdue})), "
         "count(*) FILTER (WHERE assigned_to_id IS NULL) FROM incidents_incident "
         "WHERE subscription_id = %s AND status = 'active' GROUP BY severity",
         [now - timedelta(minutes=m) for _, m in sla] + [sub.pk]),
        ("SELECT severity, count(*) FROM alerts_alert WHERE subscription_id = %s "
         "AND status = 'active' GROUP BY severity", [sub.pk]),
        ("SELECT date_trunc('hour', time AT TIME ZONE 'UTC'), severity, count(*) "
         "FROM alerts_alert WHERE subscription_id = %s AND time >= %s GROUP BY 1, 2",
         [sub.pk, since]),
        ("SELECT severity, count(ack), percentile_cont(0.5) WITHIN GROUP (ORDER BY ack), "
         "percentile_cont(0.9) WITHIN GROUP (ORDER BY ack), count(res), "
         "percentile_cont(0.5) WITHIN GROUP (ORDER BY res), "
         "percentile_cont(0.9) WITHIN GROUP (ORDER BY res) FROM ("
         "SELECT i.severity, EXTRACT(EPOCH FROM min(a.created_at) FILTER (WHERE a.verb = "
         "ANY(%s)) - i.created_at) ack, CASE WHEN i.status <> 'active' THEN EXTRACT(EPOCH "
         "FROM max(a.created_at) FILTER (WHERE a.verb IN ('incident.resolve', "
         "'incident.dismiss')) - i.created_at) END res FROM incidents_incident i "
         "JOIN inventory_activity a ON a.target_type = 'incident' AND a.target_id = "
         "i.id::text AND a.subscription_id = i.subscription_id AND a.created_at >= "
         "i.created_at AND a.created_at >= %s WHERE i.subscription_id = %s "
         "AND i.created_at >= %s GROUP BY i.id) per GROUP BY severity",
         [list(human), since, sub.pk, since]),
        ("SELECT alert_type, count(*), count(*) FILTER (WHERE verdict = 'false_positive') "
         "FROM alerts_alert WHERE subscription_id = %s AND time >= %s GROUP BY alert_type "
         "ORDER BY 2 DESC, 1 LIMIT 8", [sub.pk, since]),
        ("SELECT r.*, res.name FROM alerts_suppressionrule r LEFT JOIN inventory_resource "
         "res ON res.id = r.resource_id WHERE r.subscription_id = %s AND r.matched > 0 "
         "ORDER BY r.matched DESC, r.id LIMIT 5", [sub.pk]),
        ("SELECT * FROM inventory_workspace WHERE subscription_id = %s ORDER BY name",
         [sub.pk]),
        ("SELECT d.workspace_id, max(d.last_ingested_at) FROM search_eventday d JOIN "
         "inventory_workspace w ON w.id = d.workspace_id WHERE w.subscription_id = %s "
         "GROUP BY d.workspace_id", [sub.pk]),
        ("SELECT m.*, s.name FROM inventory_membership m JOIN inventory_subscription s "
         "ON s.id = m.subscription_id WHERE m.user_id = %s ORDER BY s.name", [user.pk]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=100_000)
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
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dashboard.figures import window
    from inventory.activity import Actor
    from inventory.people import grant_role

    started = time.perf_counter()
    subs = seed(args.alerts, args.incidents, args.subscriptions, args.resources)
    print(f"  seeded in {time.perf_counter() - started:.0f} s")
    sub = subs[0]
    user = get_user_model().objects.create_user("bench-lead", password="x" * 20)
    grant_role(subscription=sub, user=user, role="shift_lead", actor=Actor.of_system("bench"))
    client = Client()
    client.force_login(user)
    url = f"/s/{sub.pk}/dashboard/"
    assert client.get(url).status_code == 200
    session_key = client.cookies["sessionid"].value
    db_ms = []

    def request():
        spent = [0.0]

        def clock(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += time.perf_counter() - began

        with connection.execute_wrapper(clock), CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        db_ms.append(spent[0] * 1000)
        return len(ctx.captured_queries)

    now = timezone.now()
    statements = by_hand(sub, user, session_key, window(now), now)

    def raw():
        with connection.cursor() as c:
            for text, params in statements:
                c.execute(text, params)
                c.fetchall()
        return len(statements)

    print(f"\nmachine: {machine()}")
    print(f"data:    {args.alerts:,} alerts in {args.incidents:,} incidents, "
          f"{args.subscriptions} subscriptions, {args.resources:,} resources; "
          f"{REPEAT} requests\n")
    median, p95, queries = timed(request, REPEAT)
    raw_median, _, _ = timed(raw, REPEAT)
    print(f"dashboard  page median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries} queries"
          f"  | page's database time {statistics.median(db_ms):5.1f} ms"
          f"  | the same {len(statements)} queries by hand {raw_median:5.1f} ms "
          f"(ratio {statistics.median(db_ms) / raw_median:.2f})", flush=True)


if __name__ == "__main__":
    main()
