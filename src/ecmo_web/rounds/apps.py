from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, NavItem


class RoundsConfig(AppConfig):
    name = "ecmo_web.rounds"
    label = "rounds"
    verbose_name = "Multidisciplinary rounds"

    def contributions(self) -> Contributions:
        from ecmo_web.rounds import api

        return Contributions(
            urls="ecmo_web.rounds.urls",
            api_routers=(("/", api.router),),
            navigation=(NavItem("Rounds board", "rounds_board_today", "run.view", order=20),),
        )
