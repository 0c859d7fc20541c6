from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ecmo_web.accounts"
    label = "accounts"
    verbose_name = "Programs and memberships"
