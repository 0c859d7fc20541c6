from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "ecmo_web.runs"
    label = "runs"
    verbose_name = "Patients, runs and circuits"
