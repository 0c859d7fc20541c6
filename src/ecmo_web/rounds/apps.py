from __future__ import annotations

from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "ecmo_web.rounds"
    label = "rounds"
    verbose_name = "Multidisciplinary rounds"

    def ready(self) -> None:
        from ecmo_web.navigation import NavItem, register

        register(NavItem("Rounds board", "rounds_board_today", "run.view", order=20))
