"""Who on a shift is current for what: each member × each competency their role's skill set requires."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ecmo_core.competency import DEFAULT_WARN_DAYS, Award, Currency, currency
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.governance.models import Competency, CompetencyAward, Shift
from ecmo_web.timezones import to_local


@dataclass(frozen=True)
class Cell:
    competency: Competency
    required: bool
    currency: Currency


@dataclass(frozen=True)
class Row:
    user: Any
    role: str
    cells: list[Cell]

    @property
    def gaps(self) -> int:
        return sum(1 for c in self.cells if c.required and c.currency.status in ("expired", "missing"))


def shift_day(shift: Shift) -> dt.date:
    """Currency is judged on the day the shift ends (program-local): current at the start is not enough."""
    local = to_local(shift.ends_at, shift.program)
    assert local is not None
    return local.date()


def grid(
    program: Program, users: list[Any], on: dt.date, warn_days: int = DEFAULT_WARN_DAYS
) -> tuple[list[Competency], list[Row]]:
    """The competencies of the program and one row per user with a cell per competency (required or not)."""
    competencies = list(Competency.objects.filter(program=program))
    role_of = dict(
        Membership.objects.filter(program=program, user__in=users, active=True).values_list("user_id", "role")
    )
    awards: dict[tuple[int, int], list[Award]] = {}
    for a in CompetencyAward.objects.filter(competency__program=program, holder__in=users):
        awards.setdefault((a.holder_id, a.competency_id), []).append(Award(a.awarded_on, a.expires_on))
    rows = []
    for user in users:
        role = role_of.get(user.pk, "")
        cells = [
            Cell(
                c,
                role in c.required_for_roles,
                currency(awards.get((user.pk, c.pk), []), on, warn_days=warn_days),
            )
            for c in competencies
        ]
        rows.append(Row(user, role, cells))
    return competencies, rows
