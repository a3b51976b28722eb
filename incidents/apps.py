from functools import partial

from django.apps import AppConfig
from django.db import transaction

from socconsole.lib.queueing import publish


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from alerts.signals import alert_status_changed, alerts_ingested

        alerts_ingested.connect(_show_in_queue, dispatch_uid="incidents.show")
        alerts_ingested.connect(_queue_correlation, dispatch_uid="incidents.correlation")
        alert_status_changed.connect(_follow_alerts, dispatch_uid="incidents.follow")


def _show_in_queue(sender, subscription, alert_ids, **kwargs):
    """New alerts are in the queue when the ingest commits, before correlation runs."""
    from incidents.correlation import show_in_queue

    show_in_queue(alert_ids)


def _queue_correlation(sender, subscription, alert_ids, **kwargs):
    """After an ingest commits, correlate its subscription (the sweep catches misses)."""
    from incidents.tasks import correlate_alerts

    transaction.on_commit(partial(_publish_correlation, correlate_alerts, subscription.pk))


def _publish_correlation(task, subscription_id):
    """Publish after commit; a broker that cannot be reached only delays correlation: the
    alerts are in the outbox (AwaitingCorrelation) and the minute sweep takes them."""
    publish(task, subscription_id, later="the correlation sweep will take it")


def _follow_alerts(sender, alert_ids, **kwargs):
    from incidents.triage import follow_alerts

    follow_alerts(alert_ids)
