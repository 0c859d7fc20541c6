"""GET /api/v1/rounds/{date}: the rounds board as JSON for the caller's programs.

Spec checklist:
- one card per run with the perfusion section (the same summary the page shows), discipline sections with their
  author and role, goals with carried_over/done, open decisions; the session's attendance with roles
- a day without a session gives the program with session null and no cards
- only the caller's programs; program_id outside them is 404; a bad date is 400 naming "date"
- a fixed number of queries whatever the number of runs
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from ecmo_web.accounts.models import ApiToken
from ecmo_web.decisions import actions as decision_actions
from ecmo_web.rounds import actions
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 21)
AT = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)


def get(user: Any, path: str) -> Any:
    _, raw = ApiToken.issue(user)
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_it_returns_the_board_with_people_goals_and_open_decisions(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    director, perf = personas["director"], personas["perfusionist"]
    decision_actions.record_decision(
        actor=perf,
        run=run,
        kind="circuit_change",
        title="Change oxygenator",
        made_at=T0 + dt.timedelta(hours=20),
        content={"reason": "ΔP", "component_kind": "oxygenator", "urgency": "planned"},
    )
    session = actions.start_session(actor=director, program=run.program, date=DAY, started_at=AT, now=AT)
    actions.record_attendance(actor=director, session=session, user=director.pk, capacity="chair")
    actions.record_attendance(actor=director, session=session, name="A. Baker", role="dietitian")
    entry = session.entries.get()
    actions.write_section(actor=perf, entry=entry, discipline="perfusion", text="Oxygenator day 1.")
    actions.add_goal(actor=director, session=session, run=run, text="Hb ≥ 8")
    response = get(personas["bedside_nurse"], "/api/v1/rounds/2026-11-21")
    assert response.status_code == 200
    [board] = response.json()
    assert board["program"] == "North" and board["session"]["id"] == session.pk
    assert board["attendance"] == [
        {"name": director.get_username(), "role": "director", "capacity": "chair", "user_id": director.pk},
        {"name": "A. Baker", "role": "dietitian", "capacity": "", "user_id": None},
    ]
    [card] = board["cards"]
    assert (
        card["patient_code"] == "TEST-0001" and card["mode"] == "vv" and card["day_on_ecmo"] == 1
    )  # calendar day
    assert card["identifiers"] == ["Test Patient"]
    assert card["perfusion"]["available"] is False and card["perfusion"]["note"] == "no circuit data yet"
    assert card["sections"] == [
        {
            "discipline": "perfusion",
            "text": "Oxygenator day 1.",
            "author": "perfusionist",
            "author_role": "perfusionist",
            "updated_at": card["sections"][0]["updated_at"],
            "edits": 0,
        }
    ]
    assert card["goals"][0]["text"] == "Hb ≥ 8" and card["goals"][0]["carried_over"] is False
    assert card["open_decisions"][0]["title"] == "Change oxygenator"
    assert card["perfusion"]["planned"][0]["title"] == "Change oxygenator"


def test_it_returns_an_empty_board_without_a_session(personas: dict[str, Any], run: EcmoRun) -> None:
    [board] = get(personas["perfusionist"], "/api/v1/rounds/2026-11-21").json()
    assert board["session"] is None and board["cards"] == []


def test_it_keeps_to_the_callers_programs_and_validates_the_date(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    actions.start_session(actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT)
    [board] = get(personas["outsider"], "/api/v1/rounds/2026-11-21").json()
    assert board["program"] == "South" and board["session"] is None
    assert (
        get(personas["outsider"], f"/api/v1/rounds/2026-11-21?program_id={run.program_id}").status_code == 404
    )
    response = get(personas["perfusionist"], "/api/v1/rounds/21-11-2026")
    assert response.status_code == 400 and "date" in response.json()["detail"]
    assert get(personas["researcher"], "/api/v1/rounds/2026-11-21").status_code == 403
    assert get(personas["auditor"], "/api/v1/rounds/2026-11-21").status_code == 200


def test_it_runs_a_fixed_number_of_queries(
    personas: dict[str, Any], run: EcmoRun, django_assert_max_num_queries: Any
) -> None:
    for i in range(2, 7):
        run_actions.start_run(
            actor=personas["perfusionist"],
            program=run.program,
            patient_code=f"TEST-000{i}",
            sex="male",
            birth_year=1970,
            indication="cardiac",
            mode="va",
            started_at=T0,
        )
    session = actions.start_session(
        actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT
    )
    for entry in session.entries.all():
        actions.add_goal(actor=personas["director"], session=session, run=entry.run, text="g")
    _, raw = ApiToken.issue(personas["intensivist"])
    with django_assert_max_num_queries(14):
        response = Client().get("/api/v1/rounds/2026-11-21", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert len(response.json()[0]["cards"]) == 6
