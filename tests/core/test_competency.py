"""Competency currency on a date.

- missing: never awarded, or awarded only after today
- no expiry: current for ever
- expiring: 30 days or fewer left (both sides: 30 → expiring, 31 → current); the expiry day itself is still valid
- expired: the day after the expiry
- renewals: the latest expiry decides
- bad input: warn_days outside 0–365, an expiry before its award
"""

from __future__ import annotations

import datetime as dt

import pytest

from ecmo_core.competency import Award, currency
from ecmo_core.errors import InputError

TODAY = dt.date(2026, 12, 4)


def test_it_is_missing_without_an_award() -> None:
    assert currency([], TODAY).status == "missing"
    assert currency([Award(dt.date(2026, 12, 5), dt.date(2027, 12, 5))], TODAY).status == "missing"


def test_it_is_current_for_ever_without_an_expiry() -> None:
    result = currency([Award(dt.date(2020, 1, 1)), Award(dt.date(2021, 1, 1), dt.date(2022, 1, 1))], TODAY)
    assert (result.status, result.expires_on, result.days_left) == ("current", None, None)


def test_it_is_expiring_with_thirty_days_left_and_current_with_thirty_one() -> None:
    # 2026-12-04 + 30 days = 2027-01-03; + 31 days = 2027-01-04.
    assert currency([Award(dt.date(2026, 1, 3), dt.date(2027, 1, 3))], TODAY).status == "expiring"
    result = currency([Award(dt.date(2026, 1, 4), dt.date(2027, 1, 4))], TODAY)
    assert (result.status, result.days_left) == ("current", 31)


def test_it_is_still_valid_on_its_expiry_day_and_expired_the_day_after() -> None:
    on_the_day = currency([Award(dt.date(2025, 12, 4), TODAY)], TODAY)
    assert (on_the_day.status, on_the_day.days_left) == ("expiring", 0)
    after = currency([Award(dt.date(2025, 12, 3), dt.date(2026, 12, 3))], TODAY)
    assert (after.status, after.expires_on, after.days_left) == ("expired", dt.date(2026, 12, 3), -1)


def test_it_takes_the_latest_renewal() -> None:
    awards = [
        Award(dt.date(2024, 6, 1), dt.date(2025, 6, 1)),
        Award(dt.date(2025, 6, 1), dt.date(2026, 6, 1)),
        Award(dt.date(2026, 5, 20), dt.date(2027, 5, 20)),
    ]
    assert currency(awards, TODAY).expires_on == dt.date(2027, 5, 20)


def test_it_honours_a_custom_warning_window() -> None:
    assert currency([Award(dt.date(2026, 1, 1), dt.date(2027, 1, 3))], TODAY, warn_days=7).status == "current"


@pytest.mark.parametrize("bad", [-1, 366, True, 1.5])
def test_it_refuses_a_warning_window_outside_a_year(bad: object) -> None:
    with pytest.raises(InputError) as err:
        currency([], TODAY, warn_days=bad)  # type: ignore[arg-type]
    assert err.value.field == "warn_days"


def test_it_refuses_an_expiry_before_the_award() -> None:
    with pytest.raises(InputError) as err:
        currency([Award(dt.date(2026, 1, 2), dt.date(2026, 1, 1))], TODAY)
    assert err.value.field == "expires_on"
