from __future__ import annotations

from django.apps import AppConfig


class CalculatorsConfig(AppConfig):
    name = "ecmo_web.calculators"
    label = "calculators"
    verbose_name = "Calculator pages"

    def ready(self) -> None:
        from ecmo_web.navigation import NavItem, register

        register(NavItem("Calculators", "program_calculators", "calculator.use", order=60))
