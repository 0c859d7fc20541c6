from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, RunPanel


class DecisionsConfig(AppConfig):
    name = "ecmo_web.decisions"
    label = "decisions"
    verbose_name = "Decisions, pathways and concurrent MCS checks"

    def contributions(self) -> Contributions:
        from ecmo_web.decisions import api, surveillance_hooks, timeline

        return Contributions(
            urls="ecmo_web.decisions.urls",
            api_routers=(("/", api.router),),
            run_panels=(RunPanel("decisions/_run_panel.html", "run.view"),),
            timeline_lanes=(timeline.decision_lanes,),
            # Surveillance keeps the pump-head rule quiet during the weaning trials recorded here.
            weaning_providers=(surveillance_hooks.weaning_trials,),
        )
