"""The demo's incidents: built by correlation from the demo alerts (alerts/demo.py)."""

from incidents.models import Incident
from inventory.models import Subscription


def clear_demo_incidents(subscription: Subscription) -> None:
    """Remove the incidents built from a subscription's demo alerts (and any left with no
    alert), before the alerts themselves are replaced."""
    Incident.objects.filter(subscription=subscription,
                            members__alert__key__startswith="demo-").delete()
    Incident.objects.filter(subscription=subscription, members__isnull=True).delete()


def seed_triage(subscriptions: dict) -> None:
    """The last shift's work on the demo, done through the same triage functions as the
    pages, so the dashboard's times to acknowledge and resolve and the activity page have
    something to show: the analyst dismisses the build agent's audited tool as a false
    positive on Development and takes the audited one on Production; the lead hands the
    blocked-IP traffic to the analyst. The two high-severity incidents stay untouched for
    whoever signs in next."""
    from django.contrib.auth import get_user_model

    from inventory.access import role_for
    from inventory.activity import Actor
    from inventory.demo import DEVELOPMENT, PRODUCTION

    from .assignment import assign
    from .triage import change_incident

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=("analyst", "lead"))}
    analyst, lead = users["analyst"], users["lead"]
    audited = "Adaptive application control policy violation was audited"
    for key, action in ((DEVELOPMENT, "dismiss"), (PRODUCTION, "take")):
        sub = subscriptions[key]
        incident = Incident.objects.filter(subscription=sub, title=audited,
                                           status="active").first()
        if incident is None:
            continue
        role = role_for(analyst, sub.pk)
        if action == "dismiss":
            change_incident(incident, action="dismiss", actor=Actor.of_user(analyst),
                            role=role, verdict="false_positive",
                            reason="The build agent's packaging tool, allowed by CHG-2291.")
        else:
            assign(incident, to=analyst, actor=Actor.of_user(analyst), role=role)
    sub = subscriptions[PRODUCTION]
    traffic = Incident.objects.filter(
        subscription=sub, title__startswith="Traffic detected from IP addresses",
        assigned_to__isnull=True).first()
    if traffic is not None:
        assign(traffic, to=analyst, actor=Actor.of_user(lead), role=role_for(lead, sub.pk),
               reason="Check whether the web tier answered these addresses.")
