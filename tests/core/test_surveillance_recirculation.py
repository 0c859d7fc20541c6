"""Spec checklist — ``recirculation.high`` (core-api §4; reference §2.6; demo Run 1 D1):

- [x] V-V only: V-A and hybrids give no finding; an unrecorded configuration is indeterminate; a
      configuration history switches it on and off
- [x] fires when measured R > 0.30; 0.30 itself is clear; the site setting (0.2–0.3) is honoured
- [x] computes R = (pre − mixed venous) / (post − mixed venous) (demo: 0.80/1.00/0.66 → 0.41 fires;
      0.73 → 0.21 clears, but fires at a site setting of 0.20)
- [x] pre and post must be taken together; a tiny post − mixed-venous gap (sweep off) or an R outside 0–1
      is indeterminate, never a value
- [x] measured and computed: the newer one is judged
- [x] missing or stale data → indeterminate naming what is missing
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.surveillance import (
    Finding,
    RecirculationHighConfig,
    RunContext,
    Sample,
    SurveillanceConfig,
    evaluate,
)
from ecmo_core.surveillance.rules.recirculation import recirculation_fraction

RULE_ID = "recirculation.high"
T0 = datetime(2025, 1, 2, 6, 0, tzinfo=UTC)
VV = RunContext(configuration="vv")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sats(
    pre: float, post: float, mixed: float | None, minute: float = 0, source: str = "lab"
) -> list[Sample]:
    samples = [
        Sample(at(minute), "pre_oxygenator_so2", pre, source),
        Sample(at(minute), "post_oxygenator_so2", post, source),
    ]
    if mixed is not None:
        samples.append(Sample(at(minute), "mixed_venous_so2", mixed, "estimate"))
    return samples


def measured(value: float, minute: float = 0) -> list[Sample]:
    return [Sample(at(minute), "recirculation_fraction", value, "check")]


def judge(
    samples: list[Sample], minute: float, context: RunContext = VV, config: SurveillanceConfig | None = None
) -> Finding | None:
    findings = evaluate(samples, now=at(minute), context=context, config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_computes_recirculation_from_saturations() -> None:
    value = recirculation_fraction(pre_oxygenator_so2=0.80, post_oxygenator_so2=1.0, mixed_venous_so2=0.66)
    assert value == pytest.approx(0.14 / 0.34)


def test_it_fires_on_the_demo_run_1_saturations() -> None:
    finding = judge(sats(0.80, 1.00, 0.66), 10)
    assert finding is not None and finding.status == "firing" and finding.severity == "warning"
    assert finding.message.startswith(
        "Recirculation 41 % from saturations (pre 0.8, post 1, mixed venous 0.66"
    )
    assert finding.evidence["basis"] == "computed from saturations"
    assert finding.evidence["mixed_venous_so2_source"] == "estimate"


def test_it_clears_after_the_cannula_is_pulled_back() -> None:
    samples = sats(0.80, 1.00, 0.66) + sats(0.73, 1.00, None, minute=240)
    finding = judge(samples, 250)
    assert finding is not None and finding.status == "clear"
    assert "Recirculation 21 %" in finding.message and "alert above 30 %" in finding.message
    strict = SurveillanceConfig(recirculation_high=RecirculationHighConfig(threshold_fraction=0.2))
    stricter = judge(samples, 250, config=strict)
    assert stricter is not None and stricter.status == "firing"


@pytest.mark.parametrize(("value", "status"), [(0.29, "clear"), (0.30, "clear"), (0.31, "firing")])
def test_it_judges_a_measured_fraction_against_030(value: float, status: str) -> None:
    finding = judge(measured(value), 10)
    assert finding is not None and finding.status == status
    assert finding.evidence["basis"] == "measured"
    assert finding.message.startswith("Measured recirculation")


def test_it_does_not_apply_outside_vv() -> None:
    for configuration in ("va", "vav", "vva"):
        assert judge(measured(0.5), 10, RunContext(configuration=configuration)) is None


def test_it_is_indeterminate_when_the_configuration_is_not_recorded() -> None:
    finding = judge(measured(0.5), 10, RunContext())
    assert finding is not None and finding.status == "indeterminate"
    assert "configuration is not recorded" in finding.message


def test_it_follows_the_configuration_history() -> None:
    context = RunContext(configuration="vv", configuration_history=((at(60), "vav"),))
    before = judge(measured(0.5), 10, context)
    assert before is not None and before.status == "firing"
    assert judge(measured(0.5), 70, context) is None


def test_it_needs_pre_and_post_taken_together() -> None:
    samples = sats(0.80, 1.00, 0.66)[:1] + sats(0.80, 1.00, 0.66, minute=45)[1:]
    finding = judge(samples, 50)
    assert finding is not None and finding.status == "indeterminate"
    assert "were not taken within 30 min of each other" in finding.message


def test_it_refuses_the_formula_when_the_sweep_is_off() -> None:
    finding = judge(sats(0.72, 0.72, 0.66), 10)  # demo Run 4 D12: sweep off, post = pre
    assert finding is not None and finding.status == "indeterminate"
    assert "the formula is meaningless" in finding.message


def test_it_refuses_a_fraction_outside_0_to_1() -> None:
    finding = judge(sats(0.60, 1.00, 0.66), 10)
    assert finding is not None and finding.status == "indeterminate"
    assert "outside 0–1: check the samples" in finding.message


def test_it_judges_the_newer_of_measured_and_computed() -> None:
    newer_computed = judge(measured(0.10, 0) + sats(0.80, 1.00, 0.66, minute=30), 40)
    assert newer_computed is not None and newer_computed.status == "firing"
    newer_measured = judge(sats(0.80, 1.00, 0.66, minute=0) + measured(0.10, 30), 40)
    assert newer_measured is not None and newer_measured.status == "clear"


def test_it_is_indeterminate_without_data() -> None:
    finding = judge([], 10)
    assert finding is not None and finding.status == "indeterminate"
    assert "no recirculation fraction reading, and it cannot be computed: no pre-oxygenator SO2" in (
        finding.message
    )


def test_it_is_indeterminate_without_a_mixed_venous_value() -> None:
    finding = judge(sats(0.80, 1.00, None), 10)
    assert finding is not None and finding.status == "indeterminate"
    assert "no mixed-venous SO2 reading" in finding.message


def test_it_is_indeterminate_when_the_values_are_stale() -> None:
    finding = judge(sats(0.80, 1.00, 0.66) + measured(0.4), 13 * 60)
    assert finding is not None and finding.status == "indeterminate"
    assert "is too old" in finding.message
