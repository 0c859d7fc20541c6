"""Demo step: the adverse events of the scenarios (demo-scenarios §1, §3, §5), an M&M case on Run 3's pump-head
thrombus with the team's input, contributing factors and actions (one closed, one open, one overdue), and
clinical audits run day by day over the last week, so the Quality, M&M, Adverse events and Audits pages show
real content. Runs after the surveillance, decisions and rounds steps (it links their alerts and decisions).
"""

from __future__ import annotations

import datetime as dt

from ecmo_web.demo.seed import DemoContext
from ecmo_web.quality import actions
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance.models import Alert
from ecmo_web.timezones import program_tz


def _alert(run: EcmoRun, rule_id: str, near: dt.datetime) -> Alert | None:
    """The alert of ``rule_id`` that opened nearest to ``near`` (from 48 h before to 12 h after: a warning may open a day before it turns critical)."""
    candidates = Alert.objects.filter(
        run=run,
        rule_id=rule_id,
        opened_at__gte=near - dt.timedelta(hours=12),
        opened_at__lte=near + dt.timedelta(hours=12),
    )
    return min(candidates, key=lambda a: abs((a.opened_at - near).total_seconds()), default=None)


def _component(run: EcmoRun, lot: str) -> Component | None:
    return Component.objects.filter(circuit__run=run, lot=lot).first()


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    program, now = ctx.program, ctx.now
    perf, intensivist, nurse = ctx.users["perfusionist"], ctx.users["intensivist"], ctx.users["bedside_nurse"]
    quality, director = ctx.users["quality"], ctx.users["director"]
    r1, r3, r5 = ctx.runs["DEMO-0001"], ctx.runs["DEMO-0003"], ctx.runs["DEMO-0005"]

    # Run 1, D6: a minor oxygenator clot on the membrane changed for rising resistance (lot 0412).
    actions.record_adverse_event(
        actor=perf,
        run=r1,
        code="mech.clot_oxygenator",
        severity="mild",
        onset_at=ctx.at("DEMO-0001", "D6 04:00"),
        component=_component(r1, "DEMO-OXA-0412"),
        alert=_alert(r1, "oxygenator.delta_p_rise", ctx.at("DEMO-0001", "D6 04:00")),
        action_taken="Elective oxygenator change 14:21–14:22 (70 s off flow); new lot DEMO-OXA-0587",
        description="ΔP/Q +57 % over baseline; fibrin on the inflow face, gas transfer adequate",
        now=now,
    )
    # Run 3, D5: haemolysis (pfHb 62 mg/dL) from pump-head thrombus (lot 0221).
    old_head = _component(r3, "DEMO-PHB-0221")
    haemolysis = actions.record_adverse_event(
        actor=perf,
        run=r3,
        code="hem.hemolysis",
        severity="severe",
        onset_at=ctx.at("DEMO-0003", "D5 12:00"),
        component=old_head,
        alert=_alert(r3, "hemolysis.pfhb_high", ctx.at("DEMO-0003", "D5 12:00")),
        action_taken="Pump head changed 14:31–14:32 (55 s off flow); 1 u RBC",
        description="Tea-coloured urine, pfHb 62 mg/dL, LDH 1820 U/L; flow per 1000 rpm -21 %",
        now=now,
    )
    clot = actions.record_adverse_event(
        actor=perf,
        run=r3,
        code="mech.clot_pump",
        severity="severe",
        onset_at=ctx.at("DEMO-0003", "D5 12:00"),
        component=old_head,
        alert=_alert(r3, "pump.flow_per_rpm_fall", ctx.at("DEMO-0003", "D5 12:00")),
        action_taken="Pump head changed; explanted head: 4 mm thrombus on the pivot (photo linked to the lot)",
        description="Whine from the pump head from D4 18:00; dark deposit at the inlet on D5 06:00",
        now=now,
    )
    # Run 5, D8: after decannulation, a non-occlusive femoral vein thrombus on Doppler.
    actions.record_adverse_event(
        actor=intensivist,
        run=r5,
        code="limb.venous_thrombosis",
        severity="moderate",
        onset_at=ctx.at("DEMO-0005", "D8 11:00"),
        action_taken="Therapeutic anticoagulation continued; repeat Doppler in 1 week",
        description="Non-occlusive thrombus in the right femoral vein at the drainage cannula site",
        now=now,
    )
    del haemolysis

    # M&M on Run 3's pump-head thrombus, held yesterday.
    tz = program_tz(program)
    yesterday = (now.astimezone(tz) - dt.timedelta(days=1)).date()
    case = actions.open_case(
        actor=quality,
        run=r3,
        event=clot,
        title="Pump-head thrombosis with haemolysis after ECPR",
        meeting_on=yesterday,
        summary="ECPR run; pump-head thrombus on D5 with pfHb 62 mg/dL, found 18 h after a new whine was heard.",
        now=now - dt.timedelta(days=2),
    )
    actions.add_contribution(
        actor=perf,
        case=case,
        text="Flow per rpm fell 5 % by D4 06:00 and 16 % by D5 06:00 before the rule fired at 21 %. The whine at "
        "D4 18:00 was heard but not escalated; torch inspection of the pump inlet is not part of the night check.",
        now=now - dt.timedelta(days=2),
    )
    actions.add_contribution(
        actor=intensivist,
        case=case,
        text="Anti-Xa stayed 0.33–0.45 throughout; dual antiplatelet therapy after the LAD stent. pfHb was "
        "measured daily only.",
        now=now - dt.timedelta(days=2),
    )
    actions.add_contribution(
        actor=nurse,
        case=case,
        text="Urine colour change noted at 06:00 and reported at the 08:00 handover.",
        now=now - dt.timedelta(days=2),
    )
    actions.update_case(
        actor=quality,
        case=case,
        discussion="The signals were there 18 h early (noise, falling flow per rpm, pfHb 16). The committee "
        "agreed that a new pump noise is a perfusion call at any hour, and that pfHb goes to twice daily "
        "once it exceeds 10 mg/dL.",
    )
    actions.add_factor(
        actor=quality,
        case=case,
        kind="equipment",
        text="Pump head lot DEMO-PHB-0221: check for other reports",
    )
    actions.add_factor(
        actor=quality, case=case, kind="process", text="pfHb once daily even after a rise above 10 mg/dL"
    )
    actions.add_factor(
        actor=quality, case=case, kind="team", text="A new pump noise was not escalated overnight"
    )
    done = actions.add_action(
        actor=quality,
        case=case,
        text="pfHb twice daily when above 10 mg/dL (protocol update)",
        owner=perf,
        due_on=yesterday,
    )
    actions.close_action(actor=perf, action=done, note="Protocol ECMO-07 v4 issued with the change", now=now)
    actions.add_action(
        actor=quality,
        case=case,
        text="Add a torch inspection of the pump inlet to the night circuit check",
        owner=ctx.users["ecmo_specialist"],
        due_on=yesterday + dt.timedelta(days=14),
    )
    actions.add_action(
        actor=quality,
        case=case,
        text="Report lot DEMO-PHB-0221 to the manufacturer and check stock",
        owner=director,
        due_on=yesterday - dt.timedelta(days=3),
    )

    # Audits run day by day over the last week (compliance over time), and the target audit over a month.
    today = now.astimezone(tz).date()

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)

    ack = actions.define_audit(
        actor=quality,
        program=program,
        title="Alerts acknowledged within 15 minutes",
        criterion="alert_acknowledged_15_min",
        standard_fraction=0.9,
        notes="Every alert; local standard agreed at the quality meeting.",
        now=now,
    )
    checks = actions.define_audit(
        actor=quality,
        program=program,
        title="Hourly circuit checks (≥ 90 % of hours)",
        criterion="hourly_checks_90",
        standard_fraction=0.95,
        now=now,
    )
    for back in range(7, 0, -1):
        day = today - dt.timedelta(days=back)
        for audit in (ack, checks):
            actions.run_audit(
                actor=quality,
                audit=audit,
                period_start=midnight(day),
                period_end=midnight(day + dt.timedelta(days=1)),
                now=now,
            )
    target = actions.define_audit(
        actor=director,
        program=program,
        title="Anticoagulation target within 6 hours of cannulation",
        criterion="anticoagulation_target_6_h",
        standard_fraction=1.0,
        now=now,
    )
    actions.run_audit(
        actor=director,
        audit=target,
        period_start=midnight(today - dt.timedelta(days=35)),
        period_end=midnight(today),
        now=now,
    )
    ctx.say("  quality: 4 adverse events, 1 M&M case, 3 audits")
