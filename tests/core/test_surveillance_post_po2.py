"""Spec checklist — ``oxygenator.post_po2_low`` (core-api §4; reference §1.2, §2.1; demo Run 4 D5):

- [x] fires (critical) when post-oxygenator PO2 < 150 mmHg on FdO2 ≥ 0.95 with sweep > 0; 150 itself is clear
- [x] the site threshold (150–200) is honoured
- [x] no finding when the test condition fails: FdO2 < 0.95 (V-A titration) or sweep 0 with the blender at
      1.0 (demo §9); FdO2 and sweep are read as of the time of the PO2 reading
- [x] missing or stale PO2 → indeterminate; unknown FdO2 or sweep → indeterminate, naming which
- [x] a hand-entered gas counts for 24 h (site setting); a single low device spike does not fire
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmo_core.surveillance import Finding, PostPo2LowConfig, Sample, SurveillanceConfig, evaluate
from ecmo_core.surveillance.synthetic import steady

RULE_ID = "oxygenator.post_po2_low"
T0 = datetime(2025, 1, 6, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def settings(*, fdo2: float = 1.0, sweep: float = 4.0, until: float = 60) -> list[Sample]:
    return steady("fdo2", fdo2, start=at(0), end=at(until)) + steady(
        "sweep_gas_l_min", sweep, start=at(0), end=at(until)
    )


def gas(value: float, minute: float, source: str = "lab") -> list[Sample]:
    return [Sample(at(minute), "post_oxygenator_po2_mmhg", value, source)]


def judge(samples: list[Sample], minute: float, config: SurveillanceConfig | None = None) -> Finding | None:
    findings = evaluate(samples, now=at(minute), config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_fires_critical_when_the_gas_supply_is_lost() -> None:
    finding = judge(settings() + gas(108, 20), 30)
    assert finding is not None and finding.status == "firing" and finding.severity == "critical"
    assert "Post-oxygenator PO2 108 mmHg on FdO2 1 with sweep 4 L/min is below 150 mmHg" in finding.message
    assert "Check the gas supply first" in finding.message
    assert finding.evidence["post_oxygenator_po2_mmhg_source"] == "lab"
    assert finding.evidence["fdo2"] == 1.0


def test_it_clears_at_and_above_the_threshold() -> None:
    at_threshold = judge(settings() + gas(150, 20), 30)
    assert at_threshold is not None and at_threshold.status == "clear"
    recovered = judge(settings() + gas(472, 20), 30)
    assert recovered is not None and recovered.status == "clear"
    assert "alert below 150 mmHg" in recovered.message


def test_it_honours_the_site_threshold() -> None:
    config = SurveillanceConfig(post_po2_low=PostPo2LowConfig(threshold_mmhg=180))
    finding = judge(settings() + gas(160, 20), 30, config)
    assert finding is not None and finding.status == "firing"


def test_it_does_not_apply_below_fdo2_095() -> None:
    assert judge(settings(fdo2=0.5) + gas(142, 20), 30) is None  # V-A titration, demo Run 2 D2


def test_it_does_not_apply_with_the_sweep_off() -> None:
    assert judge(settings(sweep=0.0) + gas(40, 20), 30) is None  # demo §9: blender still at 1.0


def test_it_reads_fdo2_and_sweep_at_the_time_of_the_gas() -> None:
    samples = settings(until=25) + gas(108, 20) + steady("fdo2", 0.5, start=at(26), end=at(60))
    samples += steady("sweep_gas_l_min", 4.0, start=at(26), end=at(60))
    finding = judge(samples, 50)
    assert finding is not None and finding.status == "firing"
    assert finding.evidence["fdo2_at"] == "2025-01-06T14:20:00Z"


def test_it_is_indeterminate_without_a_po2() -> None:
    finding = judge(settings(), 30)
    assert finding is not None and finding.status == "indeterminate"
    assert "no post-oxygenator PO2 reading" in finding.message


def test_it_is_indeterminate_when_the_po2_is_older_than_a_day() -> None:
    samples = settings(until=25 * 60) + gas(300, 10)
    finding = judge(samples, 25 * 60)
    assert finding is not None and finding.status == "indeterminate"
    assert "is stale" in finding.message


def test_it_is_indeterminate_when_fdo2_is_unknown() -> None:
    samples = steady("sweep_gas_l_min", 4.0, start=at(0), end=at(60)) + gas(108, 20)
    finding = judge(samples, 30)
    assert finding is not None and finding.status == "indeterminate"
    assert "the FdO2 at that time is unknown" in finding.message


def test_it_is_indeterminate_when_the_sweep_is_unknown() -> None:
    samples = steady("fdo2", 1.0, start=at(0), end=at(60)) + gas(108, 20)
    finding = judge(samples, 30)
    assert finding is not None and finding.status == "indeterminate"
    assert "the sweep at that time is unknown" in finding.message


def test_it_does_not_fire_on_a_single_low_device_reading() -> None:
    po2 = steady("post_oxygenator_po2_mmhg", 470.0, start=at(0), end=at(60))
    po2.append(Sample(at(30), "post_oxygenator_po2_mmhg", 90.0))  # replaces the 470 at 14:30 (same key)
    finding = judge(settings() + po2, 30)
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["post_oxygenator_po2_mmhg_samples"] == 11


def test_it_fires_on_a_sustained_low_device_reading() -> None:
    po2 = steady("post_oxygenator_po2_mmhg", 120.0, start=at(0), end=at(60))
    finding = judge(settings() + po2, 30)
    assert finding is not None and finding.status == "firing"
    assert finding.evidence["post_oxygenator_po2_mmhg_source"] == "device"
