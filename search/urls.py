from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("s/<id:sub>/search/", views.search, name="page"),
    path("s/<id:sub>/settings/refused-events/", views.refused_events, name="refused"),
    path("s/<id:sub>/search/run/", views.run_search, name="run"),
    path("s/<id:sub>/search/runs/<id:run_id>/", views.run_status, name="status"),
    path("s/<id:sub>/search/runs/<id:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("s/<id:sub>/search/runs/<id:run_id>/results.<str:fmt>", views.run_download,
         name="download"),
]
