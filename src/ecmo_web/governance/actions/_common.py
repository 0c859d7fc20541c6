"""Helpers the governance actions share: members by id, the program's local date, plain checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.timezones import to_local


def user_of(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def member_role(program: Program | int, user: Any) -> str | None:
    if user_of(user) is None:
        return None
    program_id = program if isinstance(program, int) else program.pk
    row = Membership.objects.filter(program_id=program_id, user=user, active=True).first()
    return row.role if row is not None else None


def member(program: Program, value: Any, *, field: str) -> Any:
    """An active member of ``program`` from a user or a user id; ValidationError({field: ...}) otherwise."""
    model = get_user_model()
    user = value
    if not isinstance(value, model):
        try:
            user = model.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            user = None
    if user is None or member_role(program, user) is None:
        raise ValidationError({field: f"{value!s} is not a member of this program"})
    return user


def members(program: Program, values: Iterable[Any], *, field: str) -> list[Any]:
    found: list[Any] = []
    for value in values:
        user = member(program, value, field=field)
        if user not in found:
            found.append(user)
    return found


def local_today(program: Program, now: dt.datetime) -> dt.date:
    local = to_local(now, program)
    assert local is not None
    return local.date()


def text(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ValidationError({field: "this cannot be empty"})
    if len(cleaned) > max_length:
        raise ValidationError({field: f"at most {max_length} characters (got {len(cleaned)})"})
    return cleaned


def roles(values: Iterable[str], *, field: str, allowed: Iterable[str] | None = None) -> list[str]:
    """Role values, in the order of ``Role``, each one known (and in ``allowed`` when given)."""
    chosen = set(values)
    pool = set(allowed) if allowed is not None else set(Role.values)
    unknown = sorted(chosen - pool)
    if unknown:
        raise ValidationError({field: f"{', '.join(unknown)}: not a role that can be chosen here"})
    return [r for r in Role.values if r in chosen]


def date_value(value: Any, *, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationError({field: "must be a date (YYYY-MM-DD)"})
    return value
