from django.urls import path

from detections import views

app_name = "detections"

urlpatterns = [
    path("s/<id:sub>/indicators/", views.indicator_list, name="indicators"),
    path("s/<id:sub>/indicators/import/", views.indicator_import, name="import"),
    path("s/<id:sub>/indicators/export.json", views.indicator_export, name="export"),
    path("s/<id:sub>/indicators/<id:indicator_id>/delete/", views.indicator_delete,
         name="delete"),
]
