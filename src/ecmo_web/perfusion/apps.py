from __future__ import annotations

from django.apps import AppConfig


class PerfusionConfig(AppConfig):
    name = "ecmo_web.perfusion"
    label = "perfusion"
    verbose_name = "Perfusion: catalogue, circuit selection, priming and standby circuits"

    def ready(self) -> None:
        # The circuit_selection decision kind: its form lives here and is added to the decisions table of kinds.
        from ecmo_web.decisions.kinds import KIND_FORMS
        from ecmo_web.decisions.models import Kind
        from ecmo_web.navigation import NavItem, register
        from ecmo_web.perfusion.selection import CircuitSelectionForm

        KIND_FORMS.setdefault(Kind.CIRCUIT_SELECTION, CircuitSelectionForm)
        register(NavItem("Perfusion", "perfusion_home", "run.view", order=55))
