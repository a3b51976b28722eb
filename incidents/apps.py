from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from alerts.signals import alerts_ingested

        alerts_ingested.connect(_queue_correlation, dispatch_uid="incidents.correlation")


def _queue_correlation(sender, subscription, alert_ids, **kwargs):
    """After an ingest commits, correlate its subscription (the sweep catches misses)."""
    from incidents.tasks import correlate_alerts

    correlate_alerts.delay_on_commit(subscription.pk)
