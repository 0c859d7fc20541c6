from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, Job, NavItem


class RegistryConfig(AppConfig):
    name = "ecmo_web.registry"
    label = "registry"
    verbose_name = "Registry, research and interoperability exports"

    def contributions(self) -> Contributions:
        from ecmo_web.registry import api, ehr, profile

        return Contributions(
            urls="ecmo_web.registry.urls",
            check_hooks=(ehr.enqueue_check,),
            jobs=(Job("registry.export", "ecmo_web.registry.jobs:run_export"),),
            periodic=(("EHR messages sent", lambda now: ehr.send_pending(now=now).sent),),
            api_routers=(("/", api.router),),
            navigation=(
                NavItem("Exports", "registry_exports", "export.registry", order=80),
                NavItem("Research", "registry_research", "export.research", order=81),
                NavItem("Studies", "study_list", "study.manage", order=82),
            ),
            profile_sources=(profile.research,),
        )
