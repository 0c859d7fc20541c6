"""GET and POST /api/v1/runs/{run_id}/checks, POST /api/v1/checks/{id}/amend (core-api §6).

- a check is stored with every structured field, its clot findings, and its values as samples with source "check"
  (so the rules see them); ΔP is computed
- pump speed and flow are required; a value outside its range is a 400 naming the field and the range
- GET lists current versions, newest first; include_amended=true adds the earlier versions
- an amendment needs a reason, creates version 2 pointing at the original, and keeps the original readable
- a role without check.record gets a 403; another program's run is a 404
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import CircuitCheck, Sample
from tests.web.conftest import T0
from tests.web.surveil_support import post_json

AT = T0 + dt.timedelta(hours=1)


def _check(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "observed_at": AT.isoformat(),
        "pump_speed_rpm": 3250,
        "blood_flow_l_min": 4.41,
        "access_pressure_mmhg": -53,
        "pre_oxygenator_pressure_mmhg": 228,
        "post_oxygenator_pressure_mmhg": 209,
        "sweep_gas_l_min": 4.5,
        "fdo2": 1.0,
        "blood_temperature_c": 36.8,
        "heater_set_temperature_c": 37.0,
        "colour_difference": "present",
        "clots": [
            {
                "location": "Oxygenator inflow face, lower corner",
                "appearance": "white fibrin",
                "size_mm": 4,
                "change": "growing",
                "action": "marked",
            }
        ],
    }
    body.update(changes)
    return body


def _post(client: Any, run: EcmoRun, body: dict[str, Any]) -> Any:
    with time_machine.travel(AT + dt.timedelta(minutes=2), tick=False):
        return post_json(client, f"/api/v1/runs/{run.pk}/checks", body)


def test_it_records_a_check_with_its_findings_and_samples(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    response = _post(client_for(perfusionist), run, _check())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["delta_p_mmhg"] == 19 and body["version"] == 1 and body["recorded_by"] == "perfusionist"
    assert body["clots"][0]["size_mm"] == 4 and body["clots"][0]["change"] == "growing"
    check = CircuitCheck.objects.get(pk=body["id"])
    samples = dict(Sample.objects.filter(check_record=check).values_list("parameter", "value"))
    assert samples["blood_flow_l_min"] == 4.41 and samples["bubble_detected"] == 0
    assert set(Sample.objects.filter(check_record=check).values_list("source", flat=True)) == {"check"}


def test_it_requires_speed_and_flow_and_names_out_of_range_fields(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    missing = _post(client, run, _check(pump_speed_rpm=None))
    assert missing.status_code == 400 and "pump_speed_rpm" in missing.json()["detail"]
    bad = _post(client, run, _check(fdo2=100, blood_temperature_c=60))
    detail = bad.json()["detail"]
    assert bad.status_code == 400 and "fraction" in detail["fdo2"][0]
    assert "15 to 45" in detail["blood_temperature_c"][0]
    clot = _post(
        client, run, _check(clots=[{"location": "pump inlet", "appearance": "clot", "size_mm": 500}])
    )
    assert "clots[0].size_mm" in clot.json()["detail"]
    assert not CircuitCheck.objects.exists()


def test_it_lists_current_checks_and_on_request_their_versions(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    check_id = _post(client, run, _check()).json()["id"]
    with time_machine.travel(AT + dt.timedelta(minutes=10), tick=False):
        amended = post_json(
            client,
            f"/api/v1/checks/{check_id}/amend",
            {**_check(access_pressure_mmhg=-35), "reason": "access misread"},
        )
    assert amended.status_code == 201, amended.content
    assert amended.json()["version"] == 2 and amended.json()["original_id"] == check_id
    current = client.get(f"/api/v1/runs/{run.pk}/checks").json()
    assert [c["version"] for c in current] == [2]
    everything = client.get(f"/api/v1/runs/{run.pk}/checks", {"include_amended": "true"}).json()
    assert sorted(c["version"] for c in everything) == [1, 2]
    original = next(c for c in everything if c["version"] == 1)
    assert original["access_pressure_mmhg"] == -53 and original["is_current"] is False


def test_it_refuses_an_amendment_without_a_reason(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    check_id = _post(client, run, _check()).json()["id"]
    with time_machine.travel(AT + dt.timedelta(minutes=10), tick=False):
        response = post_json(client, f"/api/v1/checks/{check_id}/amend", {**_check(), "reason": "  "})
    assert response.status_code == 400 and "reason" in response.json()["detail"]
    assert CircuitCheck.objects.count() == 1


def test_it_checks_roles_and_programs(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    assert _post(client_for(personas["bedside_nurse"]), run, _check()).status_code == 403
    assert _post(client_for(personas["outsider"]), run, _check()).status_code == 404
    assert _post(client_for(personas["ecmo_specialist"]), run, _check()).status_code == 201
    assert client_for(personas["auditor"]).get(f"/api/v1/runs/{run.pk}/checks").status_code == 200
