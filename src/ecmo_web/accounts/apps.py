from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ecmo_web.accounts"
    label = "accounts"
    verbose_name = "Programs and memberships"

    def contributions(self) -> Any:
        # The pages themselves are mounted by the site's URL map (ecmo_web.urls); only the menu entry is added here.
        from ecmo_web.contributions import Contributions, NavItem

        return Contributions(
            navigation=(NavItem("Program setup", "program_setup", "program.manage", order=95),)
        )

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        def _on_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
            from ecmo_web.security import on_sign_in

            if request is not None and hasattr(request, "session"):
                on_sign_in(request, user)

        user_logged_in.connect(_on_sign_in, dispatch_uid="ecmo-security-sign-in", weak=False)
