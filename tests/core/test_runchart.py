"""Run-chart median and the IHI rules (Perla, Provost & Murray, BMJ Qual Saf 2011;20:46–51).

- the median: odd and even counts, a frozen baseline median, bad input named
- shift: 5 points on one side is not a shift, 6 is; points on the median neither add nor break; a change of side
  breaks; above and below; several shifts on one chart
- trend: 4 rising points is not a trend, 5 is; repeated values count once and do not break; falling trends; a
  turn gives two trends sharing the turning point
- analyse(): flagged points are the union of the rules' points
"""

from __future__ import annotations

import math

import pytest

from ecmo_core.errors import InputError
from ecmo_core.runchart import analyse, median, shifts, trends


def test_it_takes_the_middle_value_of_an_odd_count() -> None:
    assert median([5, 1, 3]) == 3  # sorted 1 3 5 → 3


def test_it_averages_the_two_middle_values_of_an_even_count() -> None:
    assert median([4, 1, 3, 2]) == 2.5  # sorted 1 2 3 4 → (2 + 3) / 2


@pytest.mark.parametrize("bad", [[], [1, math.nan], [1, math.inf], [1, "2"], [True]])
def test_it_refuses_empty_or_non_numeric_points(bad: list[object]) -> None:
    with pytest.raises(InputError) as err:
        median(bad)  # type: ignore[arg-type]
    assert err.value.field == "values"


def test_it_finds_no_shift_in_five_points_above_the_median() -> None:
    # median 5; points 1–5 (indices 1..5) are above: only 5 in a row.
    assert shifts([5, 6, 7, 8, 6, 7, 4], 5) == ()


def test_it_finds_a_shift_in_six_points_above_the_median() -> None:
    (s,) = shifts([4, 6, 7, 8, 6, 7, 9, 4], 5)
    assert (s.rule, s.direction, s.start, s.end, s.length) == ("shift", "above", 1, 6, 6)
    assert s.points == (1, 2, 3, 4, 5, 6)


def test_it_skips_points_on_the_median_without_breaking_the_shift() -> None:
    # Six below (indices 0,1,3,4,6,7) with two on the median (2 and 5) inside: still a shift of 6, span 0..7.
    (s,) = shifts([1, 2, 5, 3, 1, 5, 2, 4], 5)
    assert (s.direction, s.start, s.end, s.length) == ("below", 0, 7, 6)
    assert s.points == (0, 1, 3, 4, 6, 7)


def test_it_does_not_let_points_on_the_median_add_to_a_shift() -> None:
    # Five below with three on the median: 5 counted points, no shift.
    assert shifts([1, 5, 2, 5, 3, 5, 1, 2], 5) == ()


def test_it_breaks_a_shift_when_a_point_crosses_the_median() -> None:
    assert shifts([1, 2, 3, 9, 1, 2, 3], 5) == ()


def test_it_finds_a_shift_at_the_end_and_another_at_the_start() -> None:
    found = shifts([1] * 6 + [9] * 7, 5)
    assert [(s.direction, s.start, s.end, s.length) for s in found] == [
        ("below", 0, 5, 6),
        ("above", 6, 12, 7),
    ]


def test_it_finds_no_trend_in_four_rising_points() -> None:
    assert trends([1, 2, 3, 4, 3]) == ()


def test_it_finds_a_trend_in_five_rising_points() -> None:
    (t,) = trends([3, 1, 2, 3, 4, 5, 2])
    # 1 2 3 4 5 at indices 1..5: five counted points going up. 3→1 before it is a fall of only 2 points.
    assert (t.rule, t.direction, t.start, t.end, t.length) == ("trend", "up", 1, 5, 5)


def test_it_counts_repeated_values_once() -> None:
    # 1 2 2 3 4: only four counted points (the repeat counts once) → no trend.
    assert trends([1, 2, 2, 3, 4]) == ()


def test_it_does_not_let_a_repeat_break_a_trend() -> None:
    # 9 8 8 7 6 5: counted 9 8 7 6 5 = five falling points; every index flagged, the repeat included.
    (t,) = trends([9, 8, 8, 7, 6, 5])
    assert (t.direction, t.start, t.end, t.length) == ("down", 0, 5, 5)
    assert t.points == (0, 1, 2, 3, 4, 5)


def test_it_gives_two_trends_sharing_a_turning_point() -> None:
    found = trends([1, 2, 3, 4, 5, 4, 3, 2, 1])
    assert [(t.direction, t.start, t.end, t.length) for t in found] == [("up", 0, 4, 5), ("down", 4, 8, 5)]


def test_it_finds_nothing_in_a_flat_or_tiny_series() -> None:
    assert trends([3, 3, 3]) == ()
    assert trends([7]) == ()
    assert shifts([5, 5, 5], 5) == ()


@pytest.mark.parametrize("bad", [1, 0, True, 2.5])
def test_it_refuses_a_rule_length_below_two(bad: object) -> None:
    with pytest.raises(InputError) as err:
        trends([1, 2], min_points=bad)  # type: ignore[arg-type]
    assert err.value.field == "min_points"
    with pytest.raises(InputError):
        shifts([1, 2], 1, min_points=bad)  # type: ignore[arg-type]


def test_it_flags_the_union_of_the_rules_points() -> None:
    # 12 points sorted 1 2 3 4 5 5 | 6 7 7 8 8 9: median (5 + 6) / 2 = 5.5. Indices 0..5 (1 2 3 4 5 5) are six
    # below → shift 0..5; indices 6..11 six above → shift 6..11. 1 2 3 4 5 5 6 8 rises through index 7 (the
    # repeated 5 counts once: 7 counted points) → trend 0..7; 8 7 9 8 7 never makes 5.
    values = [1, 2, 3, 4, 5, 5, 6, 8, 7, 9, 8, 7]
    chart = analyse(values)
    assert chart.median == 5.5
    assert [(s.rule, s.direction, s.start, s.end) for s in chart.signals] == [
        ("shift", "below", 0, 5),
        ("shift", "above", 6, 11),
        ("trend", "up", 0, 7),
    ]
    assert chart.flagged == frozenset(range(12))


def test_it_freezes_the_median_on_the_baseline_points() -> None:
    # Baseline 4 points 10 12 11 13 → median (11 + 12) / 2 = 11.5; the six later points (all < 11.5) are a shift.
    chart = analyse([10, 12, 11, 13, 9, 8, 9, 7, 8, 9], baseline_points=4)
    assert chart.median == 11.5
    assert chart.baseline_points == 4
    assert [(s.rule, s.direction, s.start, s.end, s.length) for s in chart.signals] == [
        ("shift", "below", 4, 9, 6)
    ]


@pytest.mark.parametrize("bad", [0, 4, True, 1.5])
def test_it_refuses_a_baseline_outside_the_points(bad: object) -> None:
    with pytest.raises(InputError) as err:
        analyse([1, 2, 3], baseline_points=bad)  # type: ignore[arg-type]
    assert err.value.field == "baseline_points"


def test_it_refuses_an_empty_chart() -> None:
    with pytest.raises(InputError):
        analyse([])
