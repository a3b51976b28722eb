"""Detections: the team's own threat intelligence (indicators of compromise)."""

from django.db import models
from django.utils import timezone

from inventory.models import Subscription


class IndicatorQuerySet(models.QuerySet):
    def active(self, subscription_id, now=None):
        """The indicators that hold now: valid from before now, and not expired."""
        now = now or timezone.now()
        return self.filter(subscription_id=subscription_id, valid_from__lte=now)\
            .exclude(valid_until__lte=now)


class Indicator(models.Model):
    """One indicator of compromise: an address or range, a domain, a URL, a file hash or an
    account, with where it came from and while it holds. Unique per subscription, type
    and (normalised) value: importing it again updates it."""

    class Type(models.TextChoices):
        IP = "ip", "IP address or CIDR range"
        DOMAIN = "domain", "Domain"
        URL = "url", "URL"
        MD5 = "md5", "MD5"
        SHA1 = "sha1", "SHA-1"
        SHA256 = "sha256", "SHA-256"
        ACCOUNT = "account", "Account"

    class Severity(models.TextChoices):
        INFORMATIONAL = "informational"
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="indicators")
    type = models.CharField(max_length=16, choices=Type.choices)
    value = models.CharField(max_length=2048)
    source = models.CharField(max_length=200, blank=True, default="")
    confidence = models.PositiveSmallIntegerField(default=50)  # 0-100, as STIX says
    severity = models.CharField(max_length=16, choices=Severity.choices,
                                default=Severity.MEDIUM)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    # The STIX indicator it was read from, if any (a pattern may give several).
    stix_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_label = models.CharField(max_length=200)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["type", "value"]
        constraints = [models.UniqueConstraint(fields=["subscription", "type", "value"],
                                               name="one_indicator_per_value")]
        indexes = [models.Index(fields=["subscription", "valid_until"],
                                name="indicator_validity")]

    def __str__(self):
        return f"{self.type}:{self.value}"


class EntityMatch(models.Model):
    """An alert entity that an active indicator names: the mark the entity pane and the
    queue show. One per indicator and entity; `last_alert` is the latest alert naming it."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="matches")
    entity = models.ForeignKey("alerts.Entity", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    last_alert = models.ForeignKey("alerts.Alert", on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["indicator", "entity"],
                                               name="one_match_per_entity")]
        indexes = [models.Index(fields=["subscription", "entity"], name="match_entity")]

    def __str__(self):
        return f"{self.indicator} on entity {self.entity_id}"
