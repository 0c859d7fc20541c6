"""What the surveillance pages share: loading a run the user may see, source labels."""

from __future__ import annotations

from django.http import HttpRequest

from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance.models import (
    is_device_source,
)


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id)


def _source_label(source: str) -> str:
    return "console" if is_device_source(source) else source
