from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("s/<id:sub>/dashboard/", views.dashboard, name="page"),
]
