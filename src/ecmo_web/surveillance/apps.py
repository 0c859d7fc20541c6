from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, Job, NavItem, RunPanel


class SurveillanceConfig(AppConfig):
    name = "ecmo_web.surveillance"
    label = "surveillance"
    verbose_name = "Circuit surveillance"

    def contributions(self) -> Contributions:
        from ecmo_web.surveillance import api, summaries, trends_api  # noqa: F401 - trends_api registers itself

        return Contributions(
            urls="ecmo_web.surveillance.urls",
            api_routers=(("/", api.router),),  # with the trends endpoint: trends_api adds it to api.router
            # Open alerts come first on the run page.
            run_panels=(
                RunPanel("surveillance/panel_run.html", "run.view", order=10),
                # Right under it: a warning about device data of unverified identity (empty when there is none).
                RunPanel("surveillance/panel_hl7_identity.html", "run.view", order=11),
            ),
            timeline_lanes=(summaries.alert_lanes,),
            run_columns=(summaries.open_alerts_column,),
            navigation=(
                NavItem("Alerts", "surveillance_program_alerts", "run.view", order=20),
                NavItem("Device messages", "hl7_inbound_messages", "patient.identify", order=85),
                NavItem("Surveillance settings", "surveillance_settings", "settings.manage", order=90),
            ),
            jobs=(
                Job("surveillance.pass", "ecmo_web.surveillance.jobs:surveillance_pass"),
                Job("surveillance.escalate", "ecmo_web.surveillance.jobs:escalate"),
                Job("surveillance.evaluate_run", "ecmo_web.surveillance.jobs:evaluate_run"),
                Job("surveillance.evaluate_pending", "ecmo_web.surveillance.jobs:evaluate_pending"),
            ),
        )

    def ready(self) -> None:
        # Every new dead letter is audited, whichever code stores it (surveillance/deadletters.py).
        from ecmo_web.surveillance import deadletters  # noqa: F401
