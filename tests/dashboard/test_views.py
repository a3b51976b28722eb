import re
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert, SuppressionRule
from dashboard.figures import figures, percentile, window
from incidents.models import Incident
from inventory.models import Resource, Subscription
from search.models import EventDay
from socconsole.lib.bulk import bulk_insert

NOW = timezone.now()
# The alerts of the last two days, (severity, status, verdict, type, time); the expected
# days and hours are counted from these times, so the tests hold at any time of day.
RECENT = [
    (0, "active", "", "Brute_Force", NOW - timedelta(minutes=2)),
    (0, "active", "", "Brute_Force", NOW - timedelta(minutes=1)),
    (1, "dismissed", "false_positive", "Brute_Force", NOW - timedelta(days=1)),
    (2, "active", "", "Port_Scan", NOW - timedelta(days=1, hours=1)),
    (3, "resolved", "", "Port_Scan", NOW - timedelta(minutes=3)),
]
_keys = iter(range(1, 10**6))


def alerts(sub, resource, rows):
    """rows: (severity, status, verdict, alert_type, time)."""
    bulk_insert(Alert, ("subscription_id", "resource_id", "key", "format", "provider",
                        "display_name", "alert_type", "severity", "status", "verdict",
                        "tactics", "time", "ingested_at", "start_time", "first_seen",
                        "last_seen"),
                [(sub.pk, resource.pk, f"k-{next(_keys)}", "native", "test", t, t, sev,
                  status, verdict, [], when, when, when, when, when)
                 for sev, status, verdict, t, when in rows])


def incident(sub, *, severity=0, status="active", created=NOW, escalated=False, assigned=None,
             acknowledged=None):
    return Incident.objects.create(
        subscription=sub, title="i", severity=severity, status=status, first_time=created,
        last_time=created, last_activity=created, created_at=created, escalated=escalated,
        assigned_to=assigned, acknowledged_at=acknowledged)


def log(inc, verb, at):
    # The log's created_at is set by the database's clock otherwise; a raw INSERT places
    # an entry at a chosen time (the table refuses UPDATE).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_activity (subscription_id, actor_kind, actor_label, verb, "
            "target_type, target_id, target_label, reason, created_at) VALUES "
            "(%s, 'user', 'analyst', %s, 'incident', %s, 'i', '', %s)",
            [inc.subscription_id, verb, str(inc.pk),
             connection.ops.adapt_datetimefield_value(at)])


@pytest.fixture
def data(p):
    """A small subscription whose every figure is known; `other` holds decoys."""
    vm = Resource.objects.create(subscription=p.sub, kind="virtual_machine", name="vm-1")
    decoy = Resource.objects.create(subscription=p.other, kind="virtual_machine", name="vm-x")
    alerts(p.sub, vm, [*RECENT,
                       (1, "active", "", "Old_Type", NOW - timedelta(days=40))])  # too old
    alerts(p.other, decoy, [(0, "active", "", "Brute_Force", NOW - timedelta(hours=1))] * 5)
    # High: acknowledged after 10, 20 and 60 minutes; two resolved after 1 h and 3 h.
    for minutes, resolve in ((10, 60), (20, 180), (60, None)):
        start = NOW - timedelta(days=2)
        inc = incident(p.sub, severity=0, status="resolved" if resolve else "active",
                       created=start, acknowledged=start + timedelta(minutes=minutes),
                       assigned=p.analyst)
        log(inc, "incident.comment", start + timedelta(minutes=minutes))
        log(inc, "incident.take", start + timedelta(minutes=minutes + 5))
        if resolve:
            log(inc, "incident.resolve", start + timedelta(minutes=resolve))
    # Medium: escalated, unassigned, never acknowledged, overdue (60-minute target).
    incident(p.sub, severity=1, created=NOW - timedelta(hours=5), escalated=True)
    # An action logged before the incident (re)entered the queue does not count.
    early = incident(p.sub, severity=2, created=NOW - timedelta(hours=1))
    log(early, "incident.take", NOW - timedelta(hours=2))
    # Too old for the response times, still active.
    old = incident(p.sub, severity=3, created=NOW - timedelta(days=45), assigned=p.lead)
    log(old, "incident.take", NOW - timedelta(days=44))
    incident(p.other, severity=0, escalated=True)
    SuppressionRule.objects.create(subscription=p.sub, alert_type="Port_Scan", reason="x",
                                   expires_at=NOW + timedelta(days=3), matched=7)
    SuppressionRule.objects.create(subscription=p.sub, alert_type="Brute_Force", reason="x",
                                   expires_at=NOW + timedelta(days=3), matched=0)
    SuppressionRule.objects.create(subscription=p.other, alert_type="Other", reason="x",
                                   expires_at=NOW + timedelta(days=3), matched=99)
    default = p.sub.workspaces.get(is_default=True)
    busy = p.sub.workspaces.create(name="busy", workspace_id="00000000-0000-4000-8000-0000000000b1")
    EventDay.objects.create(workspace=busy, table_name="SecurityEvent", day=NOW.date(),
                            events=3, first_ingested_at=NOW - timedelta(hours=2),
                            last_ingested_at=NOW - timedelta(hours=1))
    EventDay.objects.create(workspace=default, table_name="SecurityEvent", day=NOW.date(),
                            events=3, first_ingested_at=NOW - timedelta(days=3),
                            last_ingested_at=NOW - timedelta(hours=30))
    return p


