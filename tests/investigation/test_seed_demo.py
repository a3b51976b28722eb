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
