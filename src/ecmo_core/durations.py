"""Durations as people say them: "40 min", "45 h", "2 d 3 h" (issue 11 §8).

A message such as "no circuit check since 10:00 (2700 min ago)" makes the reader divide by 60 at the bedside;
"45 h ago" does not. The bands, each shown in the largest unit that still reads exactly enough:

- under 120 min: whole minutes ("0 min", "75 min", "119 min"), so the hourly check's 75-minute limit reads as
  minutes;
- from 2 h to under 48 h: whole hours ("2 h", "45 h", "47 h");
- from 48 h: days and hours ("2 d", "2 d 3 h", "12 d 23 h").

Each band rounds down: a duration is never shown as longer than it was.
"""

from __future__ import annotations

import math

from ecmo_core.errors import InputError

MINUTES_UNTIL_HOURS = 120  # below this, minutes
HOURS_UNTIL_DAYS = 48  # below this, whole hours


def humanize_minutes(minutes: float) -> str:
    """``minutes`` (≥ 0, finite) as "40 min", "45 h" or "2 d 3 h"."""
    if not math.isfinite(minutes) or minutes < 0:
        raise InputError("minutes", f"must be a finite number of minutes, 0 or more (got {minutes!r})")
    whole = int(minutes)
    if whole < MINUTES_UNTIL_HOURS:
        return f"{whole} min"
    hours = whole // 60
    if hours < HOURS_UNTIL_DAYS:
        return f"{hours} h"
    days, rest = divmod(hours, 24)
    return f"{days} d {rest} h" if rest else f"{days} d"
