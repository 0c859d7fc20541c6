from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, NavItem, RunPanel


class PerfusionConfig(AppConfig):
    name = "ecmo_web.perfusion"
    label = "perfusion"
    verbose_name = "Perfusion: catalogue, circuit selection, priming and standby circuits"

    def ready(self) -> None:
        # The circuit_selection decision kind: its form lives here and joins the decisions table of kinds (the
        # form subclasses decisions' KindForm, so decisions cannot import it without an import cycle).
        from ecmo_web.decisions.kinds import KIND_FORMS
        from ecmo_web.decisions.models import Kind
        from ecmo_web.perfusion.selection import CircuitSelectionForm

        KIND_FORMS.setdefault(Kind.CIRCUIT_SELECTION, CircuitSelectionForm)

    def contributions(self) -> Contributions:
        from ecmo_web.perfusion import api
        from ecmo_web.perfusion.actions.standby import expire_standby_circuits

        return Contributions(
            urls="ecmo_web.perfusion.urls",
            api_routers=(("/", api.router),),
            run_panels=(RunPanel("perfusion/_run_panel.html", "run.view", order=60),),
            navigation=(NavItem("Perfusion", "perfusion_home", "run.view", order=55),),
            periodic=(("standby notices", lambda now: len(expire_standby_circuits(now))),),
        )
