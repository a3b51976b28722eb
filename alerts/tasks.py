from celery import shared_task

from alerts.rejected import purge_rejected


@shared_task
def purge_rejected_items():
    """Forget rejected items older than their 7-day retention."""
    return {"purged": purge_rejected()}
