"""URL map. Apps add their own ``urls`` modules to ``APP_URLS``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from ecmo_web.accounts.forms import ThrottledAuthenticationForm
from ecmo_web.api import api
from ecmo_web.runs import views as run_views

# Other apps' url modules, included at the site root; each app adds its line here.
APP_URLS: list[str] = [
    "ecmo_web.surveillance.urls",
    "ecmo_web.decisions.urls",
    "ecmo_web.calculators.urls",
    "ecmo_web.rounds.urls",
    "ecmo_web.governance.urls",
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", run_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("programs/<int:program_id>/runs/", run_views.run_list, name="run_list"),
    path("programs/<int:program_id>/runs/start/", run_views.start_run, name="start_run"),
    path("runs/<int:run_id>/", run_views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/configuration/", run_views.change_configuration, name="change_configuration"),
    path("runs/<int:run_id>/cannulas/add/", run_views.add_cannula, name="add_cannula"),
    path("runs/<int:run_id>/components/add/", run_views.install_component, name="install_component"),
    path("runs/<int:run_id>/mcs/add/", run_views.add_mcs_device, name="add_mcs_device"),
    path("runs/<int:run_id>/mcs/setting/", run_views.record_mcs_setting, name="record_mcs_setting"),
    *[path("", include(module)) for module in APP_URLS],
]
