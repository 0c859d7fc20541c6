from __future__ import annotations

from django.apps import AppConfig


class SurveillanceConfig(AppConfig):
    name = "ecmo_web.surveillance"
    label = "surveillance"
    verbose_name = "Circuit surveillance"

    def ready(self) -> None:
        # Contributions to pages owned by other apps: the run page panels, the run timeline, the run list column
        # and the program navigation.
        from ecmo_web.surveillance import deadletters, registrations  # noqa: F401 (deadletters: audit receiver)

        registrations.register_all()
