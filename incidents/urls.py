from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("s/<id:sub>/queue/", views.queue, name="queue"),
    path("s/<id:sub>/queue/news/", views.queue_news, name="queue-news"),
    path("s/<id:sub>/queue/handover/", views.handover, name="handover"),
    path("s/<id:sub>/queue/bulk/", views.bulk, name="bulk"),
    path("s/<id:sub>/queue/view/", views.save_view, name="save-view"),
    path("s/<id:sub>/incidents/<id:incident_id>/", views.incident_detail, name="detail"),
    path("s/<id:sub>/incidents/<id:incident_id>/<slug:action>/", views.incident_action,
         name="action"),
]
