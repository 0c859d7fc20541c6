"""Spec checklist — ``anticoagulation.out_of_range`` (core-api §4; reference §3; demo Runs 1, 2, 4, 5):

- [x] no target recorded → indeterminate
- [x] anti-Xa, aPTT or ACT below or above the run's range fires (warning); the bounds themselves are in range
- [x] several targets: any recent result outside fires; in range with another test missing is clear
- [x] each test's result counts for its maximum age (anti-Xa, aPTT 26 h; ACT 6 h); older → indeterminate
      (demo Run 2 D3: the clotted anti-Xa sample leaves the previous one in use until it is stale)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.surveillance import (
    AnticoagulationConfig,
    Finding,
    RunContext,
    Sample,
    SurveillanceConfig,
    evaluate,
)

RULE_ID = "anticoagulation.out_of_range"
T0 = datetime(2025, 1, 1, 20, 0, tzinfo=UTC)
ANTI_XA = RunContext(anticoagulation_targets={"anti_xa_iu_ml": (0.30, 0.50)})


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def result(test: str, value: float, hours: float = 0) -> Sample:
    return Sample(at(hours), test, value, "lab")


def judge(
    samples: list[Sample],
    hours: float,
    context: RunContext = ANTI_XA,
    config: SurveillanceConfig | None = None,
) -> Finding | None:
    findings = evaluate(samples, now=at(hours), context=context, config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_is_indeterminate_without_a_target() -> None:
    finding = judge([result("anti_xa_iu_ml", 0.22)], 1, RunContext())
    assert finding is not None and finding.status == "indeterminate"
    assert "no target range is recorded" in finding.message


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.22, "firing"), (0.30, "clear"), (0.33, "clear"), (0.50, "clear"), (0.78, "firing")],
)
def test_it_compares_anti_xa_with_the_target(value: float, status: str) -> None:
    finding = judge([result("anti_xa_iu_ml", value)], 1)
    assert finding is not None and finding.status == status


def test_it_words_a_low_anti_xa() -> None:
    finding = judge([result("anti_xa_iu_ml", 0.22)], 1)
    assert finding is not None and finding.severity == "warning"
    assert finding.message.startswith(
        "anti-Xa 0.22 IU/mL (2025-01-01 20:00 UTC) is below the target 0.3–0.5 IU/mL."
    )
    assert finding.evidence["anti_xa_iu_ml_target_low"] == 0.30


def test_it_fires_on_a_high_aptt() -> None:
    context = RunContext(anticoagulation_targets={"aptt_s": (45, 65)})
    finding = judge([result("aptt_s", 72)], 1, context)
    assert finding is not None and finding.status == "firing"
    assert "aPTT 72 s (2025-01-01 20:00 UTC) is above the target 45–65 s" in finding.message


def test_it_judges_act_for_six_hours() -> None:
    context = RunContext(anticoagulation_targets={"act_s": (180, 220)})
    fresh = judge([result("act_s", 262)], 5, context)
    assert fresh is not None and fresh.status == "firing"
    stale = judge([result("act_s", 262)], 7, context)
    assert stale is not None and stale.status == "indeterminate"
    assert "(results count for 6 h)" in stale.message


def test_it_fires_when_any_targeted_test_is_out_of_range() -> None:
    context = RunContext(anticoagulation_targets={"anti_xa_iu_ml": (0.3, 0.7), "aptt_s": (60, 80)})
    finding = judge([result("anti_xa_iu_ml", 0.5), result("aptt_s", 84)], 1, context)
    assert finding is not None and finding.status == "firing"
    assert "anti-Xa" not in finding.message and "aPTT 84 s" in finding.message


def test_it_is_clear_when_the_recent_results_are_in_range() -> None:
    context = RunContext(anticoagulation_targets={"anti_xa_iu_ml": (0.3, 0.7), "aptt_s": (60, 80)})
    finding = judge([result("anti_xa_iu_ml", 0.5)], 1, context)
    assert finding is not None and finding.status == "clear"
    assert finding.message == "anti-Xa 0.5 IU/mL (2025-01-01 20:00 UTC) is within the target 0.3–0.7 IU/mL."


def test_it_keeps_the_last_result_until_it_is_stale() -> None:
    samples = [result("anti_xa_iu_ml", 0.56, 0)]  # the next sample clotted: no value (demo Run 2 D3)
    still = judge(samples, 25)
    assert still is not None and still.status == "firing"  # 0.56 is above this run's 0.30–0.50
    stale = judge(samples, 27)
    assert stale is not None and stale.status == "indeterminate"
    assert (
        "the last anti-Xa reading (2025-01-01 20:00 UTC) is too old (results count for 26 h)" in stale.message
    )


def test_it_honours_the_site_maximum_age() -> None:
    config = SurveillanceConfig(anticoagulation=AnticoagulationConfig(anti_xa_max_age_h=12))
    finding = judge([result("anti_xa_iu_ml", 0.4)], 13, config=config)
    assert finding is not None and finding.status == "indeterminate"
