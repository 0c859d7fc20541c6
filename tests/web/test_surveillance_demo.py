"""The surveillance demo step (ecmo_web.surveillance.demo) on top of the base step.

- every demo run has telemetry, hourly checks (source "check") and labs (source "lab")
- Run 1: ΔP/Q alert at D6 ~04:00 (warning, resistance mode), acknowledged 04:09 by the perfusionist with the
  scenario's comment, resolved by the oxygenator change (linked to lot DEMO-OXA-0587); its new baseline forms, then
  clears; recirculation D1 and anti-Xa D0 20:00 fired and were resolved
- Run 3: flow per rpm and pfHb critical before the pump-head change, air at the reconnection (critical)
- Run 4: access pressure D3, post-oxygenator PO2 low D5 14:20 (critical)
- the duplicate HL7 message added nothing; one check was amended with a reason and its original kept
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from ecmo_web.demo import seed as demo_seed
from ecmo_web.surveillance.models import Alert, CircuitCheck, IngestBatch, Sample


@pytest.fixture
def demo(db: Any, monkeypatch: Any) -> Any:
    monkeypatch.setattr(demo_seed, "STEP_MODULES", ["ecmo_web.demo.base", "ecmo_web.surveillance.demo"])
    return demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")


def _alert(ctx: Any, code: str, rule_id: str) -> Alert:
    return Alert.objects.filter(run=ctx.runs[code], rule_id=rule_id).order_by("opened_at").first()  # type: ignore


def test_the_demo_tells_the_stories_of_the_scenarios(demo: Any) -> None:
    ctx = demo
    for code, run in ctx.runs.items():
        sources = set(Sample.objects.filter(run=run).values_list("source", flat=True).distinct())
        assert {"device", "check", "lab"} <= sources, code
        assert CircuitCheck.objects.filter(run=run).count() > 24

    delta = _alert(ctx, "DEMO-0001", "oxygenator.delta_p_rise")
    assert abs(delta.opened_at - ctx.at("DEMO-0001", "D6 04:00")) <= dt.timedelta(minutes=10)
    assert delta.evidence["mode"] == "resistance" and delta.severity == "warning"
    assert delta.acknowledged_at == ctx.at("DEMO-0001", "D6 04:09")
    assert (
        delta.acknowledged_by.username == "perfusionist" and "elective change" in delta.acknowledged_comment
    )
    assert delta.resolved_component is not None and delta.resolved_component.lot == "DEMO-OXA-0587"
    transitions = list(delta.transitions.values_list("to_status", flat=True))
    assert transitions[:2] == ["firing", "indeterminate"]  # the new oxygenator's baseline forms
    assert _alert(ctx, "DEMO-0001", "recirculation.high").resolved_at is not None
    assert _alert(ctx, "DEMO-0001", "anticoagulation.out_of_range").opened_at == ctx.at(
        "DEMO-0001", "D0 20:00"
    )

    pump = _alert(ctx, "DEMO-0003", "pump.flow_per_rpm_fall")
    assert pump.escalated_to_role == "intensivist" and pump.resolved_component.lot == "DEMO-PHB-0348"
    assert Alert.objects.filter(
        run=ctx.runs["DEMO-0003"], rule_id="hemolysis.pfhb_high", peak_severity="critical"
    ).exists()
    assert _alert(ctx, "DEMO-0003", "air.detected").opened_at == ctx.at("DEMO-0003", "D5 14:32:20")

    po2 = _alert(ctx, "DEMO-0004", "oxygenator.post_po2_low")
    assert po2.opened_at == ctx.at("DEMO-0004", "D5 14:20") and po2.severity == "critical"
    assert _alert(ctx, "DEMO-0004", "access.pressure_low") is not None

    hl7 = IngestBatch.objects.get(kind="hl7")
    assert hl7.created_count == 3  # the same message twice: one batch
    amended = CircuitCheck.objects.get(run=ctx.runs["DEMO-0001"], version=2)
    assert amended.supersedes.access_pressure_mmhg == -35 and "misread" in amended.amendment_reason
