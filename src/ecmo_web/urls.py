"""URL map: the site's own pages, then each app's ``urls`` module (``AppConfig.contributions().urls``) at the root,
in INSTALLED_APPS order."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from ecmo_web import contributions
from ecmo_web.accounts.forms import ThrottledAuthenticationForm
from ecmo_web.api import api
from ecmo_web.health import health
from ecmo_web.runs import views as run_views

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
    path("health/", health, name="health"),
    path("", include("ecmo_web.accounts.twofactor")),
    path("", include("ecmo_web.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    *[path("", include(module)) for module in contributions.urls()],
]

# Styled error pages with a way back (ecmo_web.errors); CSRF_FAILURE_VIEW in settings points there too.
handler403 = "ecmo_web.errors.permission_denied"
handler404 = "ecmo_web.errors.page_not_found"
