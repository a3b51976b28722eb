from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("s/<int:sub>/", views.overview, name="overview"),
    path("s/<int:sub>/activity/", views.activity_list, name="activity"),
    path("s/<int:sub>/settings/", views.settings_page, name="settings"),
    path("s/<int:sub>/settings/tokens/", views.token_create, name="token-create"),
    path("s/<int:sub>/settings/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    path("s/<int:sub>/settings/members/", views.member_save, name="member-save"),
    path("s/<int:sub>/settings/members/<int:user_id>/remove/", views.member_remove,
         name="member-remove"),
]
