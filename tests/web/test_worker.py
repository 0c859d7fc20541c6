"""The surveillance worker survives what goes wrong, like a monitoring service's alert sender.

- one run that cannot be evaluated (here: a program whose stored settings no longer validate) is logged and
  skipped; every other run, of every program, is still evaluated and escalated
- a failing item is retried after a back-off and parked after five failures (audited); `--retry-parked` releases
- an alert acknowledged after the worker read it is not escalated, and nothing else is rolled back
- an alert escalated by hand meanwhile does not roll back the worker's other escalations
- notifiers run after the commit; one that raises gives back only its own transition, the others are not sent
  again; the given-back one is retried and then parked
- the loop logs a failed pass and goes on with the next
- the worker's functions stay importable from `surveillance.actions`
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models.signals import post_save

from ecmo_core.surveillance import Sample
from ecmo_web import contributions
from ecmo_web.audit.models import AuditEvent
from ecmo_web.contributions import Contributions
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import Alert, AlertTransition, EvaluationCursor, SurveillanceSetting
from tests.web.conftest import T0

MIN = dt.timedelta(minutes=1)


def _start(program: Any, actor: Any, code: str) -> EcmoRun:
    return run_actions.start_run(
        actor=actor,
        program=program,
        patient_code=code,
        sex="female",
        birth_year=1980,
        indication="respiratory",
        indication_detail="ARDS",
        mode="vv",
        started_at=T0,
        weight_kg=70,
        height_cm=170,
    )


def _air(run: EcmoRun, at: dt.datetime = T0 + MIN) -> Alert:
    actions.ingest_samples(
        actor_or_system=actions.DEMO, run=run, samples=[Sample(at, "bubble_detected", 1.0)], now=at
    )
    return Alert.objects.get(run=run, rule_id="air.detected")


def _break_settings(program: Any, director: Any) -> None:
    """A settings row that no longer validates (written by an older version, say): evaluation raises."""
    actions.save_settings(
        actor=director,
        program=program,
        rules={},
        effective_from=T0 - dt.timedelta(days=1),
        reason="x",
        now=T0,
    )
    SurveillanceSetting.objects.filter(program=program).update(rules={"no_such_rule": {"x": 1}})


@pytest.fixture
def south_run(other_program: Any, personas: dict[str, Any]) -> EcmoRun:
    return _start(other_program, personas["outsider"], "TEST-0002")


def test_one_failing_run_does_not_stop_the_others(
    run: EcmoRun, south_run: EcmoRun, personas: dict[str, Any]
) -> None:
    _break_settings(run.program, personas["director"])
    now = T0 + 3 * dt.timedelta(hours=1)
    actions.evaluate_active_runs(now=now)  # raised on the first broken run before
    assert EvaluationCursor.objects.get(run=south_run).evaluated_through == now
    assert not EvaluationCursor.objects.filter(run=run, evaluated_through=now).exists()
    # The south run's overdue circuit check was judged; the broken run's failure is on record.
    assert AlertTransition.objects.filter(run=south_run, rule_id="documentation.check_overdue").exists()
    event = AuditEvent.objects.get(action="surveillance.work_failed")
    assert event.program_id == run.program_id and "no_such_rule" in event.after["error"]


def test_a_failing_run_is_retried_with_back_off_then_parked(
    run: EcmoRun, south_run: EcmoRun, personas: dict[str, Any]
) -> None:
    from ecmo_web.surveillance.models import WorkFailure
    from ecmo_web.surveillance.worker import retry_parked

    _break_settings(run.program, personas["director"])
    now = T0 + dt.timedelta(hours=3)
    actions.evaluate_active_runs(now=now)
    failure = WorkFailure.objects.get(kind="evaluate", object_id=run.pk)
    assert failure.failures == 1 and failure.next_try_at == now + MIN and failure.parked_at is None
    actions.evaluate_active_runs(now=now + 30 * dt.timedelta(seconds=1))  # before its retry time: skipped
    failure.refresh_from_db()
    assert failure.failures == 1
    for offset in (1, 6, 21, 81):  # retries after 1, 5, 15 and 60 minutes
        actions.evaluate_active_runs(now=now + offset * MIN)
    failure.refresh_from_db()
    assert failure.failures == 5 and failure.parked_at == now + 81 * MIN
    actions.evaluate_active_runs(now=now + dt.timedelta(days=1))  # parked: left alone
    failure.refresh_from_db()
    assert failure.failures == 5
    assert (
        AuditEvent.objects.filter(action="surveillance.work_parked", program_id=run.program_id).count() == 1
    )
    # Fixed and released: the next pass evaluates it and clears the record.
    SurveillanceSetting.objects.filter(program=run.program).update(rules={})
    assert retry_parked() == 1
    actions.evaluate_active_runs(now=now + dt.timedelta(days=1))
    assert not WorkFailure.objects.exists()
    assert EvaluationCursor.objects.get(run=run).evaluated_through == now + dt.timedelta(days=1)


def test_the_command_releases_parked_work(capsys: Any, db: Any) -> None:
    call_command("surveil", "--retry-parked")
    assert "0 parked item(s) released" in capsys.readouterr().out


@pytest.fixture
def on_first_worker_escalation() -> Iterator[list[Any]]:
    """Simulates another user acting between the worker's read of due alerts and its escalation of each: the
    first escalation the worker audits triggers the callbacks queued here (real actions, as a second user
    would call them)."""
    queued: list[Any] = []

    def receiver(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
        if created and instance.action == "alert.escalated" and instance.actor_name == "system:surveil":
            while queued:
                queued.pop(0)(instance)

    post_save.connect(receiver, sender=AuditEvent, dispatch_uid="worker-test-interleave")
    yield queued
    post_save.disconnect(sender=AuditEvent, dispatch_uid="worker-test-interleave")


def _two_due_alerts(program: Any, perfusionist: Any, run: EcmoRun) -> tuple[Alert, Alert]:
    second = _start(program, perfusionist, "TEST-0003")
    return _air(run), _air(second)


def test_an_alert_acknowledged_meanwhile_is_not_escalated(
    run: EcmoRun, personas: dict[str, Any], on_first_worker_escalation: list[Any]
) -> None:
    first, second = _two_due_alerts(run.program, personas["perfusionist"], run)

    def acknowledge_the_other(event: AuditEvent) -> None:
        other = second if event.object_id == str(first.pk) else first
        actions.acknowledge_alert(actor=personas["bedside_nurse"], alert=other, now=T0 + 30 * MIN)

    on_first_worker_escalation.append(acknowledge_the_other)
    escalated = actions.escalate_due_alerts(T0 + 30 * MIN)
    assert len(escalated) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    (done,) = [a for a in (first, second) if a.escalated_at is not None]
    (acknowledged,) = [a for a in (first, second) if a.acknowledged_at is not None]
    assert done.pk == escalated[0].pk and done.pk != acknowledged.pk
    assert acknowledged.escalated_at is None and acknowledged.escalated_to_role == ""


def test_an_alert_escalated_by_hand_meanwhile_does_not_roll_back_the_others(
    run: EcmoRun, personas: dict[str, Any], on_first_worker_escalation: list[Any]
) -> None:
    first, second = _two_due_alerts(run.program, personas["perfusionist"], run)

    def escalate_the_other(event: AuditEvent) -> None:
        other = second if event.object_id == str(first.pk) else first
        actions.escalate_alert(
            actor_or_system=personas["bedside_nurse"], alert=other, role="surgeon", now=T0 + 30 * MIN
        )

    on_first_worker_escalation.append(escalate_the_other)
    escalated = actions.escalate_due_alerts(T0 + 30 * MIN)  # raised "already escalated" and undid all before
    assert len(escalated) == 1
    roles = sorted(Alert.objects.values_list("escalated_to_role", flat=True))
    assert roles == ["intensivist", "surgeon"]


def test_a_failing_notifier_gives_back_only_its_own_transition(
    run: EcmoRun, south_run: EcmoRun, django_capture_on_commit_callbacks: Any
) -> None:
    _air(run)
    _air(south_run)
    seen: list[int] = []

    def pager(transition: Any) -> None:
        if transition.run_id == run.pk:
            raise ConnectionError("pager gateway down")
        seen.append(transition.pk)

    with contributions.added(Contributions(notifiers=(pager,))):
        # Before: the first call raised and left every transition unprocessed, to be sent again.
        with django_capture_on_commit_callbacks(execute=True):
            actions.process_transitions(now=T0 + 2 * MIN)
        with django_capture_on_commit_callbacks(execute=True):
            actions.process_transitions(now=T0 + 2 * MIN + 10 * dt.timedelta(seconds=1))
    south = sorted(AlertTransition.objects.filter(run=south_run).values_list("pk", flat=True))
    assert south and sorted(seen) == south  # sent once each, not again with the failed ones
    assert not AlertTransition.objects.filter(run=south_run, processed=False).exists()
    failed = list(AlertTransition.objects.filter(run=run))
    assert failed and not any(t.processed for t in failed)
    from ecmo_web.surveillance.models import WorkFailure

    failures = WorkFailure.objects.filter(kind="transition")
    assert sorted(f.object_id for f in failures) == sorted(t.pk for t in failed)
    assert all(f.failures == 1 and "pager gateway down" in f.last_error for f in failures)


def test_the_loop_logs_a_failed_pass_and_goes_on(db: Any, caplog: Any) -> None:
    from ecmo_web.surveillance.worker import loop

    written: list[str] = []
    naps: list[float] = []

    def write(line: str) -> None:
        if not naps:  # the first pass cannot report (its output stream broke)
            raise BrokenPipeError("stdout closed")
        written.append(line)

    failed = loop(interval_s=5.0, write=write, passes=3, sleep=naps.append)
    assert failed == 1 and len(written) == 2 and naps == [5.0, 5.0]
    assert "pass failed" in caplog.text and "BrokenPipeError" in caplog.text
