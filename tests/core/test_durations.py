"""``ecmo_core.durations.humanize_minutes``: durations as people say them (issue 11 §8).

Checklist:
- [x] minutes below 120 ("0 min", "40 min", "119 min"), whole hours from 2 h to under 48 h ("2 h", "45 h",
      "47 h"), days and hours from 48 h ("2 d", "2 d 3 h")
- [x] both sides of each boundary (119.99 / 120 min; 47 h 59 min / 48 h; a whole day / a day and an hour)
- [x] rounds down, never shows a duration as longer than it was
- [x] negative, infinite or NaN minutes are refused, naming the field
"""

from __future__ import annotations

import math

import pytest

from ecmo_core.durations import humanize_minutes
from ecmo_core.errors import InputError


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (0, "0 min"),
        (0.9, "0 min"),
        (40, "40 min"),
        (75, "75 min"),
        (119.99, "119 min"),  # last minute shown in minutes
        (120, "2 h"),  # first shown in hours
        (179.9, "2 h"),
        (180, "3 h"),
        (2700, "45 h"),  # the "2700 min ago" of issue 11
        (48 * 60 - 1, "47 h"),  # last shown in hours
        (48 * 60, "2 d"),  # first shown in days
        (48 * 60 + 59, "2 d"),
        (49 * 60, "2 d 1 h"),
        (51 * 60 + 30, "2 d 3 h"),
        (72 * 60 - 1, "2 d 23 h"),
        (72 * 60, "3 d"),
        (12 * 24 * 60 + 23 * 60, "12 d 23 h"),
    ],
)
def test_it_reads_durations_as_people_say_them(minutes: float, shown: str) -> None:
    assert humanize_minutes(minutes) == shown


@pytest.mark.parametrize("minutes", [-1, -0.01, math.inf, math.nan])
def test_it_refuses_negative_or_non_finite_minutes(minutes: float) -> None:
    with pytest.raises(InputError) as caught:
        humanize_minutes(minutes)
    assert caught.value.field == "minutes" and "0 or more" in caught.value.message