def test_it_counts_active_incidents_and_alerts_by_severity(data):
    f = figures(data.sub, NOW)
    assert f.incidents == {0: 1, 1: 1, 2: 1, 3: 1}
    assert f.alerts == {0: 2, 1: 1, 2: 1, 3: 0}
    assert (f.escalated, f.overdue, f.unassigned) == (1, 2, 2)


def test_it_counts_new_alerts_per_day_and_hour(data):
    f = figures(data.sub, NOW)
    assert len(f.days) == 30 and f.days[0][0] == window(NOW).date()
    per_day = Counter((when.date(), sev) for sev, _, _, _, when in RECENT)
    assert {(day, sev): n for day, counts in f.days for sev, n in counts.items() if n} == \
        per_day
    assert f.hours == [sum(1 for *_, when in RECENT if when.hour == h) for h in range(24)]
    assert sum(f.hours) == 5


def test_it_derives_response_times_from_the_activity_log(data):
    f = figures(data.sub, NOW)
    high = f.acknowledge[0]
    # percentile_cont over 600, 1200, 3600 s: median 1200, p90 1200 + 0.8 * 2400.
    assert (high.count, high.median, high.p90, high.target) == (3, 1200.0, 3120.0, 900.0)
    resolved = f.resolve[0]
    assert (resolved.count, resolved.median, resolved.p90) == (2, 7200.0, 10080.0)
    assert f.acknowledge[1].count == 0 and f.acknowledge[1].median is None
    assert f.acknowledge[2].count == 0  # its action predates its entry into the queue
    assert f.acknowledge[3].count == 0  # came in before the 30 days


def test_percentile_interpolates_as_postgresql_does():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10], 0.9) == 10
    assert percentile([], 0.5) is None


def test_it_ranks_noisy_types_rules_and_silent_workspaces(data):
    f = figures(data.sub, NOW)
    assert f.noisiest == [("Brute_Force", 3, 1), ("Port_Scan", 2, 0)]
    assert [(r.alert_type, r.matched) for r in f.rules] == [("Port_Scan", 7)]
    assert f.workspaces == 2
    assert [w.name for w, _ in f.silent_workspaces] == [data.sub.workspaces.get(
        is_default=True).name]


def test_alerts_without_a_type_are_not_a_noisy_type(data):
    vm = Resource.objects.get(name="vm-1")
    alerts(data.sub, vm, [(3, "active", "", "", NOW - timedelta(hours=2))] * 6)
    assert figures(data.sub, NOW).noisiest == [("Brute_Force", 3, 1), ("Port_Scan", 2, 0)]


def test_it_shows_the_plan_and_the_resources_not_monitored(data):
    f = figures(data.sub, NOW)
    assert f.defender_plan == {"on": True, "since": data.sub.created_at}
    assert f.not_monitored == 0
    Subscription.objects.filter(pk=data.sub.pk).update(defender_plan=False,
                                                       defender_plan_changed_at=NOW)
    Resource.objects.filter(subscription=data.sub, name="vm-1").update(collecting=False)
    data.sub.refresh_from_db()
    f = figures(data.sub, NOW)
    assert f.defender_plan == {"on": False, "since": NOW} and f.not_monitored == 1


