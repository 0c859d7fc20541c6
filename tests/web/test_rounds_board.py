"""The rounds board page, the sections, goals and the printable handover.

Spec checklist:
- the board for a date (default today in the program's time zone) offers to start rounds when none exist
- starting rounds adds a card per run on ECMO with the perfusion section generated from the circuit's last 24 h
  (real samples through the surveillance app: flow, ΔP, post-oxygenator gases, alerts, anticoagulation in range);
  without circuit data it says "no circuit data yet"
- attendance records members with their role and people without an account (a dietitian), a chair, an observer
- each discipline writes its own section (perfusion: perfusionists and ECMO specialists); others get 403;
  editing keeps the earlier text and a colleague's text needs a reason
- goals carry over to the next session until ticked off, and stay ticked in later sessions
- the board runs a fixed number of queries whatever the number of runs
- the handover prints one page per patient (.page-break)
- 404 outside the program; a second start for the same day is refused
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_web.rounds import actions
from ecmo_web.rounds.models import RoundsSection, RoundsSession
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 21)
AT = dt.datetime(2026, 11, 21, 8, 30, tzinfo=dt.UTC)  # Europe/London in November = UTC


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def telemetry(run: EcmoRun, user: Any, now: dt.datetime) -> None:
    from ecmo_web.surveillance.actions import ingest_samples

    samples = []
    for minutes in range(0, 20 * 60, 30):
        at = now - dt.timedelta(hours=20) + dt.timedelta(minutes=minutes)
        for code, value in [
            ("blood_flow_l_min", 4.4),
            ("pump_speed_rpm", 3250),
            ("access_pressure_mmhg", -54),
            ("pre_oxygenator_pressure_mmhg", 232),
            ("post_oxygenator_pressure_mmhg", 209),
            ("sweep_gas_l_min", 4.5),
            ("fdo2", 1.0),
        ]:
            samples.append({"observed_at": at, "parameter": code, "value": value, "source": "console"})
    samples += [
        {
            "observed_at": now - dt.timedelta(hours=2),
            "parameter": "post_oxygenator_po2_mmhg",
            "value": 331,
            "source": "lab",
        },
        {
            "observed_at": now - dt.timedelta(hours=2),
            "parameter": "anti_xa_iu_ml",
            "value": 0.33,
            "source": "lab",
        },
    ]
    ingest_samples(actor_or_system=user, run=run, samples=samples, now=now, evaluate=False)


def second_run(program: Any, user: Any, code: str = "TEST-0002") -> EcmoRun:
    return run_actions.start_run(
        actor=user,
        program=program,
        patient_code=code,
        sex="female",
        birth_year=1980,
        indication="cardiac",
        mode="va",
        started_at=T0,
        weight_kg=60,
        height_cm=165,
    )


def test_it_offers_to_start_rounds_and_builds_cards_with_real_circuit_data(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    perf = personas["perfusionist"]
    run_actions.set_target(
        actor=personas["intensivist"],
        run=run,
        parameter="anti_xa_iu_ml",
        low=0.3,
        high=0.5,
        effective_from=T0,
        agent="ufh",
    )
    telemetry(run, perf, AT)
    bare = second_run(run.program, perf)
    client = client_for(personas["intensivist"])
    with time_machine.travel(AT, tick=False):
        assert client.get(f"/programs/{run.program_id}/rounds/").headers["Location"].endswith("/2026-11-21/")
        html = client.get(f"/programs/{run.program_id}/rounds/2026-11-21/").content.decode()
        assert "Start rounds" in html and "TEST-0001" in html
        assert client.post(f"/programs/{run.program_id}/rounds/2026-11-21/start/").status_code == 302
    session = RoundsSession.objects.get()
    assert session.entries.count() == 2
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-21/").content.decode()
    card = html[html.index('id="run-' + str(run.pk)) : html.index('id="run-' + str(bare.pk))]
    assert "4.40" in card and "3250" in card and "331" in card and "-54" in card
    assert "Membrane ΔP" in card and "23" in card
    assert "Anti-Xa 0.33" in card and "anti_xa_iu_ml" not in card and "in range" in card
    bare_card = html[html.index('id="run-' + str(bare.pk)) :]
    assert "no circuit data yet" in bare_card
    with time_machine.travel(AT, tick=False):
        again = client.post(f"/programs/{run.program_id}/rounds/2026-11-21/start/")
    assert again.status_code == 302 and RoundsSession.objects.count() == 1


def test_it_records_attendance_with_roles_and_people_without_accounts(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    session = actions.start_session(
        actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT
    )
    client = client_for(personas["director"])
    client.post(
        f"/rounds-sessions/{session.pk}/attendance/", {"user": personas["director"].pk, "capacity": "chair"}
    )
    client.post(f"/rounds-sessions/{session.pk}/attendance/", {"user": personas["perfusionist"].pk})
    client.post(f"/rounds-sessions/{session.pk}/attendance/", {"name": "A. Baker", "role": "dietitian"})
    client.post(
        f"/rounds-sessions/{session.pk}/attendance/", {"user": personas["quality"].pk, "capacity": "observer"}
    )
    rows = list(session.attendance.values_list("role", "capacity", "name"))
    assert rows == [
        ("director", "chair", ""),
        ("perfusionist", "", ""),
        ("dietitian", "", "A. Baker"),
        ("quality", "observer", ""),
    ]
    with pytest.raises(ValidationError):
        actions.record_attendance(
            actor=personas["director"], session=session, user=personas["perfusionist"].pk
        )
    with pytest.raises(ValidationError):
        actions.record_attendance(actor=personas["director"], session=session, name="Someone")
    with pytest.raises(ValidationError):
        actions.record_attendance(
            actor=personas["director"], session=session, user=personas["surgeon"].pk, capacity="chair"
        )
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-21/").content.decode()
    assert "A. Baker" in html and "dietitian" in html and "chair" in html


def test_it_lets_each_discipline_write_its_own_section(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    session = actions.start_session(
        actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT
    )
    entry = session.entries.get()
    perf = client_for(personas["perfusionist"])
    response = perf.post(
        f"/rounds-entries/{entry.pk}/sections/perfusion/",
        {"text": "Circuit day 1, no alerts."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Circuit day 1" in response.content.decode()
    assert (
        client_for(personas["intensivist"])
        .post(f"/rounds-entries/{entry.pk}/sections/perfusion/", {"text": "x"})
        .status_code
        == 403
    )
    assert (
        client_for(personas["pharmacist"])
        .post(f"/rounds-entries/{entry.pk}/sections/medical/", {"text": "x"})
        .status_code
        == 403
    )
    assert (
        client_for(personas["pharmacist"])
        .post(f"/rounds-entries/{entry.pk}/sections/pharmacy/", {"text": "UFH 18 U/kg/h"})
        .status_code
        == 302
    )
    with pytest.raises(PermissionDenied):
        actions.write_section(actor=personas["bedside_nurse"], entry=entry, discipline="pharmacy", text="x")
    with pytest.raises(ValidationError) as err:
        actions.write_section(
            actor=personas["ecmo_specialist"], entry=entry, discipline="perfusion", text="New"
        )
    assert "reason" in err.value.message_dict
    section = actions.write_section(
        actor=personas["ecmo_specialist"],
        entry=entry,
        discipline="perfusion",
        text="Circuit day 1; ΔP stable.",
        reason="added the ΔP trend",
    )
    assert (
        section.history[0]["text"] == "Circuit day 1, no alerts." and section.author_role == "ecmo_specialist"
    )
    html = perf.get(f"/programs/{run.program_id}/rounds/2026-11-21/").content.decode()
    assert "ΔP stable" in html and "edited 1×" in html and "UFH 18 U/kg/h" in html
    assert RoundsSection.objects.count() == 2


def test_it_carries_goals_over_until_ticked_off(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    director = personas["director"]
    first = actions.start_session(actor=director, program=run.program, date=DAY, started_at=AT, now=AT)
    client = client_for(director)
    entry = first.entries.get()
    client.post(f"/rounds-entries/{entry.pk}/goals/", {"text": "Hb ≥ 8", "discipline": "medical"})
    client.post(f"/rounds-entries/{entry.pk}/goals/", {"text": "Oxygenator change at 14:00"})
    nxt = actions.start_session(
        actor=director,
        program=run.program,
        date=DAY + dt.timedelta(days=1),
        started_at=AT + dt.timedelta(days=1),
        now=AT + dt.timedelta(days=1),
    )
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-22/").content.decode()
    assert "Hb ≥ 8" in html and "carried over from 21 Nov" in html
    goal = run.rounds_goals.get(text="Oxygenator change at 14:00")
    assert client.post(f"/rounds-goals/{goal.pk}/tick/{nxt.pk}/", {"note": "done 14:22"}).status_code == 302
    third = actions.start_session(
        actor=director,
        program=run.program,
        date=DAY + dt.timedelta(days=2),
        started_at=AT + dt.timedelta(days=2),
        now=AT + dt.timedelta(days=2),
    )
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-23/").content.decode()
    assert "Hb ≥ 8" in html and "Oxygenator change" not in html
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-22/").content.decode()
    assert "goal-done" in html and "done 14:22" in html
    html = client.get(f"/programs/{run.program_id}/rounds/2026-11-21/").content.decode()
    assert "Oxygenator change" in html and "goal-done" not in html
    goal.refresh_from_db()
    with pytest.raises(ValidationError):
        actions.tick_goal(actor=director, goal=goal, session=third)


def test_it_runs_a_fixed_number_of_queries(
    personas: dict[str, Any], run: EcmoRun, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    perf = personas["perfusionist"]
    for i in range(2, 6):
        second_run(run.program, perf, f"TEST-000{i}")
    session = actions.start_session(
        actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT
    )
    for entry in session.entries.all():
        actions.write_section(actor=perf, entry=entry, discipline="perfusion", text="ok")
        actions.add_goal(actor=perf, session=session, run=entry.run, text="goal")
    actions.record_attendance(actor=perf, session=session, user=perf.pk)
    client = client_for(personas["intensivist"])
    with django_assert_max_num_queries(14):
        response = client.get(f"/programs/{run.program_id}/rounds/2026-11-21/")
    assert response.status_code == 200 and response.content.decode().count('class="card" id="run-') == 5


def test_it_prints_one_page_per_patient(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    second_run(run.program, personas["perfusionist"])
    actions.start_session(actor=personas["director"], program=run.program, date=DAY, started_at=AT, now=AT)
    html = client_for(personas["bedside_nurse"]).get(
        f"/programs/{run.program_id}/rounds/2026-11-21/handover/"
    )
    body = html.content.decode()
    assert html.status_code == 200 and body.count("page-break") == 1 and "@page" in body


def test_it_checks_permissions(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    assert (
        client_for(personas["outsider"]).get(f"/programs/{run.program_id}/rounds/2026-11-21/").status_code
        == 404
    )
    assert (
        client_for(personas["auditor"])
        .post(f"/programs/{run.program_id}/rounds/2026-11-21/start/")
        .status_code
        == 403
    )
    assert (
        client_for(personas["auditor"]).get(f"/programs/{run.program_id}/rounds/2026-11-21/").status_code
        == 200
    )
    assert (
        client_for(personas["auditor"]).get(f"/programs/{run.program_id}/rounds/not-a-date/").status_code
        == 404
    )
    with pytest.raises(ValidationError):
        actions.start_session(
            actor=personas["director"],
            program=run.program,
            date=DAY,
            started_at=AT + dt.timedelta(days=1),
            now=AT + dt.timedelta(days=1),
        )
