"""The signed-in user's own pages (included at the site root through ``APP_URLS``)."""

from __future__ import annotations

from django.urls import path

from ecmo_web.accounts import views

urlpatterns = [
    path("account/tokens/", views.token_list, name="account_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="account_token_revoke"),
    path("programs/<int:program_id>/setup/", views.program_setup, name="program_setup"),
]
