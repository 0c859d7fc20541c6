"""One lock order for every write (``audit.chain.hold``): evaluation request → evaluation cursor → audit chain head
→ records. The soak found a check posted through the API answering 500 once under load; the cause was a cycle:

- a check takes the run's cursor, writes its audit event (the chain head) and then judges the run, which updates
  the run's alerts;
- the worker escalating one of those alerts updated it first and wrote its audit event second.

Each held what the other wanted; PostgreSQL broke the deadlock by failing one. Every path that locks an alert now
takes the chain head first, and a resolution that judges the run again takes the cursor before both.

- [x] on PostgreSQL: the worker escalating an alert while a check on the same run clears it — both complete, in
  either order, nothing is refused (with the old order one of them failed with "deadlock detected")
- [x] on PostgreSQL: the evaluation writes only the fields the rules own: an acknowledgement written while it was
  judging is kept (it read the alert without a lock and used to save the whole row, undoing the acknowledgement)
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, worker
from ecmo_web.surveillance.actions.alerts import CHECK_OVERDUE
from ecmo_web.surveillance.models import Alert, AlertStatus, RuleState
from tests.web.conftest import T0

HOUR = dt.timedelta(hours=1)
ON_POSTGRES = connection.vendor == "postgresql" or os.environ.get("DATABASE_URL", "").startswith("postgres")
# SQLite takes one writer at a time (IMMEDIATE transactions), so neither interleaving can happen there.
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="row locks and deadlocks are real only on PostgreSQL"
)


def _check(run: EcmoRun, actor: Any, at: dt.datetime) -> Any:
    data = {"pump_speed_rpm": 3200, "blood_flow_l_min": 4.2}
    return actions.record_check(actor=actor, run=run, observed_at=at, data=data, now=at)


def _overdue(run: EcmoRun, at: dt.datetime) -> Alert:
    actions.evaluate_run(run, now=at)
    alert = Alert.objects.get(run=run, rule_id=CHECK_OVERDUE)
    assert alert.status == AlertStatus.FIRING
    return alert


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_escalation_and_a_check_on_the_same_alert_both_complete(
    run: EcmoRun, perfusionist: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = _overdue(run, T0 + 3 * HOUR)  # no check since the run started
    escalating, go = threading.Event(), threading.Event()
    real_audit = worker.audit

    def audit_after_the_check_has_started(*args: Any, **kwargs: Any) -> Any:
        escalating.set()  # the worker has updated the alert (and, in the right order, holds the chain head)
        go.wait(20)
        return real_audit(*args, **kwargs)

    monkeypatch.setattr(worker, "audit", audit_after_the_check_has_started)
    outcomes: dict[str, Any] = {}

    def attempt(name: str, call: Callable[[], Any]) -> None:
        try:
            outcomes[name] = call()
        except Exception as exc:  # a deadlock victim is the result under test
            outcomes[name] = exc
        finally:
            connection.close()

    at = T0 + 3 * HOUR + dt.timedelta(minutes=5)
    escalate = threading.Thread(
        target=attempt,
        args=(
            "escalation",
            lambda: worker.escalate_if_still_due(alert, role="ecmo_specialist", reason="x", now=at),
        ),
    )
    check = threading.Thread(target=attempt, args=("check", lambda: _check(run, perfusionist, at)))
    escalate.start()
    assert escalating.wait(20)
    check.start()
    time.sleep(1.5)  # let the check go as far as it can: in the old order, to the alert the worker holds
    go.set()
    for thread in (escalate, check):
        thread.join(60)
    assert not isinstance(outcomes.get("escalation"), Exception), outcomes
    assert not isinstance(outcomes.get("check"), Exception), outcomes
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.escalated_at == at and stored.status == AlertStatus.CLEAR and stored.resolved_at == at


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_evaluation_keeps_an_acknowledgement_written_while_it_judged(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    actions.save_settings(  # the overdue alert stays open after a check, to fire again later
        actor=personas["director"],
        program=run.program,
        rules={"documentation.check_overdue": {"resolve_on_next_check": False}},
        effective_from=T0 - dt.timedelta(days=1),
        reason="resolved by hand here",
        now=T0,
    )
    alert = _overdue(run, T0 + 3 * HOUR)
    _check(run, perfusionist, T0 + 3 * HOUR + dt.timedelta(minutes=5))
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.CLEAR
    later = T0 + 6 * HOUR  # overdue again: the next evaluation fires the same alert
    real_filter = RuleState.objects.filter

    def states_then_an_acknowledgement(*args: Any, **kwargs: Any) -> Any:
        states = list(
            real_filter(*args, **kwargs).select_related("alert")
        )  # read as the evaluation reads them
        done = threading.Thread(
            target=lambda: (
                actions.acknowledge_alert(actor=perfusionist, alert=alert, comment="on my way", now=later),
                connection.close(),
            )
        )
        done.start()
        done.join(30)
        return _Rows(states)

    monkeypatch.setattr(RuleState.objects, "filter", states_then_an_acknowledgement)
    actions.evaluate_run(run, now=later)
    stored = Alert.objects.get(pk=alert.pk)
    assert stored.status == AlertStatus.FIRING
    assert stored.acknowledged_at == later and stored.acknowledged_comment == "on my way"


class _Rows(list[Any]):
    """The list stands in for the queryset ``evaluate_run`` reads its rule states from."""

    def select_related(self, *fields: str) -> _Rows:
        return self
