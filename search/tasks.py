from celery import shared_task

from . import execution, retention


@shared_task(ignore_result=True)
def run_query(run_id):
    """Execute a queued query run (idempotent: a claimed or finished run is skipped)."""
    return execution.execute(run_id)


@shared_task(ignore_result=True)
def apply_retention():
    """Drop or delete events past their workspace's retention."""
    return retention.apply_retention()


@shared_task(ignore_result=True)
def purge_refused_events():
    """Forget refused events past their 7 days."""
    return {"purged": retention.purge_refused()}
