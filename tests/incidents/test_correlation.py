import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.test import override_settings

from alerts.models import Alert, AwaitingCorrelation
from incidents.correlation import correlate, correlate_resource
from incidents.models import Incident, IncidentAlert
from inventory.models import Activity
from tests.alerts import helpers
from tests.factories import native_alert


@pytest.fixture(autouse=True)
def _commit_hooks(request, django_capture_on_commit_callbacks):
    # Ingest queues correlation on commit; run those hooks as a real commit would.
    global _capture
    _capture = django_capture_on_commit_callbacks


def ingest(subscription, payload):
    with _capture(execute=True):
        return helpers.ingest(subscription, payload)

T0 = "2026-11-20T10:00:00Z"


def at(hours):
    from datetime import datetime

    return (datetime.fromisoformat(T0.replace("Z", "+00:00")) + timedelta(hours=hours))\
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def alert(hours, host="vm-a", **fields):
    fields.setdefault("tactics", [])
    return native_alert(start_time=at(hours), compromised_entity=host,
                        entities=[{"$id": "1", "Type": "host", "HostName": host}], **fields)


def incident_of(key):
    return IncidentAlert.objects.get(alert__key=key).incident


def test_related_alerts_form_one_incident_and_a_lone_one_stands_alone(p):
    ingest(p.sub, [alert(0, id="a1", severity="low", tactics=["PreAttack"]),
                   alert(3, id="a2", severity="high", tactics=["CredentialAccess"]),
                   alert(5, host="vm-b", id="b1")])
    together = incident_of("a1")
    assert together == incident_of("a2") and not together.standalone
    assert together.alert_count == 2 and together.severity == 0  # the worst alert's
    assert together.title == "Security incident detected on vm-a"
    codes = [r["code"] for r in together.reasons]
    assert codes[:2] == ["same_resource", "within_window"] and "kill_chain" in codes
    assert together.tactics == ["PreAttack", "CredentialAccess"]
    alone = incident_of("b1")
    assert alone.standalone and alone.alert_count == 1 and alone.title.startswith("Test alert")
    assert not AwaitingCorrelation.objects.exists()


@override_settings(CORRELATION_WINDOW_HOURS=24)
def test_alerts_further_apart_than_the_window_stay_apart(p):
    ingest(p.sub, [alert(0, id="x1"), alert(30, id="x2")])
    assert incident_of("x1") != incident_of("x2")


def test_a_late_alert_joins_and_a_bridge_merges(p):
    ingest(p.sub, [alert(0, id="m1"), alert(2, id="m2")])
    ingest(p.sub, [alert(60, id="m3"), alert(62, id="m4")])
    first, second = incident_of("m1"), incident_of("m3")
    assert first != second
    ingest(p.sub, [alert(4, id="late")])
    assert incident_of("late") == first and first.members.count() == 3
    ingest(p.sub, [alert(26, id="bridge-1"), alert(45, id="bridge-2")])
    survivor = incident_of("m1")
    assert survivor.pk == first.pk  # the older one survives
    assert {m.alert.key for m in survivor.members.select_related("alert")} == \
        {"m1", "m2", "late", "bridge-1", "bridge-2", "m3", "m4"}
    assert not Incident.objects.filter(pk=second.pk).exists()
    assert Activity.objects.filter(verb="incident.merge", target_id=str(first.pk)).exists()


