from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from inventory import views as inventory_views
from socconsole.api import api

urlpatterns = [
    path("", inventory_views.home, name="home"),
    path("login/", inventory_views.soc_login, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("inventory.urls")),
    path("", include("alerts.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
