from celery import shared_task

from incidents.correlation import correlate


@shared_task(autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
def correlate_alerts(subscription_id=None):
    """Correlate alerts awaiting correlation (all subscriptions, or one)."""
    return {"correlated": correlate(subscription_id=subscription_id)}
