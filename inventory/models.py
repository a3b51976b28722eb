from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Now
from django.utils import timezone

from inventory.roles import Role, Scope


class Subscription(models.Model):
    name = models.CharField(max_length=120, unique=True)
    external_id = models.UUIDField(
        null=True, blank=True, unique=True, help_text="The cloud subscription GUID, when known."
    )
    # Changed only by inventory.plans.set_defender_plan, which logs it and its off periods.
    defender_plan = models.BooleanField(default=True)
    defender_plan_changed_at = models.DateTimeField(null=True, blank=True)  # null: never
    # A database default too: code that predates the column still inserts subscriptions.
    defender_plan_changed_by = models.CharField(max_length=200, blank=True, default="",
                                                db_default="")
    auto_provisioning = models.BooleanField(default=True)
    # When and by whom automatic provisioning was last switched (None: never since creation).
    auto_provisioning_since = models.DateTimeField(null=True, blank=True)
    auto_provisioning_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                             null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def defender_plan_since(self):
        """Since when the plan is in its current state (created On, unless changed)."""
        return self.defender_plan_changed_at or self.created_at


class PlanOffPeriod(models.Model):
    """A period in which a subscription's Defender plan was off: Microsoft alerts and the
    console's own detections were refused. `ended_at` is null while it still is."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="plan_off_periods")
    started_at = models.DateTimeField()
    started_by = models.CharField(max_length=200, blank=True, default="")
    reason_off = models.TextField(blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=200, blank=True, default="")
    reason_on = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription"],
                                    condition=models.Q(ended_at__isnull=True),
                                    name="plan_off_one_open"),
        ]
        indexes = [models.Index(fields=["subscription", "-started_at"], name="plan_off_sub")]

    def __str__(self):
        until = f"{self.ended_at:%Y-%m-%d %H:%M}" if self.ended_at else "now"
        return f"{self.subscription_id}: off {self.started_at:%Y-%m-%d %H:%M} – {until}"


class Resource(models.Model):
    class Kind(models.TextChoices):
        VIRTUAL_MACHINE = "virtual_machine", "Virtual machine"
        SQL_DATABASE = "sql_database", "SQL database"
        STORAGE_ACCOUNT = "storage_account", "Storage account"
        APP_SERVICE = "app_service", "App service"
        KUBERNETES_CLUSTER = "kubernetes_cluster", "Kubernetes cluster"
        OTHER = "other", "Other"

    class CollectionBy(models.TextChoices):
        AUTOMATIC = "automatic", "Automatically"
        BY_HAND = "by_hand", "By hand"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="resources")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    name = models.CharField(max_length=255)
    # Stored lower-cased: Azure resource ids compare case-insensitively.
    external_id = models.CharField(max_length=1024, blank=True, default="")
    owner_name = models.CharField(max_length=200, blank=True, default="")
    owner_email = models.EmailField(blank=True, default="")
    # Data collection (inventory.collection): whether its events are accepted, since when,
    # and how it came to be (automatic provisioning, or an admin by hand).
    # Database defaults: ingestion writes resources with COPY (socconsole.lib.bulk).
    collecting = models.BooleanField(default=True, db_default=True)
    collecting_since = models.DateTimeField(default=timezone.now, db_default=Now())
    collection_by = models.CharField(max_length=16, choices=CollectionBy.choices,
                                     default=CollectionBy.AUTOMATIC,
                                     db_default=CollectionBy.AUTOMATIC)
    collection_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL,
                                              on_delete=models.SET_NULL, null=True, blank=True,
                                              related_name="+")
    # When events for it were last accepted (kept to the minute by events ingest).
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "external_id"],
                condition=~models.Q(external_id=""),
                name="resource_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(Lower("name"), "subscription", name="resource_name_idx"),
            models.Index(fields=["subscription", "name", "id"], name="resource_sub_name"),
            # The few resources not monitored, counted on every inventory page.
            models.Index(fields=["subscription", "name", "id"], condition=models.Q(
                collecting=False), name="resource_not_monitored"),
        ]

    def __str__(self):
        return self.name

    @property
    def owner(self):
        if self.owner_name and self.owner_email:
            return f"{self.owner_name} <{self.owner_email}>"
        return self.owner_name or self.owner_email


class ResourceHostName(models.Model):
    """A host name (lower-cased) a resource has been seen under; one resource per name."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="host_names")
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "name"], name="host_name_unique"),
        ]

    def __str__(self):
        return self.name


