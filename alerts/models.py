from django.db import models
from django.db.models import Q

from inventory.models import ApiToken, Resource, Subscription
from socconsole.lib.bulk import bulk_insert


class Severity(models.IntegerChoices):
    """Stored as a rank so that `ORDER BY severity, time` is an index scan."""

    HIGH = 0, "high"
    MEDIUM = 1, "medium"
    LOW = 2, "low"
    INFORMATIONAL = 3, "informational"

    @classmethod
    def from_word(cls, word):
        return {"high": cls.HIGH, "medium": cls.MEDIUM, "low": cls.LOW,
                "informational": cls.INFORMATIONAL}[word]


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"


class Verdict(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    BENIGN_POSITIVE = "benign_positive", "Benign positive"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    TRUE_POSITIVE = "true_positive", "True positive"


DISMISS_VERDICTS = (Verdict.FALSE_POSITIVE, Verdict.BENIGN_POSITIVE, Verdict.NOT_APPLICABLE)


class Alert(models.Model):
    # No single-column indexes on the foreign keys: the composite indexes below begin with
    # them, and every index costs ingestion (docs/benchmarks.md).
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    resource = models.ForeignKey(Resource, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="alerts", db_index=False)
    # The id the alert is recognised by when it comes again, in its own format (FORMATS.md).
    key = models.CharField(max_length=512)
    format = models.CharField(max_length=16)
    provider = models.CharField(max_length=200, blank=True, default="")
    product = models.CharField(max_length=200, blank=True, default="")
    vendor = models.CharField(max_length=200, blank=True, default="")
    alert_type = models.CharField(max_length=300, blank=True, default="")
    display_name = models.TextField()
    description = models.TextField(blank=True, default="")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    provider_status = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True, default="")
    tactics = models.JSONField(default=list, blank=True)
    techniques = models.JSONField(default=list, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    detected_time = models.DateTimeField(null=True, blank=True)
    ingested_at = models.DateTimeField()
    # The time the alert ranks by: detected, else end, else start, else ingested.
    time = models.DateTimeField()
    remediation_steps = models.JSONField(default=list, blank=True)
    extended_properties = models.JSONField(default=dict, blank=True)
    extended_links = models.JSONField(default=list, blank=True)
    compromised_entity = models.TextField(blank=True, default="")
    resource_ref = models.TextField(blank=True, default="",
                                    help_text="The resource id as the producer sent it.")
    correlation_key = models.CharField(max_length=300, blank=True, default="")
    alert_uri = models.TextField(blank=True, default="")
    occurrence_count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    warnings = models.JSONField(default=list, blank=True)
    # The rule that dismissed it on arrival. Read only from the alert: no index; and no
    # database constraint, whose check would be queued for every alert ingest inserts.
    suppressed_by = models.ForeignKey("SuppressionRule", on_delete=models.SET_NULL, null=True,
                                      blank=True, related_name="+", db_index=False,
                                      db_constraint=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "key"], name="alert_unique_key"),
        ]
        indexes = [
            models.Index(fields=["subscription", "severity", "-time", "-id"],
                         name="alert_rank"),
            models.Index(fields=["subscription", "-time", "-id"], name="alert_time"),
            models.Index(fields=["resource", "-time"], name="alert_resource_time"),
            # The dashboard's active alerts by severity, counted from the index alone;
            # partial, so it holds only the alerts still to triage.
            models.Index(fields=["subscription", "severity"], condition=Q(status="active"),
                         name="alert_active_severity"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def severity_word(self):
        return Severity(self.severity).label

    @property
    def tactic_set(self):
        return set(self.tactics)


class AwaitingCorrelation(models.Model):
    """An alert that correlation (incidents.correlation) has yet to place: written by
    ingest with the alert, deleted by correlation. Work that must follow an ingest is
    kept in the database, so a broker outage only delays it (a sweep picks it up). A
    queue apart from the alert, so that taking an alert off it deletes a small row
    rather than rewriting the alert and every index of the largest table."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, primary_key=True,
                                 related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)  # the alert's

    class Meta:
        # Oldest first: a batch is an index range, not a sort of everything waiting.
        indexes = [models.Index(fields=["subscription", "alert"], name="awaiting_oldest_first")]

    def __str__(self):
        return f"alert {self.alert_id} awaiting correlation"

    @classmethod
    def add(cls, subscription_id, alert_ids, *, new=False):
        """Queue alerts of a subscription: `new` ones (just written) with COPY, others
        (again) leaving those already waiting as they are."""
        bulk_insert(cls, ("alert_id", "subscription_id"),
                    [(pk, subscription_id) for pk in alert_ids], explicit_pk=new,
                    on_conflict=None if new else ("alert_id",))


class AlertPayload(models.Model):
    """The item exactly as the producer sent it; kept apart so lists never load it."""

    alert = models.OneToOneField(Alert, on_delete=models.CASCADE, primary_key=True,
                                 related_name="payload")
    body = models.BinaryField()


class Entity(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_index=False)  # entity_kind begins with it
    kind = models.CharField(max_length=64)
    label = models.TextField()
    props = models.JSONField(default=dict, blank=True, help_text="Merged properties.")
    # Unknown entity types are kept whole and never merged with anything.
    known = models.BooleanField(default=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entities"
        indexes = [models.Index(fields=["subscription", "kind"], name="entity_kind")]

    def __str__(self):
        return f"{self.kind} {self.label}"


class EntityIdentifier(models.Model):
    """One identifier of an entity, e.g. "host|azureid|/subscriptions/…" (strong) or
    "host|name|vm1" (weak). A strong identifier names one entity per subscription."""

    # Implied by the entity; no database constraint (see Relation).
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)
    # identifier_value and identifier_once begin with these.
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="identifiers",
                               db_index=False)
    value = models.TextField()
    strong = models.BooleanField()
    # A weak id on which mentions known only by this name hang (they move if it turns
    # ambiguous; see alerts.ingest.merge).
    name_only = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "value"], condition=Q(strong=True),
                                    name="identifier_strong_unique"),
            models.UniqueConstraint(fields=["entity", "value"], name="identifier_once"),
        ]
        indexes = [models.Index(fields=["subscription", "value"], name="identifier_value")]

    def __str__(self):
        return self.value


class AlertEntity(models.Model):
    """An alert's own view of an entity: its properties as sent, beside the merged entity."""

    class Match(models.TextChoices):
        NEW = "new"          # the mention created the entity
        STRONG = "strong"    # it shares a strong identifier with the entity
        NAME = "name"        # it has strong ids, none known; its name matched one entity
        WEAK = "weak"        # it has only a name, and that name matched

    # mention_position and mention_entity begin with these.
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="mentions",
                              db_index=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="mentions",
                               db_index=False)
    position = models.PositiveIntegerField(help_text="Its index in the alert's entity list.")
    kind = models.CharField(max_length=64)
    label = models.TextField()
    props = models.JSONField(default=dict, help_text="The entity as this alert sent it.")
    matched_by = models.CharField(max_length=8, choices=Match.choices)
    # For a mention known only by its name: that name (a weak id), so it can move if the
    # name turns ambiguous.
    matched_on = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "position"], name="mention_position"),
        ]
        indexes = [models.Index(fields=["entity", "alert"], name="mention_entity")]

    def __str__(self):
        return f"{self.kind} {self.label}"


