from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("s/<id:sub>/alerts/", views.alert_list, name="list"),
    path("s/<id:sub>/alerts/<id:alert_id>/", views.alert_detail, name="detail"),
    path("s/<id:sub>/alerts/<id:alert_id>/raw/", views.alert_raw, name="raw"),
    path("s/<id:sub>/alerts/<id:alert_id>/suppress/preview/", views.suppress_preview,
         name="suppress-preview"),
    path("s/<id:sub>/alerts/<id:alert_id>/suppress/", views.suppress, name="suppress"),
    path("s/<id:sub>/alerts/<id:alert_id>/<slug:action>/", views.alert_action, name="action"),
    path("s/<id:sub>/suppression/", views.suppression_list, name="suppression"),
    path("s/<id:sub>/suppression/<id:rule_id>/disable/", views.suppression_disable,
         name="suppression-disable"),
    path("s/<id:sub>/settings/rejected/", views.rejected_list, name="rejected-list"),
    path("s/<id:sub>/settings/rejected/<id:rejected_id>/", views.rejected_detail,
         name="rejected-detail"),
    path("s/<id:sub>/settings/rejected/<id:rejected_id>/replay/", views.rejected_replay,
         name="rejected-replay"),
]
