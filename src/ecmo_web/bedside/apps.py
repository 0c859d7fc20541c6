from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, RunPanel


class BedsideConfig(AppConfig):
    name = "ecmo_web.bedside"
    label = "bedside"
    verbose_name = "Bedside: the circuit now, live pages, local units"

    def contributions(self) -> Contributions:
        return Contributions(
            urls="ecmo_web.bedside.urls",
            # The run page opens on the circuit now (open alerts, then the numbers), above everything else.
            run_panels=(RunPanel("bedside/panel_circuit.html", "run.view", order=5),),
        )
