"""Spec checklist — ``pump.flow_per_rpm_fall`` (core-api §4; reference §2.2; demo Run 3, §9):

- [x] baseline = median flow / median rpm over the first 6 h after the pump head (or data) began;
      indeterminate while it forms
- [x] fires at ≥ 20 % below baseline at or above the baseline speed (demo Run 3: −21 % at 3400 rpm fires,
      −16 % at 3300 rpm does not); site setting honoured
- [x] a deliberate speed cut below the baseline speed never fires (demo Run 5 weaning: −45 % at 1950 rpm)
- [x] no finding during a recorded weaning trial (flag or interval; demo Run 4 D12)
- [x] a flow probe dropout (0.0 while the pump turns) is missing, never a fall (demo §9)
- [x] a single spike does not fire; missing or stale data → indeterminate
- [x] a pump-head change starts a fresh baseline
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmo_core.surveillance import (
    Finding,
    FlowPerRpmFallConfig,
    RunContext,
    Sample,
    SurveillanceConfig,
    evaluate,
)
from ecmo_core.surveillance.synthetic import steady

RULE_ID = "pump.flow_per_rpm_fall"
T0 = datetime(2025, 1, 3, 12, 0, tzinfo=UTC)
FLOW, RPM = "blood_flow_l_min", "pump_speed_rpm"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pump(*segments: tuple[int, int, float | None, float | None]) -> list[Sample]:
    """(from_min, to_min, flow, rpm): one reading of each per minute in [from, to); None = not sent."""
    samples: list[Sample] = []
    for start, end, flow, rpm in segments:
        if flow is not None:
            samples += steady(FLOW, flow, start=at(start), end=at(end - 1))
        if rpm is not None:
            samples += steady(RPM, rpm, start=at(start), end=at(end - 1))
    return samples


BASELINE = (0, 400, 3.8, 3300.0)  # 1.15 L/min per 1000 rpm, demo Run 3 D0


def judge(samples: list[Sample], minute: float, **kwargs: object) -> Finding | None:
    findings = evaluate(samples, now=at(minute), **kwargs)  # type: ignore[arg-type]
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_is_indeterminate_while_the_baseline_forms() -> None:
    finding = judge(pump((0, 200, 3.8, 3300)), 199)
    assert finding is not None and finding.status == "indeterminate"
    assert "blood flow baseline is still forming" in finding.message


def test_it_fires_when_more_speed_buys_less_flow() -> None:
    finding = judge(pump(BASELINE, (400, 500, 3.1, 3400)), 499)
    assert finding is not None and finding.status == "firing" and finding.severity == "warning"
    assert round(float(finding.evidence["fall_fraction"]), 2) == 0.21  # type: ignore[arg-type]
    assert "Flow per 1000 rpm 0.91 L/min (3.1 L/min at 3400 rpm) is 21 % below its baseline of 1.15" in (
        finding.message
    )
    assert "more speed is buying less flow" in finding.message


def test_it_stays_clear_just_above_the_threshold() -> None:
    finding = judge(pump(BASELINE, (400, 500, 3.2, 3300)), 499)  # −16 %, demo Run 3 D5 06:00
    assert finding is not None and finding.status == "clear"
    assert "alert at 20 % below" in finding.message


def test_it_honours_the_site_fall_setting() -> None:
    config = SurveillanceConfig(flow_per_rpm_fall=FlowPerRpmFallConfig(fall_fraction=0.15))
    finding = judge(pump(BASELINE, (400, 500, 3.2, 3300)), 499, config=config)
    assert finding is not None and finding.status == "firing"


def test_it_never_fires_on_a_deliberate_speed_cut() -> None:
    finding = judge(pump((0, 400, 4.0, 3600), (400, 500, 1.2, 1950)), 499)  # demo Run 5: −45 %
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["at_or_above_baseline_speed"] is False
    assert "a speed cut, not judged as pump-head thrombus" in finding.message


def test_it_treats_speed_within_the_tolerance_as_the_baseline_speed() -> None:
    finding = judge(pump(BASELINE, (400, 500, 2.9, 3260)), 499)
    assert finding is not None and finding.status == "firing"


def test_it_does_not_apply_during_a_weaning_trial() -> None:
    # Demo Run 4 D12: 0.96 vs 1.23 L/min per 1000 rpm (−22 %) at 2600 rpm during a sweep-off trial.
    samples = pump((0, 500, 4.3, 3500), (500, 600, 2.5, 2600))
    assert judge(samples, 599, context=RunContext(weaning_trial_active=True)) is None
    trial = RunContext(weaning_trials=((at(450), None),))
    assert judge(samples, 599, context=trial) is None
    ended = RunContext(weaning_trials=((at(450), at(520)),))
    finding = judge(samples, 599, context=ended)
    assert finding is not None and finding.status == "clear"


def test_it_treats_a_flow_probe_dropout_as_missing() -> None:
    samples = pump(BASELINE, (400, 500, 0.0, 3300))  # probe off: flow 0.0 while rpm unchanged
    finding = judge(samples, 499)
    assert finding is not None and finding.status == "indeterminate"
    assert "below 0.1: a sensor dropout" in finding.message


def test_it_does_not_fire_on_a_single_spike() -> None:
    samples = [*pump(BASELINE, (400, 500, 3.8, 3300)), Sample(at(499), FLOW, 1.0)]
    finding = judge(samples, 499)
    assert finding is not None and finding.status == "clear"


def test_it_is_indeterminate_without_speed() -> None:
    finding = judge(pump((0, 500, 3.8, None)), 499)
    assert finding is not None and finding.status == "indeterminate"
    assert "pump speed" in finding.message


def test_it_is_indeterminate_when_the_data_are_stale() -> None:
    finding = judge(pump(BASELINE, (400, 500, 3.8, 3300)), 530)
    assert finding is not None and finding.status == "indeterminate"
    assert "is stale" in finding.message


def test_it_is_indeterminate_without_any_flow() -> None:
    finding = judge(pump((0, 500, None, 3300)), 499)
    assert finding is not None and finding.status == "indeterminate"
    assert "no blood flow reading" in finding.message


def test_it_takes_a_fresh_baseline_after_a_pump_head_change() -> None:
    samples = pump(BASELINE, (400, 500, 3.1, 3400), (510, 1000, 3.1, 3400))
    before = judge(samples, 499, context=RunContext(pump_head_install_times=(at(0), at(505))))
    assert before is not None and before.status == "firing"
    context = RunContext(pump_head_installed_at=at(505))
    forming = judge(samples, 600, context=context)
    assert forming is not None and forming.status == "indeterminate"
    after = judge(samples, 999, context=context)
    assert after is not None and after.status == "clear"
    assert after.evidence["baseline_from"] == "2025-01-03T20:30:00Z"
    assert after.evidence["pump_head_installed_at"] == "2025-01-03T20:25:00Z"


def test_it_says_when_flow_per_rpm_rose() -> None:
    finding = judge(pump(BASELINE, (400, 500, 4.2, 3300)), 499)
    assert finding is not None and finding.status == "clear"
    assert "above its baseline" in finding.message
