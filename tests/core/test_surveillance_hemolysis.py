"""Spec checklist — ``hemolysis.pfhb_high`` (core-api §4; reference §2.3; demo Runs 2–4):

- [x] > 50 mg/dL critical; > 10 mg/dL warning; ≤ 10 clear (both sides of both thresholds, 50 itself warning)
- [x] site thresholds honoured; warning must stay below critical
- [x] the latest result counts for 30 h (site setting); older or none → indeterminate, never clear
- [x] a result's source does not matter (lab, hand-entered, device)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import Finding, PfhbHighConfig, Sample, SurveillanceConfig, evaluate

RULE_ID = "hemolysis.pfhb_high"
T0 = datetime(2025, 1, 8, 6, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def judge(samples: list[Sample], hours: float, config: SurveillanceConfig | None = None) -> Finding | None:
    findings = evaluate(samples, now=at(hours), config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def pfhb(value: float, hours: float = 0, source: str = "lab") -> Sample:
    return Sample(at(hours), "plasma_free_hb_mg_dl", value, source)


@pytest.mark.parametrize(
    ("value", "status", "severity"),
    [
        (6.0, "clear", "info"),
        (10.0, "clear", "info"),
        (10.5, "firing", "warning"),
        (48.0, "firing", "warning"),
        (50.0, "firing", "warning"),
        (62.0, "firing", "critical"),
    ],
)
def test_it_grades_plasma_free_hb(value: float, status: str, severity: str) -> None:
    finding = judge([pfhb(value)], 1)
    assert finding is not None and (finding.status, finding.severity) == (status, severity)


def test_it_words_a_critical_result() -> None:
    finding = judge([pfhb(62, source="device")], 1)
    assert finding is not None
    assert finding.message.startswith("Plasma free Hb 62 mg/dL (2025-01-08 06:00 UTC) is above 50 mg/dL")
    assert "pump-head or circuit thrombus" in finding.message
    assert finding.evidence["plasma_free_hb_mg_dl"] == 62.0


def test_it_judges_the_latest_result() -> None:
    finding = judge([pfhb(62, 0), pfhb(8, 40)], 41)
    assert finding is not None and finding.status == "clear"
    assert "alert above 10 mg/dL" in finding.message


def test_it_honours_site_thresholds() -> None:
    config = SurveillanceConfig(pfhb_high=PfhbHighConfig(warning_mg_dl=20, critical_mg_dl=100))
    finding = judge([pfhb(62)], 1, config)
    assert finding is not None and finding.severity == "warning"


def test_it_refuses_a_warning_threshold_above_the_critical_one() -> None:
    with pytest.raises(InputError) as error:
        PfhbHighConfig(warning_mg_dl=40, critical_mg_dl=30)
    assert error.value.field == "hemolysis.pfhb_high.warning_mg_dl"


def test_it_is_indeterminate_without_a_result() -> None:
    finding = judge([], 1)
    assert finding is not None and finding.status == "indeterminate"
    assert "no plasma free Hb reading" in finding.message and "30 h" in finding.message


def test_it_is_indeterminate_when_the_result_is_too_old() -> None:
    finding = judge([pfhb(6)], 31)
    assert finding is not None and finding.status == "indeterminate"
    assert "the last plasma free Hb reading (2025-01-08 06:00 UTC) is too old" in finding.message
    config = SurveillanceConfig(pfhb_high=PfhbHighConfig(max_age_h=48))
    still = judge([pfhb(6)], 31, config)
    assert still is not None and still.status == "clear"
