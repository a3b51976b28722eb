from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("s/<id:sub>/", views.overview, name="overview"),
    path("s/<id:sub>/resources/", views.resource_list, name="resources"),
    path("s/<id:sub>/resources/<id:resource_id>/collection/", views.resource_collection,
         name="resource-collection"),
    path("s/<id:sub>/settings/policy/", views.security_policy, name="policy"),
    path("s/<id:sub>/settings/policy/auto-provisioning/", views.auto_provisioning,
         name="auto-provisioning"),
    path("s/<id:sub>/activity/", views.activity_list, name="activity"),
    path("s/<id:sub>/activity/export.csv", views.activity_export, name="activity_export"),
    path("s/<id:sub>/settings/", views.settings_page, name="settings"),
    path("s/<id:sub>/pricing/", views.pricing, name="pricing"),
    path("s/<id:sub>/pricing/defender-plan/", views.defender_plan, name="pricing-plan"),
    path("s/<id:sub>/settings/tokens/", views.token_create, name="token-create"),
    path("s/<id:sub>/settings/tokens/<id:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("s/<id:sub>/settings/members/", views.member_save, name="member-save"),
    path("s/<id:sub>/settings/workspaces/", views.workspace_create, name="workspace-create"),
    path("s/<id:sub>/settings/workspaces/<id:workspace_id>/retention/",
         views.workspace_retention, name="workspace-retention"),
    path("s/<id:sub>/settings/members/<id:user_id>/remove/", views.member_remove,
         name="member-remove"),
    path("s/<id:sub>/settings/invitations/<id:invitation_id>/revoke/", views.invitation_revoke,
         name="invitation-revoke"),
    path("set-password/<str:secret>/", views.set_password, name="set-password"),
    path("invitations/", views.invitation_list, name="invitations"),
    path("invitations/<id:invitation_id>/<slug:answer>/", views.invitation_answer,
         name="invitation-answer"),
]
