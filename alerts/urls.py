from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("s/<int:sub>/alerts/", views.alert_list, name="list"),
    path("s/<int:sub>/alerts/<int:alert_id>/", views.alert_detail, name="detail"),
    path("s/<int:sub>/alerts/<int:alert_id>/raw/", views.alert_raw, name="raw"),
    path("s/<int:sub>/settings/rejected/", views.rejected_list, name="rejected-list"),
    path("s/<int:sub>/settings/rejected/<int:rejected_id>/", views.rejected_detail,
         name="rejected-detail"),
    path("s/<int:sub>/settings/rejected/<int:rejected_id>/replay/", views.rejected_replay,
         name="rejected-replay"),
]
