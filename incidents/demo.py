"""The demo's incidents: built by correlation from the demo alerts (alerts/demo.py)."""

from incidents.models import Incident
from inventory.models import Subscription


def clear_demo_incidents(subscription: Subscription) -> None:
    """Remove the incidents built from a subscription's demo alerts (and any left with no
    alert), before the alerts themselves are replaced."""
    Incident.objects.filter(subscription=subscription,
                            members__alert__key__startswith="demo-").delete()
    Incident.objects.filter(subscription=subscription, members__isnull=True).delete()
