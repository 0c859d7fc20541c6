"""The program's perfusion settings: a new row supersedes the last (history kept)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web import kernel
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.perfusion import site
from ecmo_web.perfusion.models import PerfusionSettings


@transaction.atomic
def set_settings(
    *,
    actor: Any,
    program: Program,
    values: Mapping[str, Any],
    reason: str,
    now: dt.datetime | None = None,
    based_on: kernel.Submitted = None,
) -> PerfusionSettings:
    """Record new values (every key of ``site.SETTINGS`` not given keeps its current value). ``based_on``: the
    id of the newest settings row when the form was opened (0: none); stale: kernel.VersionConflict."""
    kernel.require(actor, "settings.manage", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one change at a time per program
    kernel.expect_latest(PerfusionSettings.objects.filter(program=program).order_by("-pk").first(), based_on)
    if not reason.strip():
        raise ValidationError({"reason": "say why the settings change"})
    merged = site.current(program)
    errors: dict[str, str] = {}
    for key, raw in values.items():
        spec = site.BY_KEY.get(key)
        if spec is None:
            errors[key] = "not a perfusion setting"
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            errors[key] = f"must be a number from {spec.low:g} to {spec.high:g} {spec.unit}"
            continue
        if not spec.low <= value <= spec.high:
            errors[key] = f"{value:g} is outside {spec.low:g}–{spec.high:g} {spec.unit}"
            continue
        merged[key] = value
    if errors:
        raise ValidationError(errors)
    row = PerfusionSettings(
        program=program,
        values=merged,
        reason=reason.strip()[:300],
        set_by=kernel.user_of(actor),
        set_at=now or timezone.now(),
    )
    row.full_clean()
    row.save()
    kernel.audit(actor, "perfusion.settings_changed", obj=row, after=snapshot(row), reason=reason)
    return row
