from django.conf import settings
from django.db import models
from django.db.models import Q

from alerts.models import Alert
from incidents.models import Incident
from inventory.models import Subscription


class Investigation(models.Model):
    """The saved state of exploring one alert or one incident on the map.

    `state` is written by investigation.actions only (see investigation.graph.Map for its
    shape): the nodes and edges shown, their positions, the expanded nodes, the selected
    node and the undo history. One investigation per alert or incident, shared by the team.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, null=True, blank=True,
                              related_name="investigations")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="investigations")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Bumped by every change, so a page knows whether what it shows is current.
    version = models.PositiveIntegerField(default=1)
    state = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(alert__isnull=False, incident__isnull=True)
                           | Q(alert__isnull=True, incident__isnull=False)),
                name="investigation_one_target"),
            models.UniqueConstraint(fields=["alert"], condition=Q(alert__isnull=False),
                                    name="investigation_one_per_alert"),
            models.UniqueConstraint(fields=["incident"], condition=Q(incident__isnull=False),
                                    name="investigation_one_per_incident"),
        ]

    def __str__(self):
        return f"Investigation of {self.target_label}"

    @property
    def target(self):
        return self.incident if self.incident_id else self.alert

    @property
    def target_label(self):
        return self.incident.title if self.incident_id else self.alert.display_name
