from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "ecmo_web.registry"
    label = "registry"
    verbose_name = "Registry, research and interoperability exports"

    def ready(self) -> None:
        from ecmo_web.registry import registrations

        registrations.register_all()
