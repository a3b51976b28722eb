"""incidents.correlation.drain: the one loop the task and the command both run."""

from io import StringIO

from django.core.management import call_command

from alerts.models import AwaitingCorrelation
from incidents.correlation import drain
from incidents.tasks import correlate_alerts
from tests.factories import make_alert


def waiting(p, n):
    for i in range(n):
        make_alert(p.sub, id=f"d-{i}", compromised_entity=f"vm-{i}")
    assert AwaitingCorrelation.objects.count() == n


def test_it_works_batch_after_batch_until_nothing_waits(p, settings):
    settings.CORRELATION_BATCH = 2
    waiting(p, 5)
    assert drain() == 5
    assert not AwaitingCorrelation.objects.exists()


def test_it_stops_after_its_time_and_leaves_the_rest_queued(p, settings):
    settings.CORRELATION_BATCH = 2
    waiting(p, 5)
    assert drain(seconds=0) == 2  # one batch, then the time is up
    assert AwaitingCorrelation.objects.count() == 3


def test_the_task_and_the_command_drain_one_subscription(p, settings):
    settings.CORRELATION_BATCH = 2
    waiting(p, 3)
    make_alert(p.other, id="theirs")
    assert correlate_alerts(p.sub.pk) == {"correlated": 3}
    out = StringIO()
    call_command("correlate_alerts", "--subscription", p.other.name, stdout=out)
    assert out.getvalue().strip() == "Correlated 1 alerts."
    assert not AwaitingCorrelation.objects.exists()
