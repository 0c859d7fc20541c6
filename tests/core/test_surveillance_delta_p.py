"""Spec checklist — ``oxygenator.delta_p_rise`` (core-api §4; reference §1.1–1.2, §2.1):

- [x] indeterminate while the 6-h baseline forms, then judged against the median of that window
- [x] fires at ΔP ≥ 50 % above baseline, clears below (both sides of the threshold; site setting honoured)
- [x] judges resistance ΔP/flow when flow changed by more than 5 % (demo Run 1: +57 % R fires, +43 % clears,
      although raw ΔP is up only 44 %); raw ΔP when flow is steady or unknown
- [x] a single spike does not fire (windowed median); shared pre/post noise does not change ΔP
- [x] missing or stale data → indeterminate; a recent hand-entered check is used when the device is stale
- [x] the baseline is taken afresh after an oxygenator change (install time or list of install times)
- [x] a console-reported ΔP is used instead of pre − post; pairs only when pre and post were taken together
- [x] a baseline with too few readings or too small to carry a relative rise → indeterminate
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmo_core.surveillance import (
    DeltaPRiseConfig,
    EngineConfig,
    Finding,
    RunContext,
    Sample,
    SurveillanceConfig,
    evaluate,
)
from ecmo_core.surveillance.synthetic import series, steady

RULE_ID = "oxygenator.delta_p_rise"
T0 = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
PRE, POST, FLOW = "pre_oxygenator_pressure_mmhg", "post_oxygenator_pressure_mmhg", "blood_flow_l_min"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def membrane(*segments: tuple[int, int, float, float | None], source: str = "device") -> list[Sample]:
    """(from_min, to_min, ΔP, flow or None): pre, post (and flow) once a minute in [from, to)."""
    samples: list[Sample] = []
    for start, end, delta_p, flow in segments:
        for minute in range(start, end):
            noise = (minute % 7) - 3  # shared by pre and post, as on a real console: ΔP unchanged
            samples.append(Sample(at(minute), PRE, 250.0 + noise, source))
            samples.append(Sample(at(minute), POST, 250.0 + noise - delta_p, source))
            if flow is not None:
                samples.append(Sample(at(minute), FLOW, flow, source))
    return samples


def judge(samples: list[Sample], minute: float, **kwargs: object) -> Finding | None:
    findings = evaluate(samples, now=at(minute), **kwargs)  # type: ignore[arg-type]
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_is_indeterminate_while_the_baseline_forms() -> None:
    finding = judge(membrane((0, 300, 16, 4.8)), 299)
    assert finding is not None and finding.status == "indeterminate"
    assert "still forming" in finding.message and "2025-01-01 16:00 UTC" in finding.message
    assert finding.severity == "info"


def test_it_clears_below_fifty_percent_above_baseline() -> None:
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 23, 4.8)), 699)
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["mode"] == "delta_p"
    assert finding.evidence["baseline_delta_p_mmhg"] == 16.0
    assert "44 % above its baseline of 16 mmHg" in finding.message


def test_it_fires_at_fifty_percent_above_baseline() -> None:
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 24, 4.8)), 699)
    assert finding is not None and finding.status == "firing" and finding.severity == "warning"
    assert finding.evidence["delta_p_mmhg"] == 24.0
    assert finding.evidence["rise_fraction"] == 0.5
    assert "Membrane ΔP 24 mmHg at 4.8 L/min is 50 % above its baseline of 16 mmHg" in finding.message
    assert "plan a change" in finding.message


def test_it_honours_the_site_rise_setting() -> None:
    config = SurveillanceConfig(delta_p_rise=DeltaPRiseConfig(rise_fraction=0.3))
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 21, 4.8)), 699, config=config)
    assert finding is not None and finding.status == "firing"
    assert "alert at +30 %" in finding.message


def test_it_judges_resistance_when_flow_changed_as_in_demo_run_1() -> None:
    # Baseline ΔP 16 at 4.8 L/min (R 3.33); flow cut to 4.4: ΔP 21 is R 4.77 (+43 %), ΔP 23 is R 5.23 (+57 %).
    quiet = judge(membrane((0, 600, 16, 4.8), (600, 700, 21, 4.4)), 699)
    assert quiet is not None and quiet.status == "clear" and quiet.evidence["mode"] == "resistance"
    alert = judge(membrane((0, 600, 16, 4.8), (600, 700, 23, 4.4)), 699)
    assert alert is not None and alert.status == "firing"
    assert alert.evidence["mode"] == "resistance"
    assert round(float(alert.evidence["rise_fraction"]), 3) == 0.568  # type: ignore[arg-type]
    assert "Membrane resistance 5.23 mmHg·min/L (ΔP 23 mmHg at 4.4 L/min)" in alert.message
    assert "baseline of 3.33 (ΔP 16 mmHg at 4.8 L/min)" in alert.message


def test_it_uses_raw_delta_p_when_flow_changed_less_than_the_setting() -> None:
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 24, 4.7)), 699)
    assert finding is not None and finding.status == "firing" and finding.evidence["mode"] == "delta_p"


def test_it_judges_raw_delta_p_when_flow_is_unknown() -> None:
    finding = judge(membrane((0, 600, 16, None), (600, 700, 24, None)), 699)
    assert finding is not None and finding.status == "firing"
    assert finding.evidence["mode"] == "delta_p (flow unknown)"
    assert "flow unknown: judged on raw ΔP" in finding.message


def test_it_does_not_fire_on_a_single_spike() -> None:
    samples = membrane((0, 700, 16, 4.8))
    samples.append(Sample(at(698), PRE, 320.0))  # one pre reading 70 mmHg high: ΔP 86 for one minute
    finding = judge(samples, 698)
    assert finding is not None and finding.status == "clear"


def test_it_is_indeterminate_without_data() -> None:
    finding = judge([], 100)
    assert finding is not None and finding.status == "indeterminate"
    assert "no membrane ΔP (pre − post) reading" in finding.message


def test_it_is_indeterminate_when_the_data_are_stale() -> None:
    finding = judge(membrane((0, 600, 16, 4.8)), 620)
    assert finding is not None and finding.status == "indeterminate"
    assert "is stale" in finding.message and "2025-01-01 19:59 UTC" in finding.message


def test_it_uses_a_recent_check_when_the_device_is_stale() -> None:
    samples = membrane((0, 600, 16, 4.8)) + membrane((610, 611, 26, 4.8), source="check")
    finding = judge(samples, 620)
    assert finding is not None and finding.status == "firing"
    assert finding.evidence["delta_p_mmhg_source"] == "check"
    assert finding.evidence["delta_p_mmhg_samples"] == 1


def test_it_takes_a_fresh_baseline_after_an_oxygenator_change() -> None:
    old = membrane((0, 1000, 16, 4.8), (1000, 1100, 26, 4.8))
    new = membrane((1100, 1500, 12, 4.8))
    context = RunContext(oxygenator_installed_at=at(1100))
    before = judge(old + new, 1090, context=RunContext(oxygenator_install_times=(at(-10), at(1100))))
    assert before is not None and before.status == "firing"
    forming = judge(old + new, 1200, context=context)
    assert forming is not None and forming.status == "indeterminate" and "still forming" in forming.message
    after = judge(old + new, 1470, context=context)
    assert after is not None and after.status == "clear"
    assert after.evidence["baseline_delta_p_mmhg"] == 12.0
    assert after.evidence["oxygenator_installed_at"] == "2025-01-02T04:20:00Z"
    assert after.evidence["baseline_from"] == "2025-01-02T04:20:00Z"


def test_it_starts_the_baseline_at_the_first_data_after_install() -> None:
    finding = judge(membrane((120, 700, 16, 4.8)), 699, context=RunContext(oxygenator_installed_at=at(0)))
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["baseline_from"] == "2025-01-01T12:00:00Z"
    assert finding.evidence["baseline_to"] == "2025-01-01T18:00:00Z"


def test_it_prefers_the_delta_p_the_console_reports() -> None:
    reported = steady("membrane_delta_p_mmhg", 10.0, start=at(0), end=at(599)) + steady(
        "membrane_delta_p_mmhg", 16.0, start=at(600), end=at(700)
    )
    finding = judge(membrane((0, 701, 16, 4.8)) + reported, 699)
    assert finding is not None and finding.status == "firing"
    assert finding.evidence["delta_p_basis"] == "reported by the console"


def test_it_pairs_pre_and_post_only_when_taken_together() -> None:
    every = timedelta(minutes=4)
    pre = steady(PRE, 250.0, start=at(0), end=at(700), every=every)
    post = steady(POST, 234.0, start=at(2), end=at(700), every=every)  # 2 min after each pre: not paired
    unpaired = judge(pre + post, 699)
    assert unpaired is not None and unpaired.status == "indeterminate"
    config = SurveillanceConfig(engine=EngineConfig(pairing_tolerance_s=120))
    paired = judge(pre + post, 700, config=config)
    assert paired is not None and paired.status == "clear"


def test_it_needs_enough_readings_for_a_baseline() -> None:
    checks = membrane((0, 1, 16, 4.8), (300, 301, 16, 4.8), source="check")
    finding = judge(checks + membrane((400, 700, 16, 4.8)), 699)
    assert finding is not None and finding.status == "indeterminate"
    assert "only 2 membrane ΔP (pre − post) readings between" in finding.message


def test_it_refuses_a_baseline_too_small_for_a_relative_rise() -> None:
    finding = judge(membrane((0, 700, 1, 4.8)), 699)
    assert finding is not None and finding.status == "indeterminate"
    assert "too small to judge a relative rise" in finding.message


def test_it_says_when_delta_p_fell_below_baseline() -> None:
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 12, 4.8)), 699)
    assert finding is not None and finding.status == "clear"
    assert "25 % below its baseline" in finding.message


def test_it_records_the_evidence_used() -> None:
    finding = judge(membrane((0, 600, 16, 4.8), (600, 700, 24, 4.8)), 699)
    assert finding is not None
    for key in (
        "delta_p_basis",
        "baseline_from",
        "baseline_to",
        "baseline_delta_p_mmhg",
        "baseline_samples",
        "delta_p_mmhg",
        "delta_p_mmhg_at",
        "flow_l_min",
        "baseline_flow_l_min",
        "threshold_fraction",
    ):
        assert key in finding.evidence
    assert finding.evidence["delta_p_mmhg_at"] == "2025-01-01T21:39:00Z"
    assert finding.rule_version == 1


def test_it_ignores_gaps_in_a_series() -> None:
    flow = series(FLOW, [4.8, None, 4.8], start=at(0))
    assert [s.observed_at for s in flow] == [at(0), at(2)]
