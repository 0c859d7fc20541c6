"""Weaning trials: observations, evaluation against the program's criteria, conclusion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ecmo_core import pathways
from ecmo_core.errors import InputError
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions import trials
from ecmo_web.decisions.actions.common import _save, _when
from ecmo_web.decisions.models import (
    Decision,
    Kind,
    TrialObservation,
)
from ecmo_web.kernel import audit, expect_version, lock, require, user_of


def trial_observations(decision: Decision) -> list[pathways.TrialObservation]:
    return trials.observations(decision)


def evaluate_trial(decision: Decision) -> pathways.PathwayResult:
    """The trial judged now against the program's criteria (as they stood when the trial started)."""
    return trials.evaluate(decision)


@transaction.atomic
def record_observation(
    *,
    actor: Any,
    decision: Decision,
    at: dt.datetime,
    values: Mapping[str, Any],
    step: str = "",
    note: str = "",
) -> TrialObservation:
    """A timed observation in a weaning trial (codes of ecmo_core.pathways.OBSERVATION_FIELDS)."""
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.WEANING_TRIAL:
        raise ValidationError({"decision": "observations belong to weaning trials"})
    if decision.completed_at is not None:
        raise ValidationError({"at": "the trial is concluded"})
    at = _when(decision.run, "at", at)
    started = trials.started_at(decision)
    if at < started:
        raise ValidationError({"at": "cannot be before the trial started"})
    minutes = (at - started).total_seconds() / 60.0
    try:
        pathways.observation_from_mapping(values, minutes=minutes)
    except InputError as err:
        raise ValidationError({err.field: err.message}) from None
    clean = {k: v for k, v in values.items() if v is not None}
    if not clean:
        raise ValidationError({"values": "record at least one value"})
    obs = TrialObservation(
        decision=decision,
        at=at,
        minutes=minutes,
        step=step.strip(),
        values=clean,
        note=note.strip(),
        recorded_by=user_of(actor),
    )
    _save(obs)
    audit(actor=actor, action="decision.trial_observation_recorded", obj=obs, after=snapshot(obs))
    return obs


@transaction.atomic
def conclude_trial(
    *,
    actor: Any,
    decision: Decision,
    outcome: str,
    concluded_at: dt.datetime,
    reason: str = "",
    version: int | None = None,
) -> Decision:
    """Conclude a weaning trial as passed, failed or abandoned. The evaluation against the criteria is stored
    with it; an outcome that differs from the evaluation needs a reason (the clinician's judgement stands,
    and says why)."""
    require(actor, "decision.record", decision)
    lock(decision)
    expect_version(decision, version)
    if decision.kind != Kind.WEANING_TRIAL:
        raise ValidationError({"outcome": "only weaning trials are concluded"})
    if decision.completed_at is not None:
        raise ValidationError({"outcome": "the trial is already concluded"})
    if outcome not in ("passed", "failed", "abandoned"):
        raise ValidationError({"outcome": "passed, failed or abandoned"})
    evaluation = evaluate_trial(decision)
    expected = {"pass": "passed", "fail": "failed"}.get(evaluation.status)
    if outcome != expected and not reason.strip():
        raise ValidationError(
            {
                "reason": f"the criteria say {evaluation.status.replace('_', ' ')}: "
                f"give a reason to record the trial as {outcome}"
            }
        )
    concluded_at = _when(decision.run, "concluded_at", concluded_at)
    before = snapshot(decision)
    decision.content = {**decision.content, "evaluation": evaluation.as_dict()}
    decision.completed_at, decision.completed_by = concluded_at, user_of(actor)
    decision.outcome, decision.outcome_reason = outcome, reason.strip()
    decision.save(update_fields=["content", "completed_at", "completed_by", "outcome", "outcome_reason"])
    audit(
        actor=actor,
        action="decision.trial_concluded",
        obj=decision,
        before=before,
        after=snapshot(decision),
        reason=reason,
    )
    return decision
