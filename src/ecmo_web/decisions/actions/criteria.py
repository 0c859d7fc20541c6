"""The program's pathway criteria settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core import pathways
from ecmo_core.errors import InputError
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save
from ecmo_web.decisions.criteria import DEFAULTS
from ecmo_web.decisions.kinds import jsonable
from ecmo_web.decisions.models import (
    PathwayCriteria,
)
from ecmo_web.kernel import Submitted, audit, expect_latest, require, user_of


@transaction.atomic
def set_criteria(
    *,
    actor: Any,
    program: Program,
    criteria_set: str,
    overrides: Mapping[str, Any],
    reason: str,
    effective_from: dt.datetime | None = None,
    based_on: Submitted = None,
) -> PathwayCriteria:
    """Change a program's pathway criteria (a new row; the history stays). ``based_on``: the id of the program's
    newest criteria row when the form was opened (0: none); stale: kernel.VersionConflict, nothing saved.

    ``overrides`` are canonical, in the units the criteria's names say (gases and blood pressure in mmHg, fractions
    0–1), as ``pathways.with_overrides`` takes them; the criteria page converts what a kPa program types. Each
    value must lie in its criterion's range and unit (``pathways.validate_overrides``), else a ValidationError on
    ``overrides.<key>`` names the range."""
    require(actor, "settings.manage", program)
    Program.objects.select_for_update().filter(pk=program.pk).first()  # one change at a time per program
    expect_latest(PathwayCriteria.objects.filter(program=program).order_by("-pk").first(), based_on)
    if criteria_set not in DEFAULTS:
        raise ValidationError({"criteria_set": f"use one of {', '.join(DEFAULTS)}"})
    if not reason.strip():
        raise ValidationError({"reason": "say why the criteria change (and the source)"})
    try:
        pathways.validate_overrides(DEFAULTS[criteria_set], overrides)
    except InputError as err:
        raise ValidationError({f"overrides.{err.field}": err.message}) from None
    row = PathwayCriteria(
        program=program,
        criteria_set=criteria_set,
        overrides=jsonable(dict(overrides)),
        effective_from=effective_from or timezone.now(),
        reason=reason.strip(),
        set_by=user_of(actor),
    )
    _save(row)
    audit(actor=actor, action="settings.pathway_criteria_set", obj=row, after=snapshot(row), reason=reason)
    return row
