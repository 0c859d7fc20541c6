"""Spec checklist — ``access.pressure_low`` (core-api §4; reference §1.2, §2.9; demo Run 4 D3, §9):

- [x] fires (warning) when the windowed median is more negative than −100 mmHg; −100 itself is clear
- [x] the site threshold (−200 to −50) is honoured
- [x] chatter (5-s readings swinging −95 to −135 mmHg) fires once and clears once over a replay
- [x] a single deep spike does not fire; too few readings in the window → indeterminate
- [x] missing or stale data → indeterminate; a recent hand-entered check is used when the device is stale
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmo_core.replay import replay
from ecmo_core.surveillance import AccessPressureLowConfig, Finding, Sample, SurveillanceConfig, evaluate
from ecmo_core.surveillance.synthetic import series, steady

RULE_ID = "access.pressure_low"
PACC = "access_pressure_mmhg"
T0 = datetime(2025, 1, 4, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def judge(samples: list[Sample], minute: float, config: SurveillanceConfig | None = None) -> Finding | None:
    findings = evaluate(samples, now=at(minute), config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_fires_when_more_negative_than_minus_100() -> None:
    finding = judge(steady(PACC, -125.0, start=at(0), end=at(20)), 20)
    assert finding is not None and finding.status == "firing" and finding.severity == "warning"
    assert (
        "Access pressure -125 mmHg (median of 11 readings) is more negative than -100 mmHg" in finding.message
    )


def test_it_is_clear_at_minus_100_and_above() -> None:
    for value in (-100.0, -78.0):
        finding = judge(steady(PACC, value, start=at(0), end=at(20)), 20)
        assert finding is not None and finding.status == "clear"
        assert "alert below -100 mmHg" in finding.message


def test_it_honours_the_site_threshold() -> None:
    config = SurveillanceConfig(access_pressure_low=AccessPressureLowConfig(threshold_mmhg=-80))
    finding = judge(steady(PACC, -90.0, start=at(0), end=at(20)), 20, config)
    assert finding is not None and finding.status == "firing"


def test_it_does_not_fire_on_a_single_spike() -> None:
    samples = [*steady(PACC, -60.0, start=at(0), end=at(20)), Sample(at(20), PACC, -300.0)]
    finding = judge(samples, 20)
    assert finding is not None and finding.status == "clear"


def test_it_fires_once_and_clears_once_through_chatter() -> None:
    swings = [-95.0, -135.0, -110.0, -128.0, -99.0, -131.0, -117.0, -102.0]  # 5-s readings, demo §9
    chatter = series(PACC, swings * 38, start=at(0), every=timedelta(seconds=5))  # 25 min of chatter
    settled = steady(PACC, -78.0, start=at(25.5), end=at(60), every=timedelta(seconds=5))
    before = steady(PACC, -72.0, start=at(-30), end=at(-0.1), every=timedelta(seconds=5))
    transitions = [t for t in replay(before + chatter + settled) if t.rule_id == RULE_ID]
    assert [(t.from_status, t.to_status) for t in transitions] == [
        (None, "indeterminate"),
        ("indeterminate", "clear"),
        ("clear", "firing"),
        ("firing", "clear"),
    ]


def test_it_is_indeterminate_with_too_few_readings() -> None:
    finding = judge(series(PACC, [-120.0, None, None, None, None, None, None, None, -120.0], start=at(0)), 8)
    assert finding is not None and finding.status == "indeterminate"
    assert "only 2 usable access (pre-pump) pressure readings in the last 10 min (3 needed" in finding.message


def test_it_is_indeterminate_with_one_reading() -> None:
    finding = judge([Sample(at(0), PACC, -120.0)], 0)
    assert finding is not None and finding.status == "indeterminate"
    assert "only 1 usable access (pre-pump) pressure reading in" in finding.message


def test_it_is_indeterminate_without_data() -> None:
    finding = judge([], 0)
    assert finding is not None and finding.status == "indeterminate"
    assert "no access (pre-pump) pressure reading" in finding.message


def test_it_is_indeterminate_when_the_data_are_stale() -> None:
    finding = judge(steady(PACC, -125.0, start=at(0), end=at(20)), 26)
    assert finding is not None and finding.status == "indeterminate"
    assert "the last access (pre-pump) pressure reading (2025-01-04 03:20 UTC) is stale" in finding.message


def test_it_uses_a_recent_check_when_the_device_is_stale() -> None:
    samples = [*steady(PACC, -60.0, start=at(0), end=at(20)), Sample(at(30), PACC, -120.0, "check")]
    finding = judge(samples, 60)
    assert finding is not None and finding.status == "firing"
    assert "(check value)" in finding.message
    stale = judge(samples, 30 + 76)
    assert stale is not None and stale.status == "indeterminate"
