from celery import shared_task

from incidents.correlation import drain

DRAIN_SECONDS = 50


@shared_task(autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
def correlate_alerts(subscription_id=None):
    """Correlate alerts awaiting correlation (all subscriptions, or one) for up to
    DRAIN_SECONDS; the beat sweep does the rest."""
    return {"correlated": drain(subscription_id=subscription_id, seconds=DRAIN_SECONDS)}
