"""What the decision pages share: loading a run or a decision the user may see, and the clock."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from ecmo_web.decisions.models import (
    Decision,
)
from ecmo_web.decisions.serialize import decision_queryset
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id)


def _decision(request: HttpRequest, decision_id: int, action: str) -> Decision:
    return get_checked(
        decision_queryset().select_related("run__patient"), request.user, action, pk=decision_id
    )


def _now() -> dt.datetime:
    return timezone.now()