def test_a_bridge_keeps_the_incident_an_analyst_works_on_else_the_larger(p):
    ingest(p.sub, [alert(0, id="s1"), alert(2, id="s2")])
    ingest(p.sub, [alert(60, id="l1"), alert(62, id="l2"), alert(64, id="l3")])
    small, large = incident_of("s1"), incident_of("l1")
    ingest(p.sub, [alert(20, id="b1")])  # bridges nothing yet: within 24 h of s2 only
    ingest(p.sub, [alert(40, id="b2")])  # within 24 h of b1 and of l1
    assert incident_of("l1") == small  # 3 alerts against 3: the older survives
    assert not Incident.objects.filter(pk=large.pk).exists()
    ingest(p.sub, [alert(100, id="x1"), alert(101, id="x2"), alert(102, id="x3"),
                   alert(103, id="x4"), alert(104, id="x5"), alert(105, id="x6")])
    ingest(p.sub, [alert(200, id="y1"), alert(201, id="y2")])
    big, worked = incident_of("x1"), incident_of("y1")
    Incident.objects.filter(pk=worked.pk).update(assigned_to=p.analyst)
    ingest(p.sub, [alert(125, id="z1"), alert(148, id="z2"), alert(170, id="z3"),
                   alert(190, id="z4")])
    assert incident_of("x1") == incident_of("y1") == worked  # an analyst's, though smaller
    assert not Incident.objects.filter(pk=big.pk).exists()
    ingest(p.sub, [alert(300, id="q1"), alert(302, id="q2")])
    ingest(p.sub, [alert(350, id=f"r{i}") for i in range(4)])
    older, larger = incident_of("q1"), incident_of("r0")
    ingest(p.sub, [alert(326, id="qr")])
    assert incident_of("q1") == larger  # nobody's: the larger survives, fewer alerts move
    assert not Incident.objects.filter(pk=older.pk).exists()


def test_a_provider_incident_holds_its_alerts_whatever_their_times(p):
    ingest(p.sub, [alert(0, id="p1"), alert(100, id="p2")])
    assert incident_of("p1") != incident_of("p2")
    ingest(p.sub, {"SystemAlertId": "inc-9", "AlertDisplayName": "Security incident detected",
                   "Severity": "High", "IsIncident": True, "ProductName": "Defender for Cloud",
                   "Entities": [{"$id": "1", "Type": "alerts",
                                 "SystemAlertIds": ["p1", "p2"]}]})
    held = incident_of("p1")
    assert held == incident_of("p2") and held.provider_key == "inc-9"
    assert any(r["code"] == "provider" for r in held.reasons)


def test_a_new_alert_reopens_a_dismissed_incident_and_says_so(p):
    from django.utils import timezone

    ingest(p.sub, [alert(0, id="d1"), alert(1, id="d2")])
    incident = incident_of("d1")
    long_ago = timezone.now() - timedelta(days=2)
    Incident.objects.filter(pk=incident.pk).update(
        status="dismissed", verdict="false_positive", acknowledged_at=long_ago,
        created_at=long_ago, last_activity=long_ago)
    ingest(p.sub, [alert(2, id="d3")])
    incident.refresh_from_db()
    assert incident.status == "active" and incident.verdict == ""
    reopen = Activity.objects.get(verb="incident.reopen", target_id=str(incident.pk))
    assert "new alert" in reopen.reason
    # Unacknowledged work again, in the queue since the new alert came (not overdue yet).
    arrived = Alert.objects.get(key="d3").ingested_at
    assert incident.acknowledged_at is None and incident.created_at == arrived
    assert incident.last_activity == arrived


def test_a_suppressed_alert_does_not_move_its_incident_up(p):
    from datetime import timedelta as td

    from django.utils import timezone

    ingest(p.sub, [alert(0, id="s1"), alert(1, id="s2")])
    incident = incident_of("s1")
    before = timezone.now() - td(hours=1)
    Incident.objects.filter(pk=incident.pk).update(last_activity=before)
    ingest(p.sub, [alert(2, id="s3", status="Dismissed")])  # closed on arrival
    incident.refresh_from_db()
    assert incident_of("s3") == incident and incident.alert_count == 3
    assert incident.last_activity == before


def test_correlating_again_changes_nothing(p):
    ingest(p.sub, [alert(0, id="i1"), alert(1, id="i2"), alert(40, id="i3")])
    snapshot = sorted(IncidentAlert.objects.values_list("alert_id", "incident_id"))
    AwaitingCorrelation.add(p.sub.pk, Alert.objects.values_list("pk", flat=True))
    assert correlate() == 3
    assert sorted(IncidentAlert.objects.values_list("alert_id", "incident_id")) == snapshot
    assert Incident.objects.count() == 2


def test_alerts_without_a_resource_stand_alone(p):
    ingest(p.sub, [native_alert(id="n1", compromised_entity="", entities=[], start_time=at(0)),
                   native_alert(id="n2", compromised_entity="", entities=[], start_time=at(1))])
    assert incident_of("n1") != incident_of("n2")


