import time

from celery import shared_task

from incidents.correlation import correlate

DRAIN_SECONDS = 50


@shared_task(autoretry_for=(ConnectionError,), max_retries=3, retry_backoff=True)
def correlate_alerts(subscription_id=None):
    """Correlate alerts awaiting correlation (all subscriptions, or one), batch after batch
    (each its own transaction) for up to DRAIN_SECONDS; the beat sweep does the rest."""
    total, started = 0, time.monotonic()
    while done := correlate(subscription_id=subscription_id):
        total += done
        if time.monotonic() - started > DRAIN_SECONDS:
            break
    return {"correlated": total}
