"""Demo step: rounds on day N at 08:30 (demo-scenarios §7) with attendance by role (and a dietitian without an
account), the Run 1 perfusion section and goals; and, when today is not day N, today's rounds with the same team and
the goals carried over. Runs after the surveillance step, so the perfusion sections show the runs' real circuit data.
"""

from __future__ import annotations

from django.utils import timezone

from ecmo_web.demo.seed import DemoContext
from ecmo_web.rounds import actions
from ecmo_web.rounds.models import RoundsSession
from ecmo_web.timezones import to_local

ATTENDANCE = [
    ("director", "chair"),
    ("intensivist", ""),
    ("perfusionist", ""),
    ("perfusionist2", ""),
    ("ecmo_specialist", ""),
    ("surgeon", ""),
    ("bedside_nurse", ""),
    ("bedside_nurse2", ""),
    ("bedside_nurse3", ""),
    ("bedside_nurse4", ""),
    ("pharmacist", ""),
    ("physiotherapist", ""),
    ("quality", "observer"),
]

RUN1_PERFUSION = (
    "Circuit and membrane day 6 (lot 0412). 4.4 L/min at 3250 rpm, access -54, no chatter. Resistance alert 04:00, "
    "acknowledged 04:09: ΔP 23 at 4.4 vs baseline 16 at 4.8, resistance +57 %. Gas transfer adequate but drifting "
    "(PO2 331 on FdO2 1.0, PCO2 37 on 4.5 L sweep). D-dimer 12.6 and rising, fibrinogen 340, platelets 108: membrane "
    "consuming. Inflow fibrin now 4 mm; pump head clear; pfHb 8. Plan: elective membrane change 14:00, two "
    "perfusionists, spare primed, < 90 s off flow; new baseline 6 h after; anti-Xa 20:00."
)
RUN1_GOALS = [
    ("SpO2 88–94 %", "medical"),
    ("PaCO2 40–48", "medical"),
    ("Anti-Xa 0.30–0.50", "perfusion"),
    ("Hb ≥ 8", "medical"),
    ("Fluid balance -1 L", "nursing"),
    ("RASS -2", "nursing"),
    ("Oxygenator change at 14:00", "perfusion"),
]


def _attend(ctx: DemoContext, session: RoundsSession) -> None:
    chair = ctx.users["director"]
    for username, capacity in ATTENDANCE:
        actions.record_attendance(
            actor=chair, session=session, user=ctx.users[username].pk, capacity=capacity
        )
    actions.record_attendance(actor=chair, session=session, name="Demo Dietitian", role="dietitian")


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    program, chair, perf = ctx.program, ctx.users["director"], ctx.users["perfusionist"]
    started = ctx.at("DEMO-0001", "D6 08:30")
    day_n = ctx.clock.day_n
    session = actions.start_session(
        actor=chair, program=program, date=day_n, started_at=started, now=max(started, timezone.now())
    )
    _attend(ctx, session)
    run1 = ctx.runs["DEMO-0001"]
    entry = session.entries.get(run=run1)
    actions.write_section(actor=perf, entry=entry, discipline="perfusion", text=RUN1_PERFUSION)
    goals = {
        text: actions.add_goal(actor=chair, session=session, run=run1, text=text, discipline=discipline)
        for text, discipline in RUN1_GOALS
    }
    local_now = to_local(ctx.now, program)
    assert local_now is not None
    if local_now.date() != day_n and ctx.now > started:
        today = actions.start_session(
            actor=chair, program=program, date=local_now.date(), started_at=ctx.now, now=ctx.now
        )
        _attend(ctx, today)
        actions.tick_goal(
            actor=perf,
            goal=goals["Oxygenator change at 14:00"],
            session=today,
            note="oxygenator changed 14:22 (lot DEMO-OXA-0587), 70 s off flow",
        )
