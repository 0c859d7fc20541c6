"""Helpers the governance actions share: members by id, the program's local date, plain checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

from ecmo_web import kernel
from ecmo_web.accounts.models import Program, Role
from ecmo_web.timezones import to_local

user_of = kernel.user_of
member_role = kernel.member_role


def member(program: Program, value: Any, *, field: str) -> Any:
    """An active member of ``program`` from a user or a user id (an int, or digits from a form)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value is None or value == "":
        raise ValidationError({field: "choose a member of the program"})
    return kernel.member(program, value, field=field)


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
