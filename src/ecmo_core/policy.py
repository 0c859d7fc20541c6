"""Which version of a policy is in force on a date.

A version is in force from its effective date once every role its policy requires has signed it off. Read
strictly so that history never changes: on date ``D`` the version in force is, among the versions whose
effective date is on or before ``D`` *and* whose last required sign-off was on or before ``D``, the one with the
latest effective date (ties: the higher version number). A version signed off late comes into force on the day
of its last sign-off, not retroactively; a date before any such version has no version in force (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class VersionState:
    """A version as the rule sees it: its number, effective date, and the date its last required sign-off was
    given (None while any required role has not signed off)."""

    number: int
    effective_on: dt.date
    signed_off_on: dt.date | None


def in_force_from(version: VersionState) -> dt.date | None:
    """The first day the version is in force (None while sign-off is incomplete)."""
    if version.signed_off_on is None:
        return None
    return max(version.effective_on, version.signed_off_on)


def in_force_on(versions: Iterable[VersionState], on: dt.date) -> VersionState | None:
    """The version in force on ``on`` (see the module docstring), or None."""
    eligible = [v for v in versions if (start := in_force_from(v)) is not None and start <= on]
    if not eligible:
        return None
    return max(eligible, key=lambda v: (v.effective_on, v.number))


def due_for_review(review_on: dt.date | None, today: dt.date, within_days: int) -> bool:
    """Is a review due (or overdue) within ``within_days`` of ``today``? No review date: never due."""
    return review_on is not None and (review_on - today).days <= within_days
