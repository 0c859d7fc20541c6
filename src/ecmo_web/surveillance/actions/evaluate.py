"""Evaluating a run: the ``ecmo_core`` rules over stored samples, storing alert transitions where a rule's
state changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from ecmo_core.surveillance import (
    Finding,
    evaluate,
)
from ecmo_web.audit.chain import hold
from ecmo_web.kernel import audit, aware
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.actions.common import WORKER
from ecmo_web.surveillance.evaluation import RunFacts, load_timeline
from ecmo_web.surveillance.models import (
    SEVERITY_RANK,
    Alert,
    AlertStatus,
    AlertTransition,
    EvaluationCursor,
    RuleState,
)

NOT_APPLICABLE = AlertStatus.NOT_APPLICABLE.value


def _status(finding: Finding | None) -> tuple[str, str]:
    return (NOT_APPLICABLE, "info") if finding is None else (finding.status, finding.severity)


# The fields of an alert the evaluation writes; acknowledgement, escalation and resolution belong to people and
# the worker.
ALERT_RULE_FIELDS = (
    "status",
    "status_changed_at",
    "firing_since",
    "severity",
    "peak_severity",
    "message",
    "evidence",
    "rule_version",
)


def lock_evaluation(run: EcmoRun) -> EvaluationCursor:
    """Lock ``run``'s evaluation cursor: first in the lock order after the evaluation request (``audit.chain.hold``);
    anything that will judge the run again takes it before the chain head and the records."""
    cursor, _ = EvaluationCursor.objects.select_for_update().get_or_create(run=run)
    return cursor


@transaction.atomic
def evaluate_run(
    run: EcmoRun, *, now: dt.datetime, replay_from: dt.datetime | None = None
) -> list[AlertTransition]:
    """Evaluate the rules on ``run`` and store a transition wherever a rule's state changed.

    Live (``replay_from`` None): one evaluation at ``now``. Replay: at every sample time from ``replay_from`` (an
    imported historical span, a late HL7 batch) and then at ``now`` — the same walk as ``ecmo_core.replay``. Moments
    at or before the run's evaluation cursor are not walked again: stored transitions are history. An ended run
    is evaluated up to its end.

    Late data: readings that arrive after the cursor passed their time (a busy listener, a console whose clock
    runs behind, a resent message) are judged at their own times when they fall within ``late_window()`` of the
    cursor, but only to *raise*: a rule that fires (or worsens) at such a moment, after its last change, gets its
    transition at that moment; nothing is cleared there (the walk that follows, at ``now``, clears what is over).
    Without this a short episode carried entirely by late readings — five seconds of air — would never alert.
    """
    now = aware(now, field="now")
    cursor = lock_evaluation(run)
    end = now if run.ended_at is None else min(now, run.ended_at)
    done = cursor.evaluated_through
    if done is not None and end <= done:
        return []
    start = end if replay_from is None else max(aware(replay_from, field="replay_from"), run.started_at)
    if done is not None:
        start = max(start, done + dt.timedelta(microseconds=1))
    start = min(start, end)
    late_from = None
    if done is not None and replay_from is not None:
        late_from = max(aware(replay_from, field="replay_from"), done - late_window(), run.started_at)
        late_from = late_from if late_from <= done else None
    facts = RunFacts.load(run)
    timeline = load_timeline(facts, start=start if late_from is None else min(start, late_from), end=end)
    moments = sorted({t for t in timeline.times if start <= t < end} | {end})
    late = (
        []
        if late_from is None or done is None
        else sorted(t for t in timeline.times if late_from <= t <= done)
    )

    states = {s.rule_id: s for s in RuleState.objects.filter(run=run).select_related("alert")}
    existing = {s.alert_id for s in states.values() if s.alert_id is not None}
    transitions: list[AlertTransition] = []
    touched_alerts: dict[int, Alert] = {}
    latest: dict[str, Finding] = {}
    contexts: dict[int, Any] = {}
    for moment in late:
        key = facts.segment_key(moment)
        if key not in contexts:
            contexts[key] = (facts.context_at(moment), facts.config_at(moment))
        context, config = contexts[key]
        for late_finding in evaluate(timeline, now=moment, config=config, context=context):
            state = states.get(late_finding.rule_id)
            if _raises(state, late_finding, moment):
                transitions.append(
                    _transition(
                        run, late_finding.rule_id, state, late_finding, moment, now, states, touched_alerts
                    )
                )
    for moment in moments:
        key = facts.segment_key(moment)
        if key not in contexts:
            contexts[key] = (facts.context_at(moment), facts.config_at(moment))
        context, config = contexts[key]
        findings = {f.rule_id: f for f in evaluate(timeline, now=moment, config=config, context=context)}
        latest = findings
        active = [r for r, s in states.items() if s.status != NOT_APPLICABLE and r not in findings]
        for rule_id in [*findings, *sorted(active)]:
            finding = findings.get(rule_id)
            new = _status(finding)
            state = states.get(rule_id)
            if state is not None and (state.status, state.severity) == new:
                continue
            transitions.append(_transition(run, rule_id, state, finding, moment, now, states, touched_alerts))
    if touched_alerts:
        hold()  # the lock order (audit.chain.hold): chain head, then the alerts; audited below
    AlertTransition.objects.bulk_create(transitions)
    for alert in touched_alerts.values():
        # Only the fields the rules own: an acknowledgement, escalation or resolution written meanwhile by a person
        # or the worker (this alert was read without a lock, at the start) is kept, never overwritten.
        alert.save(update_fields=ALERT_RULE_FIELDS if alert.pk in existing else None)
    for rule_id, state in states.items():
        finding = latest.get(rule_id)
        state.message = "" if finding is None else finding.message
        state.evidence = {} if finding is None else dict(finding.evidence)
        state.evaluated_at = end
    stored = [s for s in states.values() if s.pk is not None]
    RuleState.objects.bulk_create([s for s in states.values() if s.pk is None])
    _update_states(stored)
    cursor.evaluated_through = end
    cursor.save(update_fields=["evaluated_through", "updated_at"])
    if transitions:
        fired = sorted({t.rule_id for t in transitions if t.to_status == AlertStatus.FIRING})
        audit(
            WORKER,
            action="surveillance.evaluated",
            obj=run,
            after={
                "transitions": len(transitions),
                "from": (late or moments)[0],
                "to": end,
                "fired": fired,
            },
        )
    return transitions


_STATE_FIELDS = (
    "status",
    "severity",
    "rule_version",
    "since",
    "alert",
    "message",
    "evidence",
    "evaluated_at",
)


def _update_states(states: list[RuleState]) -> None:
    """Save the rule states' evaluated fields: what ``bulk_update`` did, as one prepared UPDATE per row. ``bulk_update``
    builds a CASE expression per field and row through the ORM, which cost more than the rest of a live evaluation
    (≈ 10 ms a run, every interval, for every run with new telemetry). Values are prepared by each field."""
    if not states:
        return
    concrete = {f.name: f for f in RuleState._meta.concrete_fields}
    fields = [concrete[name] for name in _STATE_FIELDS]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    rows = [[f.get_db_prep_save(getattr(s, f.attname), connection) for f in fields] + [s.pk] for s in states]
    with connection.cursor() as cursor:
        # Table and column names come from the model; every value is a bound parameter.
        cursor.executemany(
            f"UPDATE {qn(RuleState._meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
            rows,
        )


def late_window() -> dt.timedelta:
    """How far before the cursor late readings are still judged at their own times (``ECMO_LATE_DATA_S``, 300 s)."""
    return dt.timedelta(seconds=float(getattr(settings, "ECMO_LATE_DATA_S", 300)))


def _raises(state: RuleState | None, finding: Finding, moment: dt.datetime) -> bool:
    """Whether a late reading's finding fires the rule, or worsens it, after the rule's last change."""
    if finding.status != AlertStatus.FIRING.value:
        return False
    if state is None:
        return True
    if state.since is not None and moment < state.since:
        return False
    if state.status != AlertStatus.FIRING:
        return True
    return SEVERITY_RANK[finding.severity] > SEVERITY_RANK[state.severity]


def _transition(
    run: EcmoRun,
    rule_id: str,
    state: RuleState | None,
    finding: Finding | None,
    at: dt.datetime,
    now: dt.datetime,
    states: dict[str, RuleState],
    alerts: dict[int, Alert],
) -> AlertTransition:
    status, severity = _status(finding)
    version = finding.rule_version if finding is not None else (state.rule_version if state else 1)
    message = finding.message if finding is not None else "The rule no longer applies to this run now."
    evidence = dict(finding.evidence) if finding is not None else {}
    alert = (
        state.alert
        if state is not None and state.alert is not None and state.alert.resolved_at is None
        else None
    )
    if status == AlertStatus.FIRING:
        if alert is None:
            alert = Alert.objects.create(
                run=run,
                rule_id=rule_id,
                rule_version=version,
                severity=severity,
                peak_severity=severity,
                status=status,
                opened_at=at,
                firing_since=at,
                status_changed_at=at,
                message=message,
                evidence=evidence,
            )
        else:
            if alert.status != AlertStatus.FIRING:
                alert.firing_since = at
            alert.severity = severity
            if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.peak_severity]:
                alert.peak_severity = severity
            alert.message, alert.evidence, alert.rule_version = message, evidence, version
    if alert is not None:
        alert.status = status
        alert.status_changed_at = at
        alerts[alert.pk] = alert
    if state is None:
        state = RuleState(run=run, rule_id=rule_id, evidence={}, evaluated_at=at)
        states[rule_id] = state
    from_status = state.status or ""
    state.status, state.severity, state.rule_version, state.since, state.alert = (
        status,
        severity,
        version,
        at,
        alert,
    )
    return AlertTransition(
        run=run,
        rule_id=rule_id,
        alert=alert,
        at=at,
        from_status=from_status or "",
        to_status=status,
        severity=severity,
        rule_version=version,
        message=message,
        evidence=evidence,
        created_at=now,
    )
