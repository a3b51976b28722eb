from django.apps import AppConfig

from socconsole.lib.queueing import publish_on_commit


class DetectionsConfig(AppConfig):
    name = "detections"

    def ready(self):
        from alerts.signals import alerts_ingested

        alerts_ingested.connect(_match_after_ingest, dispatch_uid="detections.match")

        from investigation.pane import ExtraTab, register_tab

        register_tab(ExtraTab("intel", "Threat intelligence", applies=_has_matches,
                              context=_intel, template="detections/partials/intel_tab.html"))


def _has_matches(entity):
    from detections.models import EntityMatch

    return EntityMatch.objects.filter(entity_id=entity.pk).exists()


def _intel(entity):
    from detections.matching import matches_of

    return {"indicators": list(matches_of(entity.pk)[:100])}


def _match_after_ingest(sender, subscription, alert_ids, **kwargs):
    if not alert_ids:
        return
    from detections.models import Indicator

    if not Indicator.objects.filter(subscription=subscription).exists():
        return  # nothing to match: no task
    from detections.tasks import match_new_alerts

    publish_on_commit(match_new_alerts, subscription.pk, list(alert_ids),
                      later="the next import's retro-hunt marks them")
