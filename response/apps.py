from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "response"

    def ready(self):
        from django.db.models.signals import post_save

        from alerts.signals import alerts_ingested
        from incidents.signals import incidents_created
        from inventory.models import Activity

        alerts_ingested.connect(_alerts_created, dispatch_uid="response.alerts")
        incidents_created.connect(_incidents_created, dispatch_uid="response.new_incidents")
        post_save.connect(_incident_changed, sender=Activity, dispatch_uid="response.incidents")


# The activity log's verbs that are webhook events.
INCIDENT_EVENTS = {"incident.escalate": "incident.escalated",
                   "incident.resolve": "incident.resolved"}


def _alerts_created(sender, subscription, alert_ids, **kwargs):
    from alerts.models import Alert
    from response.dispatch import emit

    alerts = Alert.objects.filter(pk__in=alert_ids).select_related("resource")
    emit(subscription.pk, "alert.created", [
        {"alert_id": a.pk, "key": a.key, "display_name": a.display_name,
         "severity": a.get_severity_display(), "resource": a.resource.name if a.resource else None,
         "time": a.time.isoformat()} for a in alerts])


def _incidents_created(sender, subscription_id, incident_ids, **kwargs):
    from incidents.models import Incident
    from response.dispatch import emit

    incidents = Incident.objects.filter(pk__in=incident_ids).select_related("resource")
    emit(subscription_id, "incident.created", [
        {"incident_id": i.pk, "title": i.title, "severity": i.get_severity_display(),
         "resource": i.resource.name if i.resource else None, "alert_count": i.alert_count,
         "first_time": i.first_time.isoformat()} for i in incidents])


def _incident_changed(sender, instance, created, **kwargs):
    event = INCIDENT_EVENTS.get(instance.verb)
    if not created or event is None or instance.subscription_id is None:
        return
    from response.dispatch import emit

    emit(instance.subscription_id, event, [
        {"incident_id": int(instance.target_id), "title": instance.target_label,
         "by": instance.actor_label, "reason": instance.reason}])
