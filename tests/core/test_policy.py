"""The policy version in force on a date.

- nothing in force before the first signed-off version's start
- a version comes into force on its effective date when signed off before it
- a version signed off after its effective date comes into force on the sign-off day (history never changes)
- an unsigned version is never in force; the one before it stays in force
- the latest effective date wins; a tie goes to the higher version number
- review due: within the window (both sides), overdue, or no review date
"""

from __future__ import annotations

import datetime as dt

from ecmo_core.policy import VersionState, due_for_review, in_force_from, in_force_on

D = dt.date
V1 = VersionState(1, D(2026, 1, 1), D(2025, 12, 20))
V2_LATE = VersionState(2, D(2026, 6, 1), D(2026, 6, 10))
V3_UNSIGNED = VersionState(3, D(2026, 9, 1), None)


def test_it_has_nothing_in_force_before_the_first_version() -> None:
    assert in_force_on([V1], D(2025, 12, 31)) is None


def test_it_puts_a_version_in_force_on_its_effective_date() -> None:
    assert in_force_from(V1) == D(2026, 1, 1)
    assert in_force_on([V1], D(2026, 1, 1)) == V1


def test_it_waits_for_the_last_sign_off_when_it_comes_late() -> None:
    assert in_force_on([V1, V2_LATE], D(2026, 6, 9)) == V1
    assert in_force_on([V1, V2_LATE], D(2026, 6, 10)) == V2_LATE


def test_it_never_puts_an_unsigned_version_in_force() -> None:
    assert in_force_from(V3_UNSIGNED) is None
    assert in_force_on([V1, V2_LATE, V3_UNSIGNED], D(2026, 12, 1)) == V2_LATE


def test_it_breaks_an_effective_date_tie_by_version_number() -> None:
    a = VersionState(4, D(2026, 3, 1), D(2026, 2, 1))
    b = VersionState(5, D(2026, 3, 1), D(2026, 2, 2))
    assert in_force_on([b, a], D(2026, 3, 1)) == b


def test_it_says_when_a_review_is_due() -> None:
    today = D(2026, 12, 4)
    assert due_for_review(D(2027, 1, 3), today, 30) is True  # 30 days away
    assert due_for_review(D(2027, 1, 4), today, 30) is False  # 31 days away
    assert due_for_review(D(2026, 11, 1), today, 30) is True  # overdue
    assert due_for_review(None, today, 30) is False
