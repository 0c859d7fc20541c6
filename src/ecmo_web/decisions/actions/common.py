"""What the decision actions share: the run-bounded time check, saving with full validation, the
engine version stamp and a member's role.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ecmo_web.accounts.models import Program
from ecmo_web.kernel import aware, member_role, not_in_future
from ecmo_web.runs.models import EcmoRun

# Decisions may be recorded about events before flow started (candidacy, retrieval) but not in the future.
BEFORE_RUN_LIMIT = dt.timedelta(days=7)


def _when(
    run: EcmoRun, name: str, value: dt.datetime, *, after_end: dt.timedelta = dt.timedelta(days=2)
) -> dt.datetime:
    value = aware(value, field=name)
    if value < run.started_at - BEFORE_RUN_LIMIT:
        raise ValidationError({name: "cannot be more than 7 days before the run started"})
    not_in_future(value, field=name, now=timezone.now())
    if run.ended_at is not None and value > run.ended_at + after_end:
        raise ValidationError({name: "cannot be long after the run ended"})
    return value


def _save(obj: Any) -> None:
    obj.full_clean()
    obj.save()


def core_version() -> str:
    try:
        return metadata.version("ecmo-steward")
    except metadata.PackageNotFoundError:  # pragma: no cover - only outside an installed checkout
        return "unknown"


def _role(program: Program | int, user: Any, role: str | None, field: str) -> str:
    from ecmo_web.accounts.models import Role

    if role:
        if role not in Role.values:
            raise ValidationError({field: f"{role!r} is not a role; use one of {', '.join(Role.values)}"})
        return role
    found = member_role(program, user)
    assert found is not None  # member() checked membership
    return found
