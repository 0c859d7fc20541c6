"""Mechanical circulatory support checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save
from ecmo_web.decisions.kinds import MCS_READINGS
from ecmo_web.decisions.models import (
    McsCheck,
)
from ecmo_web.kernel import audit, aware, member_role, not_in_future, require, user_of
from ecmo_web.runs.models import McsDevice


@transaction.atomic
def record_mcs_check(
    *,
    actor: Any,
    device: McsDevice,
    at: dt.datetime,
    readings: Mapping[str, Any] | None = None,
    position_confirmed: bool | None = None,
    position_note: str = "",
    limb_perfusion_ok: bool | None = None,
    alarms: str = "",
    note: str = "",
) -> McsCheck:
    """A perfusionist's (or physician's) check of an IABP, Impella or VAD: position, limb, alarms and the
    device's own readings (MCS_READINGS names and ranges per kind)."""
    require(actor, "mcs.edit", device)
    at = aware(at, field="at")
    if at < device.inserted_at:
        raise ValidationError({"at": "cannot be before the device was inserted"})
    if device.removed_at is not None and at > device.removed_at:
        raise ValidationError({"at": "cannot be after the device was removed"})
    not_in_future(at, field="at", now=timezone.now())
    allowed = MCS_READINGS.get(device.kind, {})
    clean: dict[str, float] = {}
    for key, value in (readings or {}).items():
        if value is None or value == "":
            continue
        if key not in allowed:
            raise ValidationError(
                {
                    f"readings.{key}": f"not a {device.get_kind_display()} reading; use "
                    f"{', '.join(allowed) or 'none'}"
                }
            )
        low, high, unit, _label = allowed[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError({f"readings.{key}": "must be a number"}) from None
        if not low <= number <= high:
            raise ValidationError(
                {f"readings.{key}": f"{number:g} is outside {low:g}–{high:g} {unit}".strip()}
            )
        clean[key] = number
    check = McsCheck(
        device=device,
        at=at,
        readings=clean,
        position_confirmed=position_confirmed,
        position_note=position_note.strip(),
        limb_perfusion_ok=limb_perfusion_ok,
        alarms=alarms.strip(),
        note=note.strip(),
        checked_by=user_of(actor),
        checked_by_role=member_role(device.run.program_id, actor) or "",
    )
    _save(check)
    audit(actor=actor, action="mcs.check_recorded", obj=check, after=snapshot(check))
    return check
