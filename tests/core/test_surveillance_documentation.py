"""Spec checklist — ``documentation.check_overdue`` (core-api §4; demo §8 transport, §9 clock jump):

- [x] fires (warning) when the last circuit check is more than 75 min old; exactly 75 is not overdue
- [x] checks come from the run context (``last_check_at``, ``check_times``) or samples with source "check"
- [x] before the first check the run start counts; with neither recorded → indeterminate
- [x] a check in the future of ``now`` does not count; device samples (any clock) never count as checks
- [x] transport demo: checks at 11:40 and 13:50 → fires after 12:55, clears at 13:50
- [x] the site limit (60–240 min) is honoured
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmo_core.replay import replay
from ecmo_core.surveillance import (
    CheckOverdueConfig,
    Finding,
    RunContext,
    Sample,
    SurveillanceConfig,
    evaluate,
)
from ecmo_core.surveillance.synthetic import steady

RULE_ID = "documentation.check_overdue"
T0 = datetime(2025, 1, 1, 11, 40, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def judge(
    minute: float,
    context: RunContext | None = None,
    samples: list[Sample] | None = None,
    config: SurveillanceConfig | None = None,
) -> Finding | None:
    findings = evaluate(samples or [], now=at(minute), context=context, config=config)
    return next((f for f in findings if f.rule_id == RULE_ID), None)


def test_it_fires_after_75_minutes_without_a_check() -> None:
    finding = judge(76, RunContext(last_check_at=at(0)))
    assert finding is not None and finding.status == "firing" and finding.severity == "warning"
    assert finding.message == (
        "No circuit check since 2025-01-01 11:40 UTC (76 min ago): "
        "the hourly check is overdue (limit 75 min)."
    )
    assert finding.evidence["last_check_at"] == "2025-01-01T11:40:00Z"


def test_it_says_a_long_gap_in_hours_or_days_not_thousands_of_minutes() -> None:
    hours = judge(45 * 60, RunContext(last_check_at=at(0)))
    assert hours is not None and "(45 h ago)" in hours.message and "2700" not in hours.message
    days = judge(51 * 60 + 10, RunContext(last_check_at=at(0)))
    assert days is not None and "(2 d 3 h ago)" in days.message


def test_it_is_clear_up_to_75_minutes() -> None:
    finding = judge(75, RunContext(last_check_at=at(0)))
    assert finding is not None and finding.status == "clear"
    assert finding.message == "Last circuit check at 2025-01-01 11:40 UTC (75 min ago)."


def test_it_counts_samples_entered_as_checks() -> None:
    samples = [Sample(at(60), "access_pressure_mmhg", -60.0, "check")]
    finding = judge(100, RunContext(last_check_at=at(0)), samples)
    assert finding is not None and finding.status == "clear"
    assert finding.evidence["last_check_at"] == "2025-01-01T12:40:00Z"


def test_it_ignores_device_samples_and_checks_after_now() -> None:
    samples = steady("blood_flow_l_min", 4.0, start=at(0), end=at(200))  # a console whose clock runs fast
    context = RunContext(check_times=(at(0), at(150)))
    finding = judge(100, context, samples)
    assert finding is not None and finding.status == "firing"


def test_it_uses_the_run_start_before_the_first_check() -> None:
    context = RunContext(run_started_at=at(0))
    early = judge(30, context)
    assert early is not None and early.status == "clear"
    assert early.message == "Run started at 2025-01-01 11:40 UTC, no circuit check yet (30 min ago)."
    late = judge(80, context)
    assert late is not None and late.status == "firing"
    assert late.message.startswith(
        "No circuit check since the run started at 2025-01-01 11:40 UTC (80 min ago)"
    )


def test_it_is_indeterminate_with_neither_check_nor_start() -> None:
    for context in (None, RunContext(run_started_at=at(10))):
        finding = judge(0, context)
        assert finding is not None and finding.status == "indeterminate"
        assert "no check and no run start are recorded" in finding.message


def test_it_honours_the_site_limit() -> None:
    config = SurveillanceConfig(check_overdue=CheckOverdueConfig(overdue_min=90))
    finding = judge(80, RunContext(last_check_at=at(0)), config=config)
    assert finding is not None and finding.status == "clear"


def test_it_fires_and_clears_during_the_transport_of_demo_run_1() -> None:
    context = RunContext(check_times=(at(0), at(130)))  # 11:40 and 13:50
    samples = [Sample(at(0), "blood_flow_l_min", 4.8), Sample(at(150), "blood_flow_l_min", 4.8)]
    transitions = [
        t for t in replay(samples, context=context, step=timedelta(minutes=1)) if t.rule_id == RULE_ID
    ]
    assert [(t.at, t.to_status) for t in transitions] == [
        (at(0), "clear"),
        (at(76), "firing"),
        (at(130), "clear"),
    ]