class Relation(models.Model):
    """A typed edge between two of an alert's entities, as that alert stated it.
    A reference that could not be resolved is kept with `target` empty."""

    # Tenancy and alert are implied by the source mention; they are kept for scoping and
    # lookups without a database constraint, which would cost a check per row at ingest.
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="relations",
                              db_constraint=False, db_index=False)  # relation_alert
    # Source and target are mentions of the same alert, written with it in the statement
    # before (alerts.ingest.store) and deleted with it: not checked row by row either (the
    # checks were a fifth of an ingest's commit). Indexed for the graph's joins.
    source = models.ForeignKey(AlertEntity, on_delete=models.CASCADE, related_name="out_edges",
                               db_constraint=False)
    target = models.ForeignKey(AlertEntity, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="in_edges", db_constraint=False)
    type = models.CharField(max_length=32)
    prop = models.CharField(max_length=100)
    target_ref = models.CharField(max_length=100, blank=True, default="")
    in_cycle = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["alert"], name="relation_alert")]

    def __str__(self):
        return f"{self.source_id} -{self.type}-> {self.target_id or self.target_ref}"


class ProviderIncident(models.Model):
    """A producer's own incident (an item with IsIncident: true) and the alerts it lists.

    Kept until the incidents app turns it into an Incident, so no grouping is lost."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=512)
    provider = models.CharField(max_length=200, blank=True, default="")
    display_name = models.TextField()
    description = models.TextField(blank=True, default="")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    alert_keys = models.JSONField(default=list)
    time = models.DateTimeField()
    occurrence_count = models.PositiveIntegerField(default=1)
    last_seen = models.DateTimeField()
    body = models.BinaryField()
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "key"],
                                    name="provider_incident_unique_key"),
        ]

    def __str__(self):
        return self.display_name


class RejectedItem(models.Model):
    """An item refused at ingestion, kept with its reason for an admin to inspect and replay."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="rejected_items")
    source = models.CharField(max_length=16, default="api")  # api | command | replay
    index = models.PositiveIntegerField()
    format = models.CharField(max_length=16, blank=True, default="")
    body = models.BinaryField()
    code = models.CharField(max_length=64)
    message = models.TextField()
    field = models.TextField(blank=True, default="")
    received_at = models.DateTimeField(db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_result = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subscription", "token", "-received_at"],
                                name="rejected_by_token")]

    def __str__(self):
        return f"{self.code} at {self.received_at:%Y-%m-%d %H:%M}"


class SuppressionRule(models.Model):
    """New alerts of one type on one resource (or naming one entity) are stored dismissed."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    alert_type = models.CharField(max_length=300)
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+")
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")
    reason = models.TextField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    matched = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["subscription", "expires_at"], name="suppression_live")]

    def __str__(self):
        return f"{self.alert_type} ({self.reason[:40]})"

    def scope(self):
        if self.entity_id:
            return f"{self.entity.kind} {self.entity.label}"
        return self.resource.name if self.resource_id else "any resource"