def _link(html, anchor):
    return re.search(rf'href="([^"]+)" id="{anchor}"', html).group(1).replace("&amp;", "&")


def _rows(client, url):
    html = client.get(url).content.decode()
    return len(re.findall(r'<tr class="row-(?:active|dismissed|resolved)"', html))


def test_every_number_links_to_a_list_that_counts_the_same(data, as_user):
    client = as_user(data.analyst)
    response = client.get(f"/s/{data.sub.pk}/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    expect = {"fig-incidents": 4, "fig-incidents-high": 1, "fig-alerts": 4,
              "fig-alerts-high": 2, "fig-alerts-informational": 0, "fig-escalated": 1,
              "fig-overdue": 2, "fig-unassigned": 2, "fig-30d": 5}
    for anchor, n in expect.items():
        assert re.search(rf'id="{anchor}"[^>]*>{n}<', html), anchor
        assert _rows(client, _link(html, anchor)) == n, anchor
    day = NOW.date().isoformat()
    highs = sum(1 for sev, *_, when in RECENT if sev == 0 and when.date() == NOW.date())
    bar = re.search(rf'href="([^"]+since={day}[^"]+)" aria-label="{day}: {highs} high of ', html)
    assert _rows(client, bar.group(1).replace("&amp;", "&")) == highs
    fp = re.search(r'href="([^"]+verdict=false_positive)">33 %', html).group(1)
    assert _rows(client, fp.replace("&amp;", "&")) == 1


def test_it_escapes_hostile_alert_types_in_the_svg_and_tables(data, as_user):
    vm = Resource.objects.get(name="vm-1")
    hostile = '<script>alert(1)</script>"><svg onload=x>'
    alerts(data.sub, vm, [(0, "active", "", hostile, NOW - timedelta(hours=5))] * 9)
    html = as_user(data.analyst).get(f"/s/{data.sub.pk}/dashboard/").content.decode()
    assert "<script>alert(1)" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;svg onload=x&gt;" in html
    assert "<style" not in html and " style=" not in html


def test_an_outsider_gets_404_and_other_subscriptions_never_count(data, as_user):
    assert as_user(data.outsider).get(f"/s/{data.sub.pk}/dashboard/").status_code == 404
    html = as_user(data.outsider).get(f"/s/{data.other.pk}/dashboard/").content.decode()
    assert re.search(r'id="fig-alerts-high"[^>]*>5<', html)
    assert re.search(r'id="fig-escalated"[^>]*>1<', html)
    assert "Port_Scan" not in html


def test_it_refuses_post(data, as_user):
    assert as_user(data.analyst).post(f"/s/{data.sub.pk}/dashboard/").status_code == 405


def test_the_number_of_queries_does_not_grow_with_the_data(data, as_user):
    client = as_user(data.lead)
    url = f"/s/{data.sub.pk}/dashboard/"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    vm = Resource.objects.get(name="vm-1")
    alerts(data.sub, vm, [(s % 4, "active", "", f"T{s}", NOW - timedelta(hours=s))
                          for s in range(300)])
    for i in range(40):
        inc = incident(data.sub, severity=i % 4, created=NOW - timedelta(hours=i + 1))
        log(inc, "incident.take", NOW - timedelta(hours=i))
    for i in range(8):
        SuppressionRule.objects.create(subscription=data.sub, alert_type=f"T{i}", reason="x",
                                       expires_at=NOW + timedelta(days=3), matched=i + 1,
                                       resource=vm)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small) <= 16


def test_sign_in_lands_on_the_dashboard_with_the_queue_one_click_away(data, as_user):
    client = as_user(data.analyst)
    assert client.get("/")["Location"] == f"/s/{data.sub.pk}/dashboard/"
    html = client.get(f"/s/{data.sub.pk}/dashboard/").content.decode()
    nav = html.split('class="mainnav"')[1].split("</nav>")[0]
    assert nav.index("Dashboard") < nav.index("Queue")
    assert f'href="/s/{data.sub.pk}/queue/"' in nav
