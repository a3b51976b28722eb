"""seed_demo: the demo, loaded again, replaces its alerts and the incidents built from them."""

from io import StringIO

from django.core.management import call_command

from alerts.models import Alert
from incidents.correlation import correlate
from incidents.models import Incident


def test_refreshing_the_demo_replaces_its_incidents_with_its_alerts(db):
    call_command("seed_demo", stdout=StringIO())
    correlate()
    first = set(Incident.objects.values_list("pk", flat=True))
    alerts = Alert.objects.count()
    assert first and alerts
    call_command("seed_demo", "--refresh", stdout=StringIO())
    # The stale incidents went with their alerts: none is left empty, none kept.
    assert not Incident.objects.filter(pk__in=first).exists()
    assert not Incident.objects.filter(members__isnull=True).exists()
    assert Alert.objects.count() == alerts
    correlate()
    assert Incident.objects.count() == len(first)


def test_loading_a_fresh_demo_again_changes_nothing(db):
    call_command("seed_demo", stdout=StringIO())
    correlate()
    incidents = set(Incident.objects.values_list("pk", flat=True))
    call_command("seed_demo", stdout=StringIO())
    assert set(Incident.objects.values_list("pk", flat=True)) == incidents


def test_the_demo_has_a_last_shift_of_triage_for_the_dashboard(db, client):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dashboard.figures import figures
    from inventory.models import Activity, Subscription

    call_command("seed_demo", stdout=StringIO())
    dev = Subscription.objects.get(name="Contoso Development")
    prod = Subscription.objects.get(name="Contoso Production")
    assert Incident.objects.filter(subscription=dev, status="dismissed",
                                   verdict="false_positive").exists()
    assert Incident.objects.filter(subscription=prod, assigned_to__username="analyst").count() == 2
    # The high-severity incidents are left for whoever signs in next.
    assert not Incident.objects.filter(subscription=prod, severity=0).exclude(
        status="active", assigned_to=None).exists()
    assert Activity.objects.filter(verb="incident.assign", actor_user__username="lead").exists()
    for sub, acknowledged, resolved in ((prod, 2, 0), (dev, 1, 1)):
        times = figures(sub, timezone.now())
        assert sum(d.count for d in times.acknowledge.values()) == acknowledged
        assert sum(d.count for d in times.resolve.values()) == resolved
        # The deliveries were received when the story says, hours before the shift's work.
        assert all(d.median > 3600 for d in times.acknowledge.values() if d.count)
    client.force_login(get_user_model().objects.get(username="admin"))
    assert client.get(f"/s/{prod.pk}/dashboard/").status_code == 200
    # Reloading a fresh demo does the shift's work once.
    call_command("seed_demo", stdout=StringIO())
    assert Activity.objects.filter(verb="incident.take").count() == 1


def _demo_events():
    from inventory.models import Subscription
    from search.models import EventDay
    from tests.search.factories import stored_events

    sub = Subscription.objects.get(name="Contoso Production")
    events = stored_events(sub.workspaces.get(is_default=True))
    days = sum(EventDay.objects.filter(workspace__subscription=sub)
               .values_list("events", flat=True))
    return events, days


def test_the_demo_events_are_stored_once_however_often_it_is_loaded(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "events: 280 accepted, 0 rejected; 150 accepted, 0 rejected" in out.getvalue()
    events, days = _demo_events()
    assert len(events) == days == 430
    call_command("seed_demo", stdout=StringIO())  # fresh: nothing is loaded again
    call_command("seed_demo", "--refresh", stdout=StringIO())  # replaced, not added
    events, days = _demo_events()
    assert len(events) == days == 430