class Workspace(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="workspaces")
    name = models.CharField(max_length=120)
    # The id Log Analytics clients address a workspace by.
    workspace_id = models.UUIDField(unique=True)
    is_default = models.BooleanField(default=False)
    # Events are kept this many days after they were ingested (search.retention).
    retention_days = models.PositiveIntegerField(default=90)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "name"], name="workspace_unique_name"),
            models.UniqueConstraint(fields=["subscription"], condition=models.Q(is_default=True),
                                    name="workspace_one_default"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="memberships")
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in Role])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "subscription"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.user} — {self.subscription} ({self.role})"


class Invitation(models.Model):
    """A role in a subscription offered to a user name, granted only when the user of that
    name accepts it after signing in. Saying whether the name exists would let an admin of
    one subscription learn who uses the others; an invitation says nothing either way."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        REVOKED = "revoked"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="invitations")
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in Role])
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=500, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "username"],
                                    condition=models.Q(state="pending"),
                                    name="invitation_one_pending"),
        ]
        indexes = [models.Index(fields=["username", "state"], name="invitation_for_user")]

    def __str__(self):
        return f"{self.username} to {self.subscription} ({self.role}, {self.state})"


class ApiToken(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="api_tokens")
    name = models.CharField(max_length=120)
    # The public part of the token, used to find it; the secret is kept only as SHA-256.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def scope_list(self):
        return [Scope(s) for s in self.scopes]


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the activity log is append-only (UPDATE refused)")

    def delete(self):
        raise AppendOnlyError("the activity log is append-only (DELETE refused)")


class Activity(models.Model):
    """One append-only record of a change. Written by inventory.activity.record only.

    The ORM refuses updates and deletes here; on PostgreSQL a trigger refuses them too.
    """

    class ActorKind(models.TextChoices):
        USER = "user"
        TOKEN = "token"
        SYSTEM = "system"

    # No database constraints on the references: the log must outlive what it names,
    # and a cascading SET NULL would be an UPDATE the trigger refuses.
    subscription = models.ForeignKey(Subscription, on_delete=models.DO_NOTHING,
                                     db_constraint=False, null=True, blank=True,
                                     related_name="+")
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING,
                                   db_constraint=False, null=True, blank=True, related_name="+")
    actor_token = models.ForeignKey(ApiToken, on_delete=models.DO_NOTHING, db_constraint=False,
                                    null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_label = models.CharField(max_length=300, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activity"
        indexes = [
            models.Index(fields=["subscription", "-created_at", "-id"], name="activity_sub_time"),
            # The activity page's filters: each serves its first page in index order.
            models.Index(fields=["subscription", "verb", "-created_at", "-id"],
                         name="activity_sub_verb_time"),
            models.Index(fields=["subscription", "actor_label", "-created_at", "-id"],
                         name="activity_sub_actor_time"),
            models.Index(fields=["subscription", "target_type", "-created_at", "-id"],
                         name="activity_sub_target_time"),
            models.Index(fields=["target_type", "target_id"], name="activity_target"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the activity log is append-only (UPDATE refused)")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the activity log is append-only (DELETE refused)")


class LoginFailure(models.Model):
    """A failed login, counted per account and per address to slow guessing."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)


class PasswordLink(models.Model):
    """A one-time link through which a person sets their password: 24 hours, single use,
    kept as a SHA-256 of its secret only. `user` is empty for a link that sets nothing (an
    admin invited a name that had an account already: the answer must look the same)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="+")
    username = models.CharField(max_length=150)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, null=True,
                                     blank=True, related_name="+")
    invitation = models.ForeignKey(Invitation, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"password link for {self.username}"
