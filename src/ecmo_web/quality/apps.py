from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, NavItem, RunPanel


class QualityConfig(AppConfig):
    name = "ecmo_web.quality"
    label = "quality"
    verbose_name = "Quality: adverse events, M&M, KPIs and audits"

    def contributions(self) -> Contributions:
        from ecmo_web.quality import api, lanes, profile

        return Contributions(
            urls="ecmo_web.quality.urls",
            api_routers=(("/", api.router),),
            run_panels=(RunPanel("quality/panel_run.html", "run.view", order=60),),
            timeline_lanes=(lanes.adverse_event_lane,),
            navigation=(
                NavItem("Adverse events", "quality_events", "run.view", order=70),
                NavItem("M&M", "quality_mm_cases", "run.view", order=71),
                NavItem("Quality", "quality_dashboard", "kpi.view", order=72),
                NavItem("Audits", "quality_audits", "kpi.view", order=73),
            ),
            profile_sources=(profile.mm, profile.audits),
        )
