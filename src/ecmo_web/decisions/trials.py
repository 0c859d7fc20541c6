"""A weaning trial judged against the program's criteria, said once for the action that concludes it, the trial
page and the live preview of an observation being typed.

The criteria are the program's as they stood when the trial started (``content["started_at"]``): a criteria change
during a trial does not move its goalposts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ecmo_core import pathways
from ecmo_web.decisions.criteria import criteria_for
from ecmo_web.decisions.models import Decision

VA = "va_flow_reduction"
VV = "vv_sweep_off"


def trial_type(decision: Decision) -> str:
    """``va_flow_reduction`` or ``vv_sweep_off`` (the default)."""
    return VA if decision.content.get("trial_type") == VA else VV


def started_at(decision: Decision) -> dt.datetime:
    return dt.datetime.fromisoformat(decision.content["started_at"])


def criteria(decision: Decision) -> Any:
    return criteria_for(decision.run.program_id, trial_type(decision), started_at(decision))


def observations(decision: Decision) -> list[pathways.TrialObservation]:
    return [
        pathways.observation_from_mapping(o.values, minutes=o.minutes) for o in decision.observations.all()
    ]


def evaluate(decision: Decision, draft: Sequence[pathways.TrialObservation] = ()) -> pathways.PathwayResult:
    """The trial judged now, with ``draft`` observations (not saved) appended."""
    judge = pathways.va_flow_reduction_trial if trial_type(decision) == VA else pathways.vv_sweep_off_trial
    return judge([*observations(decision), *draft], criteria(decision))
