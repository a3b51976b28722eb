from django.urls import path

from investigation import views

app_name = "investigation"

urlpatterns = [
    path("s/<id:sub>/investigations/alert/<id:alert_id>/", views.start_alert,
         name="start-alert"),
    path("s/<id:sub>/investigations/incident/<id:incident_id>/", views.start_incident,
         name="start-incident"),
    path("s/<id:sub>/investigations/<id:investigation_id>/", views.map_page, name="map"),
    path("s/<id:sub>/investigations/<id:investigation_id>/select/", views.select,
         name="select"),
    path("s/<id:sub>/investigations/<id:investigation_id>/undo/", views.undo_view,
         name="undo"),
    path("s/<id:sub>/investigations/<id:investigation_id>/pane/", views.pane_view,
         name="pane"),
    path("s/<id:sub>/investigations/<id:investigation_id>/pane/<slug:tab>/", views.tab_view,
         name="tab"),
    path("s/<id:sub>/investigations/<id:investigation_id>/export.<slug:fmt>", views.export,
         name="export"),
]
