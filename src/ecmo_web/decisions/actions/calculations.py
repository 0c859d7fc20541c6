"""Saved calculator results and attaching them to a decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core.calc import run_calculator
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save, core_version
from ecmo_web.decisions.kinds import jsonable
from ecmo_web.decisions.models import (
    Decision,
    SavedCalculation,
)
from ecmo_web.kernel import audit, require, user_of
from ecmo_web.runs.models import EcmoRun


def _reference(result: Any) -> str:
    if isinstance(result, dict) and isinstance(result.get("reference"), str):
        return str(result["reference"])
    return ""


@transaction.atomic
def save_calculation(
    *,
    actor: Any,
    run: EcmoRun,
    calculator: str,
    arguments: Mapping[str, Any],
    decision: Decision | None = None,
    note: str = "",
    not_computed_reason: str = "",
    computed_at: dt.datetime | None = None,
) -> SavedCalculation:
    """Run ``calculator`` on ``arguments`` and keep the result (InputError/InfeasibleError propagate, naming the
    field). With ``not_computed_reason`` and no arguments, the score is kept empty with that reason."""
    require(actor, "decision.record", run)
    if decision is not None and decision.run_id != run.pk:
        raise ValidationError({"decision": "belongs to another run"})
    if not_computed_reason.strip() and not arguments:
        from ecmo_core.calc import get_calculator

        get_calculator(calculator)  # unknown names are an InputError naming "name"
        result: Any = None
    else:
        result = run_calculator(calculator, dict(arguments))["result"]
        not_computed_reason = ""
    calc = SavedCalculation(
        run=run,
        decision=decision,
        calculator=calculator,
        arguments=jsonable(dict(arguments)),
        result=result,
        not_computed_reason=not_computed_reason.strip(),
        core_version=core_version(),
        reference=_reference(result),
        note=note,
        computed_at=computed_at or timezone.now(),
        computed_by=user_of(actor),
    )
    _save(calc)
    audit(actor=actor, action="decision.calculation_saved", obj=calc, after=snapshot(calc))
    return calc


@transaction.atomic
def attach_calculation(*, actor: Any, calculation: SavedCalculation, decision: Decision) -> SavedCalculation:
    require(actor, "decision.record", decision)
    if calculation.run_id != decision.run_id:
        raise ValidationError({"calculation": "belongs to another run"})
    if calculation.decision_id not in (None, decision.pk):
        raise ValidationError({"calculation": "is already part of another decision"})
    before = snapshot(calculation)
    calculation.decision = decision
    calculation.save(update_fields=["decision"])
    audit(
        actor=actor,
        action="decision.calculation_attached",
        obj=calculation,
        before=before,
        after=snapshot(calculation),
    )
    return calculation
