"""Response: the subscription's blocklist that firewalls poll, the addresses never to block,
and the feed tokens that read it."""

import ipaddress

from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.models import Subscription
from socconsole.lib.net import network_text


class BlockEntry(models.Model):
    """An address or CIDR on a subscription's blocklist, until it expires or is removed.

    A removed or expired entry stays, for the record; at most one entry per network is
    live (not removed) at a time. `network` is canonical CIDR text (`203.0.113.87/32`).
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="block_entries")
    network = models.CharField(max_length=64)
    reason = models.TextField()
    # Where it was blocked from, if anywhere (the alert or incident page, or the API).
    alert = models.ForeignKey("alerts.Alert", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_by_label = models.CharField(max_length=200)
    # A shift lead confirmed a block the guardrails hold back (a private or wide range).
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # When the entry last changed (added, renewed, removed): the feed's Last-Modified.
    changed_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by_label = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["subscription", "network"], condition=Q(removed_at__isnull=True),
            name="one_live_block_per_network")]
        indexes = [models.Index(fields=["subscription", "expires_at"],
                                condition=Q(removed_at__isnull=True),
                                name="live_block_entries")]

    def __str__(self):
        return self.network

    @property
    def address(self):
        """The network as a firewall list writes it: a lone address without its /32."""
        return network_text(ipaddress.ip_network(self.network))


class Blocklist(models.Model):
    """When a subscription's published blocklist last changed (an entry added, renewed or
    removed, the never-block list edited): the feed's Last-Modified."""

    subscription = models.OneToOneField(Subscription, on_delete=models.CASCADE,
                                        related_name="+")
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"blocklist of {self.subscription_id}"


class NeverBlock(models.Model):
    """An address or range the organisation must never block (its egress, its resolvers):
    it always wins over a block."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="never_block")
    network = models.CharField(max_length=64)
    note = models.CharField(max_length=200)
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["network"]
        constraints = [models.UniqueConstraint(fields=["subscription", "network"],
                                               name="one_never_block_per_network")]

    def __str__(self):
        return self.network


class FeedToken(models.Model):
    """What a firewall presents to read the blocklist: in the feed's URL, stored only as
    a SHA-256 of its secret, like an API token; it reads the feed and nothing else."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="feed_tokens")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class Webhook(models.Model):
    """A playbook's endpoint: the console posts it a signed JSON delivery for each event it
    subscribed to."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="webhooks")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=2000)
    # Kept as given: the console signs each delivery with it (HMAC-SHA256), so it cannot
    # be a one-way hash; it is never shown again after it is set.
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list)
    # An admin's explicit permission to reach a private, loopback or link-local address.
    allow_private = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Delivery(models.Model):
    """One event sent (or to send) to one webhook: kept with every attempt's outcome, never
    lost; a failed one can be resent."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    # The response action it carries, whose outcome goes on the incident's timeline.
    request = models.ForeignKey("ActionRequest", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="deliveries")
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="due_deliveries")]

    def __str__(self):
        return f"{self.event} → {self.webhook_id}"


class ActionRequest(models.Model):
    """A response action asked of the team's playbooks (isolate a host, disable an account):
    recorded, sent as a webhook event, and its outcome written on the incident's timeline."""

    class Kind(models.TextChoices):
        ISOLATE_HOST = "host.isolation_requested", "Isolate host"
        DISABLE_ACCOUNT = "account.disable_requested", "Disable account"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="+")
    kind = models.CharField(max_length=64, choices=Kind.choices)
    target = models.CharField(max_length=512)
    reason = models.TextField()
    alert = models.ForeignKey("alerts.Alert", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+")
    requested_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.target}"

    def timeline_target(self) -> tuple[str, int, str]:
        """(target_type, target_id, label) of the activity entries about this request: the
        incident (or alert) it was asked from, so that they are on its timeline."""
        label = f"{self.get_kind_display()}: {self.target}"[:200]
        if self.incident_id:
            return "incident", self.incident_id, label
        if self.alert_id:
            return "alert", self.alert_id, label
        return "action_request", self.pk, label
