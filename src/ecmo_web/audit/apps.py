from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions


class AuditConfig(AppConfig):
    name = "ecmo_web.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def contributions(self) -> Contributions:
        from ecmo_web.navigation import NavItem

        return Contributions(
            urls="ecmo_web.audit.urls",
            navigation=(NavItem("Audit trail", "audit_trail", "audit.view", order=88),),
        )
