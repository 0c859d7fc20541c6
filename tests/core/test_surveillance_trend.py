"""Spec checklist — component-life planning (``project_delta_p_crossing``, ``delta_p_points``):

- [x] a least-squares line over the window gives the time ΔP reaches baseline × 1.5 (exact on a straight line)
- [x] None when ΔP is flat or falling, with too few readings, all at one instant, or beyond the horizon
- [x] ``now`` when the trend line is already at or above the threshold
- [x] readings outside the window are ignored; bad inputs are refused naming the argument
- [x] ``delta_p_points`` gives the same ΔP as the rule: console-reported if present, else pre − post
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import Sample, Timeline, delta_p_points, project_delta_p_crossing
from ecmo_core.surveillance.synthetic import steady

NOW = datetime(2025, 1, 7, 4, 0, tzinfo=UTC)


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def line(start_mmhg: float, per_hour: float, hours: int = 24) -> list[tuple[datetime, float]]:
    return [(hours_ago(hours - h), start_mmhg + per_hour * h) for h in range(hours + 1)]


def test_it_projects_a_straight_rise_exactly() -> None:
    # 16 mmHg a day ago, +0.25 mmHg/h: 22 now; the threshold 24 is 8 h ahead.
    crossing = project_delta_p_crossing(line(16.0, 0.25), now=NOW, baseline_mmhg=16.0)
    assert crossing is not None
    assert abs((crossing - (NOW + timedelta(hours=8))).total_seconds()) < 1.0


def test_it_uses_the_rule_threshold_setting() -> None:
    crossing = project_delta_p_crossing(line(16.0, 0.25), now=NOW, baseline_mmhg=16.0, rise_fraction=0.75)
    assert crossing is not None and abs((crossing - (NOW + timedelta(hours=24))).total_seconds()) < 1.0


def test_it_returns_now_when_the_trend_is_already_over_the_threshold() -> None:
    assert project_delta_p_crossing(line(20.0, 0.5), now=NOW, baseline_mmhg=16.0) == NOW


def test_it_returns_none_when_delta_p_is_not_rising() -> None:
    assert project_delta_p_crossing(line(16.0, 0.0), now=NOW, baseline_mmhg=16.0) is None
    assert project_delta_p_crossing(line(20.0, -0.1), now=NOW, baseline_mmhg=16.0) is None


def test_it_returns_none_with_too_few_or_simultaneous_readings() -> None:
    assert project_delta_p_crossing(line(16.0, 1.0, hours=1), now=NOW, baseline_mmhg=16.0) is None
    same_time = [(hours_ago(1), 16.0), (hours_ago(1), 18.0), (hours_ago(1), 20.0)]
    assert project_delta_p_crossing(same_time, now=NOW, baseline_mmhg=16.0) is None


def test_it_returns_none_beyond_the_horizon() -> None:
    slow = line(16.0, 0.001)
    assert project_delta_p_crossing(slow, now=NOW, baseline_mmhg=16.0) is None
    assert (
        project_delta_p_crossing(slow, now=NOW, baseline_mmhg=16.0, horizon=timedelta(days=400)) is not None
    )


def test_it_fits_only_the_window() -> None:
    points = [(hours_ago(48), 40.0), *line(16.0, 0.25, hours=12), (NOW + timedelta(hours=1), 99.0)]
    crossing = project_delta_p_crossing(points, now=NOW, baseline_mmhg=16.0, window=timedelta(hours=12))
    assert crossing is not None and abs((crossing - (NOW + timedelta(hours=20))).total_seconds()) < 1.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"baseline_mmhg": 0.0}, "baseline_mmhg"),
        ({"rise_fraction": 0.0}, "rise_fraction"),
        ({"min_points": 1}, "min_points"),
        ({"window": timedelta(0)}, "window"),
        ({"horizon": 30}, "horizon"),
        ({"now": datetime(2025, 1, 7, 4, 0)}, "now"),
        ({"points": [(NOW, 16.0, "x")]}, "points[0]"),
        ({"points": [(NOW, 900.0)]}, "points[0]"),
        ({"points": [(datetime(2025, 1, 7, 4, 0), 16.0)]}, "points[0]"),
    ],
)
def test_it_refuses_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"points": line(16.0, 0.25), "now": NOW, "baseline_mmhg": 16.0}
    arguments.update(kwargs)
    points = arguments.pop("points")
    with pytest.raises(InputError) as error:
        project_delta_p_crossing(points, **arguments)  # type: ignore[arg-type]
    assert error.value.field == field


def test_it_lists_delta_p_as_the_rule_computes_it() -> None:
    start = hours_ago(2)
    pre = steady("pre_oxygenator_pressure_mmhg", 250.0, start=start, end=NOW, every=timedelta(hours=1))
    post = steady("post_oxygenator_pressure_mmhg", 234.0, start=start, end=NOW, every=timedelta(hours=1))
    points = delta_p_points(pre + post)
    assert points == [(hours_ago(2), 16.0), (hours_ago(1), 16.0), (NOW, 16.0)]
    assert delta_p_points(Timeline(pre + post), since=hours_ago(1.5), until=hours_ago(0.5)) == [
        (hours_ago(1), 16.0)
    ]
    reported = [Sample(hours_ago(1), "membrane_delta_p_mmhg", 18.0, "check")]
    assert delta_p_points(pre + post + reported) == [(hours_ago(1), 18.0)]
    with pytest.raises(InputError):
        delta_p_points([], pairing_tolerance_s=-1)
