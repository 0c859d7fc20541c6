from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, NavItem


class CalculatorsConfig(AppConfig):
    name = "ecmo_web.calculators"
    label = "calculators"
    verbose_name = "Calculator pages"

    def contributions(self) -> Contributions:
        return Contributions(
            urls="ecmo_web.calculators.urls",
            navigation=(NavItem("Calculators", "program_calculators", "calculator.use", order=60),),
        )
