from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("s/<int:sub>/queue/", views.queue, name="queue"),
    path("s/<int:sub>/incidents/<int:incident_id>/", views.incident_detail, name="detail"),
]
