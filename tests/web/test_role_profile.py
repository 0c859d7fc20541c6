"""The perfusion role profile: ``GET /api/v1/role-profile`` and the pages, from fixtures with known counts.

Fixture (program North, period 20–27 Nov 2026): the perfusionist records 2 hourly checks, acknowledges 1 alert,
takes part in a flow-target decision and in rounds (attends and writes the perfusion section);
the intensivist records a candidacy decision without perfusion and attends rounds; one check falls after the
period. Expected: circuit_checks 2, alerts_handled 1, targets 1, rounds 2,
candidacy_configuration 0 — technical 3, expanded 3.

- every area is listed with its scope, count and links; numbers link to the records behind them
- ``user_id`` narrows to one person (the intensivist: 1 candidacy decision as decider, 1 rounds attendance)
- bad dates and an end before the start are 4xx naming the field; a user of another program is a 404
- the outsider sees nothing of North; the researcher may not see it
- the page draws technical vs expanded and each number opens the list of its records
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from ecmo_web.decisions import actions as decisions
from ecmo_web.rounds import actions as rounds
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance
from ecmo_web.surveillance.models import Alert
from tests.web import audit_guard
from tests.web.conftest import T0
from tests.web.surveil_support import post_json

START = "2026-11-20"
END = "2026-11-27"


def _check(at: dt.datetime) -> dict[str, Any]:
    return {
        "observed_at": at.isoformat(),
        "pump_speed_rpm": 3250,
        "blood_flow_l_min": 4.41,
        "access_pressure_mmhg": -53,
        "pre_oxygenator_pressure_mmhg": 228,
        "post_oxygenator_pressure_mmhg": 209,
        "sweep_gas_l_min": 4.5,
        "fdo2": 1.0,
        "blood_temperature_c": 36.8,
        "colour_difference": "absent",
    }


@pytest.fixture
def story(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> dict[str, Any]:
    perfusionist, intensivist = personas["perfusionist"], personas["intensivist"]
    client = client_for(perfusionist)
    for hours in (1, 2):
        with time_machine.travel(T0 + dt.timedelta(hours=hours, minutes=1), tick=False):
            response = post_json(
                client, f"/api/v1/runs/{run.pk}/checks", _check(T0 + dt.timedelta(hours=hours))
            )
            assert response.status_code == 201, response.content
    with time_machine.travel(T0 + dt.timedelta(days=8), tick=False):  # after the period
        post_json(client, f"/api/v1/runs/{run.pk}/checks", _check(T0 + dt.timedelta(days=8)))
    with audit_guard.unaudited():  # an alert as the rules engine would have opened it
        alert = Alert.objects.create(
            run=run,
            rule_id="air.detected",
            rule_version=1,
            severity="critical",
            peak_severity="critical",
            status="firing",
            opened_at=T0 + dt.timedelta(hours=3),
            status_changed_at=T0 + dt.timedelta(hours=3),
            message="Air detected in the circuit",
        )
    at = T0 + dt.timedelta(hours=3, minutes=2)
    surveillance.acknowledge_alert(actor=perfusionist, alert=alert, at=at, now=at)
    decisions.record_decision(
        actor=perfusionist,
        run=run,
        kind="flow_target",
        title="Flow target",
        made_at=T0 + dt.timedelta(days=1),
        content={"blood_flow_target_l_min": 4.5},
        participants=[{"user": perfusionist.pk}, {"user": intensivist.pk}],
    )
    decisions.record_decision(
        actor=intensivist,
        run=run,
        kind="candidacy",
        title="Candidacy",
        made_at=T0 + dt.timedelta(days=1, hours=1),
        content={"modality": "vv"},
        decided_by=intensivist,
    )
    day = T0 + dt.timedelta(days=2)
    session = rounds.start_session(
        actor=intensivist, program=run.program, date=day.date(), started_at=day, now=day
    )
    rounds.record_attendance(actor=intensivist, session=session, user=perfusionist)
    rounds.record_attendance(actor=intensivist, session=session, user=intensivist)
    entry = session.entries.get(run=run)
    with time_machine.travel(day + dt.timedelta(minutes=20), tick=False):
        rounds.write_section(actor=perfusionist, entry=entry, discipline="perfusion", text="Circuit quiet")
    return {"alert": alert, "perfusionist": perfusionist, "intensivist": intensivist}


def _counts(response: Any) -> dict[str, int]:
    assert response.status_code == 200, response.content
    return {item["area"]: item["count"] for item in response.json()}


def test_it_counts_what_perfusion_did_from_the_records(story: dict[str, Any], client_for: Any) -> None:
    client = client_for(story["intensivist"])
    response = client.get("/api/v1/role-profile", {"start": START, "end": END})
    items = {item["area"]: item for item in response.json()}
    assert _counts(response) == {
        "circuit_setup": 0,
        "circuit_checks": 2,
        "component_changes": 0,
        "troubleshooting": 0,
        "alerts_handled": 1,
        "mcs": 0,
        "candidacy_configuration": 0,
        "targets": 1,
        "weaning_decannulation": 0,
        "rounds": 2,
        "transport_ambulation": 0,
        "mm": 0,
        "audits_qi": 0,
        "policy_signoff": 0,
        "education": 0,
        "research": 0,
    }
    assert items["circuit_checks"]["scope"] == "technical" and items["targets"]["scope"] == "expanded"
    assert items["alerts_handled"]["links"] == [
        f"/runs/{story['alert'].run_id}/alerts/#alert-{story['alert'].pk}"
    ]
    assert len(items["circuit_checks"]["links"]) == 2
    assert items["targets"]["links"][0].startswith("/decisions/")


def test_it_counts_one_person(story: dict[str, Any], client_for: Any) -> None:
    client = client_for(story["perfusionist"])
    counts = _counts(
        client.get("/api/v1/role-profile", {"start": START, "end": END, "user_id": story["intensivist"].pk})
    )
    # the intensivist decided the candidacy and attended rounds; took part in the flow target decision
    assert {k: v for k, v in counts.items() if v} == {"candidacy_configuration": 1, "targets": 1, "rounds": 1}


def test_it_leaves_out_what_lies_outside_the_period(story: dict[str, Any], client_for: Any) -> None:
    client = client_for(story["perfusionist"])
    whole = _counts(client.get("/api/v1/role-profile", {"start": START, "end": "2026-12-01"}))
    assert whole["circuit_checks"] == 3  # the check of 28 Nov is inside this longer period
    none = _counts(client.get("/api/v1/role-profile", {"start": "2026-10-01", "end": "2026-11-01"}))
    assert sum(none.values()) == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "20 Nov", "end": END}, "start"),
        ({"start": START, "end": "2026-11-20T10:00:00"}, "end"),
        ({"start": END, "end": START}, "end"),
    ],
)
def test_it_refuses_a_bad_period_naming_the_field(
    params: dict[str, str], field: str, personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["perfusionist"]).get("/api/v1/role-profile", params)
    assert 400 <= response.status_code < 500 and field in str(response.json()["detail"])


def test_it_keeps_programs_apart(story: dict[str, Any], personas: dict[str, Any], client_for: Any) -> None:
    outsider = client_for(personas["outsider"])
    program_id = story["alert"].run.program_id
    assert outsider.get("/api/v1/role-profile", {"program_id": program_id}).status_code == 404
    mine = client_for(story["perfusionist"])
    assert mine.get("/api/v1/role-profile", {"user_id": personas["outsider"].pk}).status_code == 404
    researcher = client_for(personas["researcher"])
    assert researcher.get("/api/v1/role-profile", {"program_id": program_id}).status_code in (403, 404)
    assert researcher.get(f"/programs/{program_id}/perfusion/profile/").status_code in (403, 404)


def test_the_page_draws_the_scopes_and_links_each_number(story: dict[str, Any], client_for: Any) -> None:
    client = client_for(story["perfusionist"])
    program_id = story["alert"].run.program_id
    page = client.get(f"/programs/{program_id}/perfusion/profile/", {"start": START, "end": END})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Technical 3" in body and "Expanded 3" in body and 'id="profile-chart"' in body
    link = f"/programs/{program_id}/perfusion/profile/circuit_checks/?start={START}&amp;end={END}"
    assert link in body
    listing = client.get(
        f"/programs/{program_id}/perfusion/profile/circuit_checks/", {"start": START, "end": END}
    )
    assert listing.status_code == 200 and listing.content.decode().count(">Hourly circuit check</a>") == 2
    bad = client.get(f"/programs/{program_id}/perfusion/profile/", {"start": "soon"})
    assert bad.status_code == 400 and "start" in bad.content.decode()