@pytest.mark.django_db(transaction=True)
def test_two_correlations_racing_on_one_resource_correlate_each_alert_once(p, monkeypatch):
    # Ingest without correlating, then let two threads correlate the same resource at once.
    monkeypatch.setattr("incidents.apps._publish_correlation", lambda *a: None)
    ingest(p.sub, [alert(h, id=f"r{h}") for h in range(0, 40, 2)])
    resource_id = Alert.objects.get(key="r0").resource_id
    barrier = threading.Barrier(2)
    errors, done = [], []

    def run():
        try:
            barrier.wait()
            done.append(correlate_resource(p.sub.pk, resource_id))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(done) == [0, 20]  # one did the work; the other found nothing waiting
    assert IncidentAlert.objects.count() == 20
    assert Incident.objects.count() == 1


def test_a_provider_incident_and_other_resources_in_one_batch(p):
    # One batch: a producer's incident over two alerts of vm-a, and an alert on vm-b.
    ingest(p.sub, [alert(0, id="q1"), alert(50, id="q2"), alert(1, host="vm-b", id="q3"),
                   {"SystemAlertId": "inc-q", "AlertDisplayName": "Security incident detected",
                    "Severity": "High", "IsIncident": True, "ProductName": "Defender",
                    "Entities": [{"$id": "1", "Type": "alerts",
                                  "SystemAlertIds": ["q1", "q2"]}]}])
    assert incident_of("q1") == incident_of("q2") and incident_of("q1").provider_key == "inc-q"
    assert incident_of("q3").standalone


def test_a_new_alert_is_in_the_queue_before_it_is_correlated(p, monkeypatch):
    monkeypatch.setattr("incidents.apps._publish_correlation", lambda *a: None)
    ingest(p.sub, [alert(0, id="s1")])
    shown = incident_of("s1")
    assert shown.standalone and shown.status == "active" and shown.alert_count == 1
    assert AwaitingCorrelation.objects.filter(alert__key="s1").exists()
    ingest(p.sub, [alert(1, id="s2")])
    assert correlate() == 2
    together = incident_of("s1")
    assert together == incident_of("s2") and not together.standalone
    assert Incident.objects.count() == 1  # the incidents of one were folded in, not left
    assert not Activity.objects.filter(verb="incident.merge").exists()
    assert correlate() == 0


def test_incidents_of_one_someone_touched_are_merged_and_the_merge_recorded(p, monkeypatch):
    monkeypatch.setattr("incidents.apps._publish_correlation", lambda *a: None)
    ingest(p.sub, [alert(0, id="t1")])
    ingest(p.sub, [alert(1, id="t2")])
    first, second = incident_of("t1"), incident_of("t2")
    Incident.objects.update(acknowledged_at=first.created_at)  # an analyst looked at both
    correlate()
    survivor = incident_of("t2")
    assert survivor == first and survivor.alert_count == 2 and not survivor.standalone
    merge = Activity.objects.get(verb="incident.merge")
    assert merge.target_id == str(first.pk) and str(second.pk) in merge.reason


def test_a_lone_new_alert_keeps_the_incident_it_was_shown_in(p, monkeypatch):
    monkeypatch.setattr("incidents.apps._publish_correlation", lambda *a: None)
    ingest(p.sub, [alert(0, id="o1")])
    shown = incident_of("o1")
    assert correlate() == 1
    assert incident_of("o1") == shown and Incident.objects.count() == 1


def test_the_words_name_every_tactic_of_an_alert_in_kill_chain_order(p):
    ingest(p.sub, [alert(0, id="w1", display_name="Brute force", tactics=["InitialAccess"]),
                   alert(1, id="w2", display_name="Beacon and upload",
                         tactics=["Exfiltration", "CommandAndControl"])])
    incident = incident_of("w1")
    assert "Beacon and upload (Command and control, Exfiltration)" in incident.description
    chain = next(r["text"] for r in incident.reasons if r["code"] == "kill_chain")
    assert chain.endswith("Initial access → Command and control → Exfiltration.")
