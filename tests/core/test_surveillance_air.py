"""Spec checklist — ``air.detected`` (core-api §4; reference §2.5; demo Run 3 D5 14:32):

- [x] ``bubble_detected`` = 1 fires (critical) on a single reading: air is an event, not noise
- [x] 0 clears; the replay shows one firing and one clear (14:32:20 → 14:33:40)
- [x] missing or stale detector state → indeterminate; a hand-entered state counts for the check interval
- [x] values other than 0 or 1 are refused on the way in
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.errors import InputError
from ecmo_core.replay import replay
from ecmo_core.surveillance import Finding, Sample, evaluate
from ecmo_core.surveillance.synthetic import steady

RULE_ID = "air.detected"
BUBBLE = "bubble_detected"
T0 = datetime(2025, 1, 8, 14, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def judge(samples: list[Sample], seconds: float) -> Finding | None:
    findings = evaluate(samples, now=at(seconds))
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_fires_critical_on_one_detection() -> None:
    finding = judge([Sample(at(0), BUBBLE, 0.0), Sample(at(140), BUBBLE, 1.0)], 141)
    assert finding is not None and finding.status == "firing" and finding.severity == "critical"
    assert finding.message.startswith(
        "Bubble detected in the circuit (2025-01-08 14:32 UTC). Clamp the return line"
    )


def test_it_clears_when_the_detector_reads_zero() -> None:
    finding = judge([Sample(at(140), BUBBLE, 1.0), Sample(at(220), BUBBLE, 0.0)], 221)
    assert finding is not None and finding.status == "clear"
    assert finding.message == "No bubble detected (last reading 2025-01-08 14:33 UTC)."


def test_it_fires_once_and_clears_once_in_a_replay() -> None:
    samples = steady(BUBBLE, 0.0, start=at(0), end=at(130), every=timedelta(seconds=10))
    samples += [Sample(at(140), BUBBLE, 1.0)]
    samples += steady(BUBBLE, 0.0, start=at(220), end=at(400), every=timedelta(seconds=10))
    transitions = [t for t in replay(samples) if t.rule_id == RULE_ID]
    assert [(t.at, t.to_status) for t in transitions] == [
        (at(0), "clear"),
        (at(140), "firing"),
        (at(220), "clear"),
    ]


def test_it_is_indeterminate_without_a_detector_reading() -> None:
    finding = judge([], 0)
    assert finding is not None and finding.status == "indeterminate"
    assert "no bubble detector reading" in finding.message


def test_it_is_indeterminate_when_the_detector_went_quiet() -> None:
    finding = judge([Sample(at(0), BUBBLE, 0.0)], 6 * 60)
    assert finding is not None and finding.status == "indeterminate"
    assert "too old" in finding.message


def test_it_uses_a_hand_entered_state_for_the_check_interval() -> None:
    finding = judge([Sample(at(0), BUBBLE, 0.0, "check")], 60 * 60)
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["bubble_detected_source"] == "check"


def test_it_refuses_a_value_other_than_0_or_1() -> None:
    with pytest.raises(InputError) as error:
        Sample(at(0), BUBBLE, 0.5)
    assert error.value.field == BUBBLE
    assert "must be 0 (no bubble) or 1 (bubble detected)" in str(error.value)
