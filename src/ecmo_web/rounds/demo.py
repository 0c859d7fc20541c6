"""Demo step: rounds on day N at 08:30 (demo-scenarios §7) with attendance by role (and a dietitian without an
account), the Run 1 perfusion section and goals (data: demo/story/rounds.toml); and, when today is not day N, today's rounds with the same team and
the goals carried over. Runs after the surveillance step, so the perfusion sections show the runs' real circuit data.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ecmo_web.demo import story
from ecmo_web.demo.seed import DemoContext
from ecmo_web.rounds import actions
from ecmo_web.rounds.models import RoundsSession
from ecmo_web.timezones import to_local


def _attend(ctx: DemoContext, session: RoundsSession, day: dict[str, Any]) -> None:
    chair = ctx.users[day["chair"]]
    for username, capacity in day["attendance"]:
        actions.record_attendance(
            actor=chair, session=session, user=ctx.users[username].pk, capacity=capacity
        )
    for name, role in day["guests"]:
        actions.record_attendance(actor=chair, session=session, name=name, role=role)


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    data = story.load("rounds")
    day, run1_story, done = data["day_n"], data["run1"], data["today"]["done"]
    program, chair = ctx.program, ctx.users[day["chair"]]
    started = ctx.at(day["run"], day["at"])
    day_n = ctx.clock.day_n
    session = actions.start_session(
        actor=chair, program=program, date=day_n, started_at=started, now=max(started, timezone.now())
    )
    _attend(ctx, session, day)
    run1 = ctx.runs[day["run"]]
    entry = session.entries.get(run=run1)
    actions.write_section(
        actor=ctx.users[run1_story["perfusion_by"]],
        entry=entry,
        discipline="perfusion",
        text=run1_story["perfusion"],
    )
    goals = {
        text: actions.add_goal(actor=chair, session=session, run=run1, text=text, discipline=discipline)
        for text, discipline in run1_story["goals"]
    }
    local_now = to_local(ctx.now, program)
    assert local_now is not None
    if local_now.date() != day_n and ctx.now > started:
        today = actions.start_session(
            actor=chair, program=program, date=local_now.date(), started_at=ctx.now, now=ctx.now
        )
        _attend(ctx, today, day)
        actions.tick_goal(
            actor=ctx.users[done["by"]], goal=goals[done["goal"]], session=today, note=done["note"]
        )
