from django.conf import settings
from django.db import models

from alerts.models import Alert, Severity, Verdict
from inventory.models import Resource, Subscription


class Incident(models.Model):
    """Related alerts on one resource, combined. A standalone alert is an incident of one
    (`standalone`), so one indexed query pages the whole queue."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISMISSED = "dismissed", "Dismissed"
        RESOLVED = "resolved", "Resolved"

    # No single-column indexes on these: incident_queue and incident_resource_time begin
    # with them, and every index is written again when correlation updates an incident.
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    # Named so that the inventory page counts incidents per resource without importing us.
    resource = models.ForeignKey(Resource, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="incidents", db_index=False)
    standalone = models.BooleanField(default=True)
    title = models.TextField()
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True, default="")
    tactics = models.JSONField(default=list, blank=True)
    alert_count = models.PositiveIntegerField(default=1)
    # How many of its alerts are active: with `severity`, enough to fold new alerts in
    # without reading the old ones (see correlation.py).
    active_count = models.PositiveIntegerField(default=0)
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()
    # When its latest active alert arrived (ingested). The queue ranks by it, and "N new"
    # counts by it; triage and suppressed alerts do not move it, so rows stay put while
    # analysts work through them.
    last_activity = models.DateTimeField()
    # The producer's own incident (IsIncident) this one holds, if any.
    provider_key = models.CharField(max_length=512, blank=True, default="")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    escalated = models.BooleanField(default=False)
    escalated_to = models.CharField(max_length=16, blank=True, default="")  # leads | owner
    escalation_note = models.TextField(blank=True, default="")
    escalation_acknowledged = models.BooleanField(default=False)
    # The first human action on it (take, triage, comment): the SLA clock stops there.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # When it came into the queue: its first alert's arrival, or that of the alert that
    # reopened it. The times to acknowledge and to resolve run from then.
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["subscription", "status", "severity", "-last_activity", "-id"],
                         name="incident_queue"),
            models.Index(fields=["resource", "last_time"], name="incident_resource_time"),
        ]

    def __str__(self):
        return self.title

    @property
    def severity_word(self):
        return Severity(self.severity).label


class IncidentAlert(models.Model):
    """An alert's place in an incident (one incident per alert)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="members",
                                 db_index=False)  # membership_time begins with it
    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, related_name="membership")
    # Scopes a read that already names the alert or the incident: no index of its own.
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)
    # The alert's time, so an incident's first and latest alerts are an index range.
    time = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["incident", "time", "alert"], name="membership_time")]

    def __str__(self):
        return f"{self.alert_id} in {self.incident_id}"


class HandoverNote(models.Model):
    """What one shift tells the next; the queue shows the latest first."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["subscription", "-created_at"], name="handover_latest")]

    def __str__(self):
        return self.text[:60]


class SavedView(models.Model):
    """An analyst's default queue filters (a query string the queue form accepts)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    query = models.CharField(max_length=1000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "subscription"],
                                               name="saved_view_once")]

    def __str__(self):
        return self.query
