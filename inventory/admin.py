from django.contrib import admin

from inventory.models import (
    Activity,
    ApiToken,
    Membership,
    PlanOffPeriod,
    Resource,
    Subscription,
    Workspace,
)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "defender_plan", "auto_provisioning", "created_at"]
    search_fields = ["name"]
    # The plan changes through Pricing and settings, which logs it and its off periods.
    readonly_fields = ["defender_plan", "defender_plan_changed_at", "defender_plan_changed_by"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "subscription", "owner_name", "owner_email"]
    list_filter = ["kind", "subscription"]
    search_fields = ["name", "external_id"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "subscription", "workspace_id", "is_default"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: roles change through the console or grant_role, which log the change."""

    list_display = ["user", "subscription", "role", "created_at"]
    list_filter = ["role", "subscription"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(MembershipAdmin):
    list_display = ["name", "prefix", "subscription", "user", "scopes", "last_used_at",
                    "revoked_at"]
    list_filter = ["subscription"]
    exclude = ["secret_hash"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """The activity log is append-only: the admin shows it and nothing else."""

    list_display = ["created_at", "actor_label", "verb", "target_type", "target_label",
                    "subscription_id"]
    list_filter = ["verb", "actor_kind"]
    search_fields = ["actor_label", "target_label", "reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanOffPeriod)
class PlanOffPeriodAdmin(MembershipAdmin):
    list_display = ["subscription", "started_at", "started_by", "ended_at", "ended_by"]
    list_filter = ["subscription"]
