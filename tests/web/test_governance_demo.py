"""The governance demo step (ecmo_web.governance.demo) on top of the base and decisions steps.

- five policies, one per topic asked for (anticoagulation, circuit change, transport, ambulation, emergencies);
  the circuit-change version 2 awaits only the perfusion sign-off and version 1 stays in force meanwhile
- the reminders list holds the overdue emergencies review and the circuit-change review due within 30 days
- demo decisions are linked to the policies they followed
- the QI project's completeness measure shows a shift above its frozen baseline median, the acknowledgement-time
  measure a falling trend; three PDSA cycles, the last still running
- the day shift shows every currency state: current, expiring, expired and missing
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from ecmo_core.runchart import analyse
from ecmo_web.demo import seed as demo_seed
from ecmo_web.governance import currency
from ecmo_web.governance.actions import policies
from ecmo_web.governance.actions._common import local_today
from ecmo_web.governance.models import DecisionPolicyLink, PdsaCycle, Policy, QiMeasure, Shift


@pytest.fixture
def demo(db: Any, monkeypatch: Any) -> Any:
    monkeypatch.setattr(
        demo_seed,
        "STEP_MODULES",
        ["ecmo_web.demo.base", "ecmo_web.decisions.demo", "ecmo_web.governance.demo"],
    )
    return demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")


def test_the_demo_shows_governance(demo: Any) -> None:
    program = demo.program
    today = local_today(program, demo.now)
    library = {p.topic: p for p in Policy.objects.filter(program=program)}
    assert set(library) == {"anticoagulation", "circuit_change", "transport", "ambulation", "emergency"}
    change = library["circuit_change"]
    pending = change.versions.get(number=2)
    assert policies.missing_roles(pending) == ["perfusionist"]
    assert policies.version_in_force(change, today).number == 1  # type: ignore[union-attr]
    due = policies.due_reviews(program, demo.now)
    assert [(d.policy.topic, d.days_left < 0) for d in due] == [
        ("emergency", True),
        ("circuit_change", False),
    ]
    assert DecisionPolicyLink.objects.filter(decision__run__program=program).count() >= 3

    completeness = QiMeasure.objects.get(kpi_key="hourly_check_completeness")
    chart = analyse(
        [p.value for p in completeness.points.all()], baseline_points=completeness.baseline_points
    )
    assert [(s.rule, s.direction) for s in chart.signals if s.rule == "shift"] == [("shift", "above")]
    ack = QiMeasure.objects.get(kpi_key="alert_acknowledgement_minutes")
    ack_chart = analyse([p.value for p in ack.points.all()])
    assert ("trend", "down") in [(s.rule, s.direction) for s in ack_chart.signals]
    assert [c.act for c in PdsaCycle.objects.order_by("number")] == ["adopt", "adapt", ""]

    day = Shift.objects.get(program=program, name="Day shift")
    _, rows = currency.grid(program, list(day.members.all()), currency.shift_day(day))
    states = {c.currency.status for r in rows for c in r.cells if c.required}
    assert states == {"current", "expiring", "expired", "missing"}
