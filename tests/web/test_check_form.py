"""The hourly check form (/runs/{id}/checks/new/), check history and amendments (/checks/{id}/amend/).

- the form is prefilled from fresh console telemetry, each prefilled value marked "from console HH:MM"; stale
  telemetry (older than 15 min) is not offered
- a posted check stores every field, its clot findings and, in prefilled_fields, the telemetry values the
  perfusionist kept unchanged; a changed value loses the mark
- a bad value is shown beside its field with the accepted range in the program's unit; nothing is stored
- FdO2 is entered in % (or as a fraction); a program charting circuit pressures in kPa sees the prefill, the
  labels, the ranges and the history in kPa while the check is stored in mmHg; a prefilled value kept unchanged
  is stored exactly
- the findings of the previous check are carried over so their change can be recorded
- an amendment needs a reason, becomes version 2, and the history page shows both versions: the original stays
- a role without check.record gets a 403, another program a 404; CSRF is enforced
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from ecmo_core.surveillance import Sample
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import CircuitCheck
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples, post_form

NOW = T0 + dt.timedelta(hours=2)


def _telemetry(run: EcmoRun, until: dt.datetime) -> None:
    samples = circuit_samples(
        until - dt.timedelta(minutes=20), until, flow=4.4, rpm=3250, pre=228, post=209, access=-53
    )
    samples.append(Sample(until, "fdo2", 1.0))
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=until)


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "observed_at": NOW.strftime("%Y-%m-%dT%H:%M"),
        "pump_speed_rpm": "3250",
        "blood_flow_l_min": "4.4",
        "access_pressure_mmhg": "-53",
        "pre_oxygenator_pressure_mmhg": "228",
        "post_oxygenator_pressure_mmhg": "209",
        "sweep_gas_l_min": "4.5",
        "fdo2": "1.0",
        "blood_temperature_c": "36.8",
        "heater_set_temperature_c": "37",
        "colour_difference": "present",
        "connectors_secure": "on",
        "cannula_sites_ok": "on",
        "hand_crank_present": "on",
        "clamps_present": "on",
        "backup_console_ready": "on",
        "battery_charged": "on",
        "gas_supply_connected": "on",
        "clot-count": "2",
        "clot-0-location": "Oxygenator inflow face",
        "clot-0-appearance": "white fibrin",
        "clot-0-size_mm": "4",
        "clot-0-change": "growing",
        "clot-0-action": "marked",
        "prefill": '{"blood_flow_l_min": {"value": 4.4, "at": "2026-11-20T12:00:00+00:00", "source": "device"}, '
        '"pump_speed_rpm": {"value": 3250, "at": "2026-11-20T12:00:00+00:00", "source": "device"}}',
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_it_prefills_from_fresh_telemetry_and_marks_each_value(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _telemetry(run, NOW - dt.timedelta(minutes=1))
    with time_machine.travel(NOW, tick=False):
        body = client_for(perfusionist).get(f"/runs/{run.pk}/checks/new/").content.decode()
    assert 'value="4.4"' in body and 'value="3250' in body
    assert body.count("from console 11:59") >= 5  # flow, speed, three pressures (Europe/London = UTC in Nov)


def test_it_offers_nothing_from_stale_telemetry(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    _telemetry(run, NOW - dt.timedelta(minutes=40))
    with time_machine.travel(NOW, tick=False):
        body = client_for(perfusionist).get(f"/runs/{run.pk}/checks/new/").content.decode()
    assert "sv-prefilled" not in body
    assert "No fresh console telemetry" in body


def test_it_records_the_check_and_which_values_came_from_the_console(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = post_form(client, f"/runs/{run.pk}/checks/new/", _form(pump_speed_rpm="3300"))
    assert response.status_code == 302, response.content.decode()[:2000]
    check = CircuitCheck.objects.get(run=run)
    assert check.observed_at == NOW and check.delta_p_mmhg == 19 and check.recorded_by == perfusionist
    assert check.prefilled_fields == [
        "blood_flow_l_min"
    ]  # speed was changed by hand: no longer "from console"
    assert check.prefill_detail["blood_flow_l_min"]["source"] == "device"
    assert check.air_in_circuit is False and check.hand_crank_present is True
    clot = check.clots.get()
    assert (clot.location, clot.size_mm, clot.change) == ("Oxygenator inflow face", 4, "growing")


def test_it_shows_errors_with_the_accepted_range_and_stores_nothing(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = post_form(
            client,
            f"/runs/{run.pk}/checks/new/",
            _form(fdo2="150", blood_flow_l_min="abc", **{"clot-0-size_mm": "900"}),
        )
    body = response.content.decode()
    assert response.status_code == 400
    assert "FdO2 (%): 150 % is outside the accepted range 21 to 100 %" in body
    assert "Blood flow (L/min): must be a number (0 to 10 L/min)" in body
    assert not CircuitCheck.objects.exists()


def test_it_carries_the_previous_findings_over(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        post_form(client, f"/runs/{run.pk}/checks/new/", _form())
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        body = client.get(f"/runs/{run.pk}/checks/new/").content.decode()
    assert 'value="Oxygenator inflow face"' in body
    assert '<option value="unchanged" selected>' in body


def test_it_amends_with_a_reason_and_keeps_the_original(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        post_form(client, f"/runs/{run.pk}/checks/new/", _form(access_pressure_mmhg="-35"))
    original = CircuitCheck.objects.get()
    url = f"/checks/{original.pk}/amend/"
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        no_reason = post_form(client, url, _form(access_pressure_mmhg="-53"))
        assert no_reason.status_code == 400 and "Reason for the amendment" in no_reason.content.decode()
        done = post_form(client, url, _form(access_pressure_mmhg="-53", reason="access pressure misread"))
    assert done.status_code == 302
    original.refresh_from_db()
    amended = CircuitCheck.objects.get(is_current=True)
    assert (original.version, original.is_current, original.access_pressure_mmhg) == (1, False, -35)
    assert (amended.version, amended.original_id, amended.access_pressure_mmhg) == (2, original.pk, -53)
    assert amended.amendment_reason == "access pressure misread"
    assert list(amended.samples.filter(parameter="access_pressure_mmhg").values_list("value", flat=True)) == [
        -53
    ]
    history = client.get(f"/runs/{run.pk}/checks/").content.decode()
    assert "v2: access pressure misread" in history and "(original)" in history and ">-35<" in history


def test_it_checks_roles_programs_and_csrf(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    url = f"/runs/{run.pk}/checks/new/"
    assert client_for(personas["bedside_nurse"]).get(url).status_code == 403
    assert client_for(personas["outsider"]).get(url).status_code == 404
    no_csrf = client_for(personas["perfusionist"]).post(url, _form())
    assert no_csrf.status_code == 403 and not CircuitCheck.objects.exists()


def test_it_takes_fdo2_in_percent_or_as_a_fraction(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = post_form(client, f"/runs/{run.pk}/checks/new/", _form(fdo2="60"))
    assert response.status_code == 302
    assert CircuitCheck.objects.get(run=run).fdo2 == 0.6


def test_a_kpa_program_enters_and_reads_circuit_pressures_in_kpa(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    program = run.program
    program.pressure_unit = program.circuit_pressure_unit = "kPa"
    program.save()
    _telemetry(run, NOW - dt.timedelta(minutes=1))
    client = client_for(perfusionist)
    with time_machine.travel(NOW, tick=False):
        body = client.get(f"/runs/{run.pk}/checks/new/").content.decode()
    # 228 mmHg / 7.50062 = 30.397 kPa → "30.4"; access −53 mmHg = −7.066 kPa → "-7.07"; FdO2 1.0 → 100 %
    assert "Pre-oxygenator pressure (kPa)" in body and "mmHg" not in body.split("<form", 1)[1]
    assert 'value="30.4"' in body and 'value="-7.07"' in body and 'value="100"' in body
    assert 'data-unit="kPa"' in body  # the live ΔP is worked out in kPa
    prefill = '{"pre_oxygenator_pressure_mmhg": {"value": 228.0, "at": "2026-11-20T11:59:00+00:00", "source": "device"}}'
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        refused = post_form(
            client, f"/runs/{run.pk}/checks/new/", _form(pre_oxygenator_pressure_mmhg="120", prefill=prefill)
        )
        assert refused.status_code == 400
        # 800 mmHg / 7.50062 = 106.658 → 106.65 kPa; −100 mmHg = −13.332 → −13.33 kPa
        assert (
            "Pre-oxygenator pressure (kPa): 120 kPa is outside the accepted range -13.33 to 106.65 kPa"
            in refused.content.decode()
        )
        data = _form(
            pre_oxygenator_pressure_mmhg="30.4",
            post_oxygenator_pressure_mmhg="28",
            access_pressure_mmhg="-7.07",
            prefill=prefill,
        )
        response = post_form(client, f"/runs/{run.pk}/checks/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    check = CircuitCheck.objects.get(run=run)
    # the prefilled 30.4 kPa kept unchanged is stored as the console's 228 mmHg exactly, and marked
    assert check.pre_oxygenator_pressure_mmhg == 228.0 and check.prefilled_fields == [
        "pre_oxygenator_pressure_mmhg"
    ]
    # typed 28 kPa × 7.50062 = 210.017 mmHg stored canonical
    assert abs(check.post_oxygenator_pressure_mmhg - 210.017) < 1e-3
    history = client.get(f"/runs/{run.pk}/checks/").content.decode()
    # shown back in kPa: 228 → 30.4, 210.017 → 28.0, ΔP 17.98 mmHg → 2.4 kPa; headers carry the unit
    assert ">30.4<" in history and ">28.0<" in history and "<strong>2.4</strong>" in history
    assert "Access <small>(kPa)</small>" in history and "mmHg" not in history
