from __future__ import annotations

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "ecmo_web.governance"
    label = "governance"
    verbose_name = "Governance: QI, policies, education"

    def ready(self) -> None:
        from ecmo_web.navigation import NavItem, register

        register(NavItem("Governance", "governance_home", "run.view", order=70))
