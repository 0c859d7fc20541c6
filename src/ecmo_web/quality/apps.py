from __future__ import annotations

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "ecmo_web.quality"
    label = "quality"
    verbose_name = "Quality: adverse events, M&M, KPIs and audits"

    def ready(self) -> None:
        from ecmo_web.quality import registrations  # noqa: F401  (navigation, timeline lane)
