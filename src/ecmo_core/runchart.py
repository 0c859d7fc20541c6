"""Run charts: the median and the IHI run-chart rules for non-random variation (shift, trend).

Source: Perla RJ, Provost LP, Murray SK. The run chart: a simple analytical tool for learning from variation in
healthcare processes. BMJ Qual Saf 2011;20:46–51. doi:10.1136/bmjqs.2010.046375 (rules 1 and 2 of its Figure 2).

- **Shift** (rule 1): six or more consecutive points all above, or all below, the median. Points that fall
  exactly on the median neither add to nor break a shift: they are skipped and counting continues.
- **Trend** (rule 2): five or more consecutive points all going up, or all going down. When successive points
  have the same value, one of them is ignored when counting: like values neither make nor break a trend.

Readings chosen where the paper leaves room (docs/governance.md lists them):

- The median is the ordinary sample median (mean of the two middle values for an even count). A chart may
  *freeze* the median on its first ``baseline_points`` points (Perla's "baseline median") and judge later
  points against it; by default every point is used.
- A shift's flagged points are the off-median points that counted; the on-median points inside its span are
  not flagged (they are not part of the signal), but the span (first and last index) covers them.
- A trend's flagged points are all points of the span, repeated values included (they lie on the trend line).
  A run that turns (up then down) gives two trends sharing the turning point when each is long enough.
- "Consecutive" is in the order given (time order); the caller sorts by date.
- Astronomical points and the "too few or too many runs" rule (rules 3 and 4) are not computed: the first is a
  judgement the paper leaves to people who know the process, the second needs the runs table of the paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from ecmo_core.errors import InputError

# Perla, Provost & Murray 2011, Figure 2, rule 1 (shift) and rule 2 (trend).
SHIFT_MIN_POINTS: Final = 6
TREND_MIN_POINTS: Final = 5

Rule = Literal["shift", "trend"]
Direction = Literal["above", "below", "up", "down"]


@dataclass(frozen=True)
class Signal:
    """One rule firing: ``rule`` and ``direction``, the span ``start``..``end`` (indices, inclusive), the
    ``points`` that counted toward it (indices), and how many counted (``length``)."""

    rule: Rule
    direction: Direction
    start: int
    end: int
    points: tuple[int, ...]
    length: int


@dataclass(frozen=True)
class RunChart:
    """The analysed chart: the values, the median used, every signal, and the set of flagged indices."""

    values: tuple[float, ...]
    median: float
    baseline_points: int
    signals: tuple[Signal, ...]
    flagged: frozenset[int]


def _check_values(values: Sequence[float]) -> tuple[float, ...]:
    out: list[float] = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InputError("values", f"point {i + 1} is {v!r}: every point must be a finite number")
        out.append(float(v))
    return tuple(out)


def median(values: Sequence[float]) -> float:
    """The sample median; the mean of the two middle values for an even count. At least one value."""
    data = sorted(_check_values(values))
    if not data:
        raise InputError("values", "a median needs at least one point")
    mid = len(data) // 2
    if len(data) % 2:
        return data[mid]
    return (data[mid - 1] + data[mid]) / 2


def _check_min(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise InputError(name, f"must be a whole number of points, 2 or more (got {value!r})")


def shifts(
    values: Sequence[float], centre: float, *, min_points: int = SHIFT_MIN_POINTS
) -> tuple[Signal, ...]:
    """Every run of ``min_points`` or more off-median points on one side of ``centre``, in order."""
    data = _check_values(values)
    _check_min("min_points", min_points)
    found: list[Signal] = []
    side = 0  # +1 above, -1 below, 0 none yet
    streak: list[int] = []

    def close() -> None:
        if len(streak) >= min_points:
            found.append(
                Signal(
                    rule="shift",
                    direction="above" if side > 0 else "below",
                    start=streak[0],
                    end=streak[-1],
                    points=tuple(streak),
                    length=len(streak),
                )
            )

    for i, v in enumerate(data):
        if v == centre:
            continue  # on the median: neither adds to nor breaks the shift
        here = 1 if v > centre else -1
        if here != side:
            close()
            side, streak = here, []
        streak.append(i)
    close()
    return tuple(found)


def trends(values: Sequence[float], *, min_points: int = TREND_MIN_POINTS) -> tuple[Signal, ...]:
    """Every run of ``min_points`` or more points all going up or all going down (repeats counted once)."""
    data = _check_values(values)
    _check_min("min_points", min_points)
    # Collapse successive equal values into one counted point that owns all their indices.
    groups: list[tuple[float, list[int]]] = []
    for i, v in enumerate(data):
        if groups and groups[-1][0] == v:
            groups[-1][1].append(i)
        else:
            groups.append((v, [i]))
    found: list[Signal] = []
    start = 0
    while start < len(groups) - 1:
        up = groups[start + 1][0] > groups[start][0]
        end = start + 1
        while end + 1 < len(groups) and (groups[end + 1][0] > groups[end][0]) == up:
            end += 1
        counted = end - start + 1
        if counted >= min_points:
            points = tuple(i for _, idx in groups[start : end + 1] for i in idx)
            found.append(
                Signal(
                    rule="trend",
                    direction="up" if up else "down",
                    start=points[0],
                    end=points[-1],
                    points=points,
                    length=counted,
                )
            )
        start = end  # the turning point starts the next run
    return tuple(found)


def analyse(
    values: Sequence[float],
    *,
    baseline_points: int | None = None,
    shift_min_points: int = SHIFT_MIN_POINTS,
    trend_min_points: int = TREND_MIN_POINTS,
) -> RunChart:
    """The median (of all points, or of the first ``baseline_points``) and every shift and trend."""
    data = _check_values(values)
    if not data:
        raise InputError("values", "a run chart needs at least one point")
    if baseline_points is None:
        baseline_points = len(data)
    if (
        isinstance(baseline_points, bool)
        or not isinstance(baseline_points, int)
        or not (1 <= baseline_points <= len(data))
    ):
        raise InputError("baseline_points", f"must be between 1 and {len(data)} (the number of points)")
    centre = median(data[:baseline_points])
    signals = shifts(data, centre, min_points=shift_min_points) + trends(data, min_points=trend_min_points)
    flagged = frozenset(i for s in signals for i in s.points)
    return RunChart(
        values=data, median=centre, baseline_points=baseline_points, signals=signals, flagged=flagged
    )
