from celery import shared_task

from inventory.login import purge_old_failures


@shared_task
def purge_login_failures():
    """Forget failed sign-ins older than the throttling window."""
    return {"purged": purge_old_failures()}
