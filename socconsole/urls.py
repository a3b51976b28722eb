from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LogoutView
from django.urls import include, path, register_converter
from django.views.generic import RedirectView

from inventory import views as inventory_views
from socconsole.api import api
from socconsole.lib.converters import IdConverter

register_converter(IdConverter, "id")

favicon = login_not_required(RedirectView.as_view(url="/static/img/shield.svg", permanent=True))

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("", inventory_views.home, name="home"),
    path("login/", inventory_views.soc_login, name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", include("inventory.urls")),
    path("", include("alerts.urls")),
    path("", include("incidents.urls")),
    path("", include("search.urls")),
    path("", include("investigation.urls")),
    path("", include("dashboard.urls")),
    path("", include("response.urls")),
    path("", include("detections.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "socconsole.errors.bad_request"
handler403 = "socconsole.errors.forbidden"
handler404 = "socconsole.errors.not_found"
handler500 = "socconsole.errors.server_error"
