"""Spec checklist — how rules read telemetry (core-api §4 windows, baselines, sources; docs/rules/README.md):

- [x] a windowed reading is the median of the fresh device samples in the window, never one sample
- [x] when the device is stale the newest hand-entered value is used while recent; both are kept
- [x] readings ignore samples before ``since`` (the current component) and below a ``floor`` (dropouts)
- [x] a baseline window opens at the first data after the anchor and forms until its hours are complete
- [x] ΔP is computed from pre and post of the same source taken together
- [x] synthetic builders make timelines in a line; they refuse a non-positive step
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import Sample, Timeline
from ecmo_core.surveillance.synthetic import series, steady
from ecmo_core.surveillance.timeline import (
    NoReading,
    Reading,
    Window,
    baseline_window,
    latest,
    median_between,
    windowed,
)

T0 = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
FLOW = "blood_flow_l_min"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def read(timeline: Timeline, minute: float, **kwargs: object) -> Reading | NoReading:
    options: dict[str, object] = {
        "now_s": at(minute).timestamp(),
        "window_s": 600.0,
        "fresh_s": 300.0,
        "min_samples": 3,
        "manual_max_age_s": 4500.0,
    }
    options.update(kwargs)
    return windowed(timeline.pair(FLOW), **options)  # type: ignore[arg-type]


def test_it_takes_the_median_of_the_window() -> None:
    timeline = Timeline(series(FLOW, [4.0, 4.1, 9.9, 4.2, 4.3], start=at(0)))
    reading = read(timeline, 4)
    assert reading == Reading(4.2, at(4), "device", 5)


def test_it_falls_back_to_a_recent_check_and_keeps_both() -> None:
    samples = [*steady(FLOW, 4.0, start=at(0), end=at(10)), Sample(at(20), FLOW, 3.5, "check")]
    timeline = Timeline(samples)
    assert len(timeline) == 12
    reading = read(timeline, 30)
    assert isinstance(reading, Reading) and (reading.value, reading.source, reading.count) == (
        3.5,
        "check",
        1,
    )
    stale = read(timeline, 20 + 76)
    assert isinstance(stale, NoReading) and "(2025-01-01 10:20 UTC) is stale" in stale.reason


def test_it_ignores_samples_before_since_and_below_the_floor() -> None:
    samples = [*steady(FLOW, 4.0, start=at(0), end=at(10)), Sample(at(9), FLOW, 0.0, "check")]
    timeline = Timeline(samples)
    since = read(timeline, 10, since_s=at(9).timestamp())  # two device samples left: the check is used
    assert since == Reading(0.0, at(9), "check", 1)
    floored = read(timeline, 30, floor=0.1)
    assert isinstance(floored, NoReading) and "stale" in floored.reason
    after_install = read(Timeline([]), 30, since_s=at(5).timestamp())
    assert isinstance(after_install, NoReading)
    assert after_install.reason == "no blood flow reading since 2025-01-01 10:05 UTC"


def test_it_reads_the_latest_value_within_its_age() -> None:
    timeline = Timeline(
        [Sample(at(0), "bubble_detected", 0.0), Sample(at(1), "bubble_detected", 1.0, "check")]
    )
    pair = timeline.pair("bubble_detected")
    device = latest(pair, now_s=at(2).timestamp(), device_max_age_s=300, manual_max_age_s=300)
    assert isinstance(device, Reading) and device.source == "device" and device.value == 0.0
    manual = latest(pair, now_s=at(6).timestamp(), device_max_age_s=300, manual_max_age_s=300)
    assert isinstance(manual, Reading) and manual.source == "check"
    now_s, since_s = at(2).timestamp(), at(5).timestamp()
    before = latest(pair, now_s=now_s, device_max_age_s=300, manual_max_age_s=300, since_s=since_s)
    assert isinstance(before, NoReading) and before.reason.startswith("no bubble detector reading since")


def test_it_forms_a_baseline_from_the_first_data_after_the_anchor() -> None:
    timeline = Timeline(steady(FLOW, 4.8, start=at(30), end=at(500)))
    pair = timeline.pair(FLOW)
    forming = baseline_window(pair, anchor_s=at(0).timestamp(), now_s=at(300).timestamp(), hours=6)
    assert isinstance(forming, NoReading) and "until 2025-01-01 16:30 UTC" in forming.reason
    window = baseline_window(pair, anchor_s=at(0).timestamp(), now_s=at(400).timestamp(), hours=6)
    assert window == Window(at(30).timestamp(), at(390).timestamp())
    assert isinstance(window, Window) and (window.start, window.end) == (at(30), at(390))
    median = median_between(timeline, pair, window, min_samples=3)
    assert isinstance(median, Reading) and (median.value, median.count) == (4.8, 361)
    assert median_between(timeline, pair, window, min_samples=3) is median  # cached
    none = baseline_window(pair, anchor_s=at(600).timestamp(), now_s=at(700).timestamp(), hours=6)
    assert isinstance(none, NoReading) and "since 2025-01-01 20:00 UTC" in none.reason


def test_it_pairs_pre_and_post_of_the_same_source() -> None:
    samples = [
        Sample(at(0), "pre_oxygenator_pressure_mmhg", 250.0),
        Sample(at(0), "post_oxygenator_pressure_mmhg", 234.0, "check"),  # another source: not a pair
        Sample(at(1), "pre_oxygenator_pressure_mmhg", 251.0),
        Sample(at(1.25), "post_oxygenator_pressure_mmhg", 233.0),
        Sample(at(5), "pre_oxygenator_pressure_mmhg", 251.0),  # no post at all nearby
    ]
    pair = Timeline(samples).computed_delta_p(30.0)
    assert (pair.device.values.tolist(), pair.manual.values.tolist()) == ([18.0], [])
    assert pair.label == "membrane ΔP (pre − post)"


def test_it_lists_distinct_times() -> None:
    timeline = Timeline([Sample(at(1), FLOW, 4.0), Sample(at(0), "fdo2", 1.0), Sample(at(1), "fdo2", 1.0)])
    assert timeline.times == (at(0), at(1))
    assert timeline.last_check_at(at(5).timestamp()) is None


def test_it_builds_synthetic_timelines() -> None:
    assert [s.observed_at for s in steady(FLOW, 4.0, start=at(0), end=at(2))] == [at(0), at(1), at(2)]
    assert steady(FLOW, 4.0, start=at(2), end=at(0)) == []
    assert [s.source for s in series(FLOW, [4.0, None, 4.1], start=at(0), source="check")] == [
        "check",
        "check",
    ]
    with pytest.raises(InputError) as error:
        steady(FLOW, 4.0, start=at(0), end=at(1), every=timedelta(0))
    assert error.value.field == "every"
