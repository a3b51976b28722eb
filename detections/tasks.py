from celery import shared_task

from . import matching


@shared_task(ignore_result=True)
def match_new_alerts(subscription_id, alert_ids):
    """Mark the entities of newly ingested alerts that an indicator names."""
    return {"marked": matching.match_alerts(subscription_id, alert_ids)}


@shared_task(ignore_result=True)
def retro_hunt(subscription_id):
    """After an import: the last 14 days of alert entities against the indicators."""
    return {"marked": matching.retro_hunt(subscription_id)}
