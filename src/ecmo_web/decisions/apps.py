from __future__ import annotations

from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "ecmo_web.decisions"
    label = "decisions"
    verbose_name = "Decisions, pathways and concurrent MCS checks"

    def ready(self) -> None:
        # Registrations live here rather than in the shared modules, so that apps do not edit each other's lists.
        from ecmo_web.decisions import timeline  # noqa: F401  (registers the timeline provider)
        from ecmo_web.runs.views import run_panels

        panel = ("decisions/_run_panel.html", "run.view")
        if panel not in run_panels:
            run_panels.append(panel)
