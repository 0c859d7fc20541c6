"""Ambulation sessions on ECMO."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ecmo_core import pathways
from ecmo_core.errors import InputError
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save, _when
from ecmo_web.decisions.models import (
    AmbulationSession,
    Decision,
    Kind,
    Status,
)
from ecmo_web.kernel import audit, require, user_of


@transaction.atomic
def record_ambulation_session(
    *,
    actor: Any,
    decision: Decision,
    started_at: dt.datetime,
    duration_min: int,
    ims_level: int,
    pre_check: str,
    post_check: str,
    activities: str = "",
    distance_m: int | None = None,
    team_size: int | None = None,
    lowest_spo2: float | None = None,
    events: str = "",
    stopped_early: bool = False,
) -> AmbulationSession:
    """Log a mobilisation session: the IMS level reached and the cannula checks before and after (both needed:
    a session without them is not a safe record)."""
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.AMBULATION:
        raise ValidationError({"decision": "sessions belong to ambulation decisions"})
    if decision.status != Status.DECIDED:
        raise ValidationError(
            {"decision": "the readiness decision must be decided before a session is logged"}
        )
    if not pre_check.strip():
        raise ValidationError({"pre_check": "record the cannula check before the session"})
    if not post_check.strip():
        raise ValidationError({"post_check": "record the cannula check after the session"})
    try:
        pathways.counts_for_mobilisation_kpi(ims_level)
        if lowest_spo2 is not None:
            from ecmo_core.validate import fraction

            fraction("lowest_spo2", lowest_spo2)
    except InputError as err:
        raise ValidationError({err.field: err.message}) from None
    session = AmbulationSession(
        decision=decision,
        started_at=_when(decision.run, "started_at", started_at),
        duration_min=duration_min,
        ims_level=ims_level,
        activities=activities.strip(),
        distance_m=distance_m,
        team_size=team_size,
        lowest_spo2=lowest_spo2,
        pre_check=pre_check.strip(),
        post_check=post_check.strip(),
        events=events.strip(),
        stopped_early=stopped_early,
        recorded_by=user_of(actor),
    )
    _save(session)
    audit(actor=actor, action="decision.ambulation_session_recorded", obj=session, after=snapshot(session))
    return session
