"""ecmo_core.exports.fhir: a run as a FHIR R4 Bundle of plain dicts.

- the bundle validates with fhir.resources (R4B models), full and bare runs alike;
- ids are stable (uuid5 of run and key) and references resolve inside the bundle;
- identifiers, the birth year and free text only when identified;
- device metrics come from the device that measures them; MCS values from the MCS device;
- complications become a Condition and an AdverseEvent naming the suspect device;
- naive datetimes are refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from exports_fixtures import T0, bare_run, full_run, h
from fhir.resources.R4B.bundle import Bundle

from ecmo_core.exports.fhir import run_bundle, when
from ecmo_core.exports.records import CircuitRecord, ComponentRecord


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_it_validates_and_resolves_every_reference() -> None:
    bundle = run_bundle(full_run(), now=h(100))
    Bundle.model_validate(bundle)
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert set(_references(bundle)) <= urls
    assert bundle == run_bundle(full_run(), now=h(100))  # stable ids


def test_it_validates_a_bare_run() -> None:
    bundle = run_bundle(bare_run(), now=h(1))
    Bundle.model_validate(bundle)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Encounter", "Procedure"]
    procedure = _of(bundle, "Procedure")[0]
    assert procedure["status"] == "in-progress" and "focalDevice" not in procedure
    assert procedure["performedPeriod"] == {"start": "2026-11-20T10:00:00+00:00"}


def test_it_identifies_only_when_asked() -> None:
    identified = _of(run_bundle(full_run(), now=h(100)), "Patient")[0]
    assert identified["name"] == [{"text": "Test Person"}]
    assert [i["value"] for i in identified["identifier"]] == ["TEST-0007", "TEST-MRN-7", "TEST-NAT-7"]
    assert identified["birthDate"] == "1968"
    plain = run_bundle(full_run(), now=h(100), identified=False)
    patient = _of(plain, "Patient")[0]
    assert patient == {
        "resourceType": "Patient",
        "id": patient["id"],
        "identifier": patient["identifier"],
        "gender": "female",
    }
    text = str(plain)
    for secret in (
        "TEST-MRN-7",
        "Test Person",
        "Differential hypoxaemia",
        "alice",
        "clot on the inflow face",
    ):
        assert secret not in text


def test_it_leaves_out_a_missing_birth_year_and_empty_names() -> None:
    run = full_run()
    patient = replace(run.patient, birth_year=None, identifiers=(("mrn", "TEST-MRN-7"),))
    resource = _of(run_bundle(replace(run, patient=patient), now=h(100)), "Patient")[0]
    assert "birthDate" not in resource and "name" not in resource


def test_it_sources_metrics_from_their_devices() -> None:
    bundle = run_bundle(full_run(), now=h(100))
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    metrics = {m["type"]["coding"][0]["code"]: m for m in _of(bundle, "DeviceMetric")}

    def source_kind(code: str) -> str:
        return urls[metrics[code]["source"]["reference"]]["type"]["coding"][0]["code"]

    assert source_kind("blood_flow_l_min") == "pump_head"
    assert source_kind("post_oxygenator_pressure_mmhg") == "oxygenator"
    assert (
        "lotNumber" not in urls[metrics["post_oxygenator_pressure_mmhg"]["source"]["reference"]]
    )  # the newest
    assert source_kind("impella_flow_l_min") == "impella"
    assert source_kind("new_code_x") == "console"
    assert "source" not in metrics["vad_flow_l_min"]  # no VAD on this run
    assert "spo2" not in metrics  # a patient monitor value, not a circuit device's


def test_it_falls_back_to_the_run_console_serial() -> None:
    run = full_run(circuits=(), console_serial="TEST-CON-9")
    bundle = run_bundle(run, now=h(100))
    devices = _of(bundle, "Device")
    console = next(d for d in devices if d.get("serialNumber") == "TEST-CON-9")
    assert console["status"] == "inactive"
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    flow = next(
        m for m in _of(bundle, "DeviceMetric") if m["type"]["coding"][0]["code"] == "blood_flow_l_min"
    )
    assert urls[flow["source"]["reference"]] is console
    ongoing = run_bundle(full_run(circuits=(), console_serial="TEST-CON-9", ended_at=None), now=h(100))
    assert next(d for d in _of(ongoing, "Device") if d.get("serialNumber"))["status"] == "active"


def test_it_has_no_metric_source_without_devices() -> None:
    bundle = run_bundle(full_run(circuits=(), mcs_devices=()), now=h(100))
    assert all("source" not in m for m in _of(bundle, "DeviceMetric"))


def test_it_does_not_duplicate_a_console_known_as_a_component() -> None:
    bundle = run_bundle(full_run(console_serial="TEST-CON-1"), now=h(100))
    assert sum(1 for d in _of(bundle, "Device") if d.get("serialNumber") == "TEST-CON-1") == 1


def test_it_parents_pump_and_oxygenator_on_the_circuit_console() -> None:
    bundle = run_bundle(full_run(), now=h(100))
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    by_kind = {d["type"]["coding"][0]["code"]: d for d in _of(bundle, "Device")}
    assert urls[by_kind["pump_head"]["parent"]["reference"]]["serialNumber"] == "TEST-CON-1"
    assert "parent" not in by_kind["heater"]
    no_console = CircuitRecord(22, T0, None, "", (ComponentRecord(9, "pump_head", "X", "Y", T0),))
    alone = _of(run_bundle(full_run(circuits=(no_console,)), now=h(100)), "Device")
    assert all("parent" not in d for d in alone)


def test_it_codes_observations() -> None:
    observations = _of(run_bundle(full_run(), now=h(100)), "Observation")
    by_code: dict[str, list[dict[str, Any]]] = {}
    for o in observations:
        by_code.setdefault(o["code"]["coding"][0]["code"], []).append(o)
    anti_xa = by_code["anti_xa_iu_ml"][0]
    assert anti_xa["category"][0]["coding"][0]["code"] == "laboratory"
    assert anti_xa["code"]["coding"][1] == {"system": "http://loinc.org", "code": "3274-8"}
    assert "device" not in anti_xa
    device_flow = next(o for o in by_code["blood_flow_l_min"] if "effectiveDateTime" in o)
    assert "device" in device_flow
    summary = next(o for o in by_code["blood_flow_l_min"] if "effectivePeriod" in o)
    assert summary["valueQuantity"] == {
        "value": 4.1,
        "unit": "L/min",
        "system": "http://unitsofmeasure.org",
        "code": "L/min",
    }
    assert summary["code"]["text"] == "ECMO blood flow, mean over the period"
    spo2 = by_code["spo2"][0]
    assert spo2["category"][0]["coding"][0]["code"] == "vital-signs" and "device" not in spo2
    assert by_code["new_code_x"][0]["valueQuantity"]["unit"] == "1"
    check, empty = by_code["circuit-check"]
    assert check["performer"] == [{"display": "alice"}] and check["note"] == [{"text": "ok"}]
    assert check["component"][1]["valueBoolean"] is True
    assert "component" not in empty and "performer" not in empty


def test_it_maps_configurations_in_time_order() -> None:
    procedures = _of(run_bundle(full_run(), now=h(100)), "Procedure")
    modes = [(p["code"]["coding"][0]["code"], p["performedPeriod"], p["status"]) for p in procedures[1:]]
    assert modes == [
        ("va", {"start": when(T0), "end": when(h(30))}, "completed"),
        ("vav", {"start": when(h(30)), "end": when(h(72))}, "completed"),
    ]
    assert procedures[2]["reasonCode"] == [{"text": "Differential hypoxaemia"}]
    assert "reasonCode" not in procedures[1]
    ongoing = _of(run_bundle(full_run(ended_at=None), now=h(100)), "Procedure")
    assert ongoing[2]["status"] == "in-progress"


def test_it_maps_complications_to_conditions_and_adverse_events() -> None:
    bundle = run_bundle(full_run(), now=h(100))
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    conditions = _of(bundle, "Condition")
    events = _of(bundle, "AdverseEvent")
    assert [c["code"]["coding"][0]["code"] for c in conditions] == ["mech.oxygenator_failure", "hem.gi"]
    assert conditions[0]["severity"]["coding"][0]["code"] == "24484000"
    assert conditions[0]["note"] == [{"text": "clot on the inflow face"}]
    assert "note" not in conditions[1]
    failure, bleed = events
    assert failure["seriousness"]["coding"][0]["code"] == "serious"
    assert failure["category"][0]["coding"][0]["code"] == "product-problem"
    assert urls[failure["suspectEntity"][0]["instance"]["reference"]]["lotNumber"] == "TEST-LOT-O1"
    assert bleed["seriousness"]["coding"][0]["code"] == "non-serious"
    assert "category" not in bleed and "suspectEntity" not in bleed
    assert bleed["event"]["text"] == "hem.gi"  # no label: the code


def test_it_leaves_out_an_unknown_severity() -> None:
    run = full_run()
    odd = replace(run.complications[1], severity="unknown")
    condition = _of(run_bundle(replace(run, complications=(odd,)), now=h(100)), "Condition")[0]
    assert "severity" not in condition


def test_it_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        when(dt.datetime(2026, 1, 1))
