"""What the registry app adds to pages owned by other apps: program navigation entries."""

from __future__ import annotations

from ecmo_web import navigation


def register_all() -> None:
    navigation.register(navigation.NavItem("Exports", "registry_exports", "export.registry", order=80))
    navigation.register(navigation.NavItem("Research", "registry_research", "export.research", order=81))
    navigation.register(navigation.NavItem("Studies", "study_list", "study.manage", order=82))
