"""The demo stays true to "now" (issue 11 §11).

Checklist:
- [x] a planned time in the story ("next 09:00") is the first 09:00 at least two hours after the seed, whatever
      the hour of seeding; "Dk HH:MM" stamps keep their day
- [x] seeded in the morning or late at night, no decision plans an event in the past without its outcome
- [x] the ECMO day is one number everywhere: a run started at 23:30 is on day 1 at 00:30 on the run list, the run
      page and the rounds board (D0 = the calendar day flow started, in the program's time zone)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from ecmo_web.decisions.models import Decision
from ecmo_web.demo import seed as demo_seed
from ecmo_web.demo.clock import ScenarioClock
from ecmo_web.rounds import actions as rounds_actions
from ecmo_web.runs import actions as run_actions

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("seeded", "planned"),
    [
        ("2026-12-04 05:30", "2026-12-04 09:00"),  # 2 h 30 min ahead: this morning
        ("2026-12-04 07:30", "2026-12-05 09:00"),  # only 1 h 30 min ahead: tomorrow
        ("2026-12-04 06:59", "2026-12-04 09:00"),
        ("2026-12-04 07:01", "2026-12-05 09:00"),
        ("2026-12-04 15:00", "2026-12-05 09:00"),
        ("2026-12-04 23:30", "2026-12-05 09:00"),
    ],
)
def test_a_planned_time_is_always_ahead_of_the_seed(seeded: str, planned: str) -> None:
    now = dt.datetime.fromisoformat(seeded).replace(tzinfo=LONDON)
    clock = ScenarioClock.for_now(now, "Europe/London")
    assert clock.at(12, "next 09:00") == dt.datetime.fromisoformat(planned).replace(tzinfo=LONDON)
    assert clock.at(12, "D12 16:30").astimezone(LONDON).date() == clock.day_n


def test_a_planned_time_needs_the_seed_time() -> None:
    with pytest.raises(ValueError, match="seed time"):
        ScenarioClock(tz=LONDON, day_n=dt.date(2026, 12, 4)).at(1, "next 09:00")


@pytest.mark.parametrize("hour", [10, 22])
def test_no_planned_event_is_left_in_the_past_without_its_outcome(
    db: Any, monkeypatch: Any, hour: int
) -> None:
    monkeypatch.setattr(demo_seed, "STEP_MODULES", ["ecmo_web.demo.base", "ecmo_web.decisions.demo"])
    now = dt.datetime(2026, 12, 4, hour, 30, tzinfo=LONDON).astimezone(dt.UTC)
    demo_seed.seed_demo(now=now, password="steward-demo-test")
    planned = [
        (d.title, dt.datetime.fromisoformat(d.content["planned_for"]))
        for d in Decision.objects.filter(completed_at__isnull=True)
        if (d.content or {}).get("planned_for")
    ]
    past = [
        (title, at)
        for title, at in planned
        if at <= now and not Decision.objects.get(title=title).component_id  # a circuit change done
    ]
    assert planned and not past


def test_the_ecmo_day_is_one_number_everywhere(
    program: Any, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    started = dt.datetime(2026, 11, 20, 23, 30, tzinfo=LONDON)
    with time_machine.travel(started + dt.timedelta(minutes=1), tick=False):
        run = run_actions.start_run(
            actor=personas["perfusionist"],
            program=program,
            patient_code="TEST-0009",
            sex="female",
            birth_year=1980,
            indication="respiratory",
            mode="vv",
            started_at=started,
        )
    at = started + dt.timedelta(hours=1)  # 00:30 the next calendar day: day 1
    assert run.ecmo_day(at) == 1 and run.ecmo_day(started) == 0 and run.ecmo_day(at.date()) == 1
    with time_machine.travel(at, tick=False):
        rounds_actions.start_session(
            actor=personas["director"], program=program, date=at.date(), started_at=at
        )
        client = client_for(personas["intensivist"])
        listing = client.get(f"/programs/{program.pk}/runs/").content.decode()
        page = client.get(f"/runs/{run.pk}/").content.decode()
        board = client.get(f"/programs/{program.pk}/rounds/{at.date().isoformat()}/").content.decode()
    assert "D1<" in listing
    assert "Day <strong>1</strong>" in page
    assert "Day 1<" in board
