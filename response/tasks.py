from celery import shared_task

from . import webhooks
from .models import Delivery


@shared_task(ignore_result=True)
def deliver(delivery_id):
    """Attempt one delivery (idempotent: one not due or not pending is left alone); a
    failure schedules the next attempt with back-off."""
    delivery = webhooks.attempt(delivery_id)
    if delivery is not None and delivery.state == Delivery.State.PENDING:
        deliver.apply_async((delivery_id,),
                            countdown=webhooks.retry_delay(delivery.attempts).total_seconds())
    return {"state": delivery.state if delivery else "skipped"}


@shared_task(ignore_result=True)
def send_due_deliveries():
    """Send what is due: retries whose countdown was lost (a worker restarted), and
    deliveries queued while the broker was down."""
    for delivery_id in webhooks.due():
        deliver.delay(delivery_id)
