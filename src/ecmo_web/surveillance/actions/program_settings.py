"""The program's surveillance settings (rules, escalation), kept as history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core.errors import InputError
from ecmo_core.surveillance import (
    config_from_mapping,
)
from ecmo_web.accounts.models import Program, Role
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import Submitted, audit, aware, expect_latest, require, user_of
from ecmo_web.surveillance.models import (
    ESCALATION_ROLES,
    SurveillanceSetting,
)


@transaction.atomic
def save_settings(
    *,
    actor: Any,
    program: Program,
    rules: Mapping[str, Any],
    escalate_warning_after_min: int = 30,
    escalate_critical_after_min: int = 10,
    escalate_to_role: str = Role.INTENSIVIST,
    estimated_vo2_ml_kg_min: float = 3.0,
    effective_from: dt.datetime | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    based_on: Submitted = None,
) -> SurveillanceSetting:
    """Store new surveillance settings for a program from ``effective_from`` (earlier rows stay as history).
    ``based_on``: the id of the newest settings row when the form was opened (0: none); if someone saved
    settings since, kernel.VersionConflict and nothing is saved."""
    require(actor, "settings.manage", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one change at a time per program
    expect_latest(SurveillanceSetting.objects.filter(program=program).order_by("-pk").first(), based_on)
    now = now or timezone.now()
    try:
        config_from_mapping(rules)
    except InputError as error:
        raise ValidationError({error.field: [error.message]}) from None
    if not reason.strip():
        raise ValidationError({"reason": "say why the settings change (kept in the history)"})
    if escalate_to_role not in ESCALATION_ROLES:
        names = ", ".join(str(Role(r).label) for r in ESCALATION_ROLES)
        raise ValidationError({"escalate_to_role": f"escalate only to a clinical role: {names}"})
    setting = SurveillanceSetting(
        program=program,
        rules=dict(rules),
        escalate_warning_after_min=escalate_warning_after_min,
        escalate_critical_after_min=escalate_critical_after_min,
        escalate_to_role=escalate_to_role,
        estimated_vo2_ml_kg_min=estimated_vo2_ml_kg_min,
        effective_from=now if effective_from is None else aware(effective_from, field="effective_from"),
        set_by=user_of(actor),
        reason=reason.strip(),
        created_at=now,
    )
    setting.full_clean()
    setting.save()
    audit(actor, action="surveillance.settings_changed", obj=setting, after=snapshot(setting), reason=reason)
    return setting
