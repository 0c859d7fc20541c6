from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions


class RunsConfig(AppConfig):
    name = "ecmo_web.runs"
    label = "runs"
    verbose_name = "Patients, runs and circuits"

    def contributions(self) -> Contributions:
        from ecmo_web import timeline
        from ecmo_web.runs import api, summary

        return Contributions(
            urls="ecmo_web.runs.urls",
            api_routers=(("/", api.router),),
            timeline_lanes=(timeline.run_lanes,),
            run_columns=(summary.oxygenator_age,),
        )
