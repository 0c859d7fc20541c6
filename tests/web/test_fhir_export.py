"""GET /api/v1/runs/{run_id}/fhir — a FHIR R4 Bundle per run.

- it validates with fhir.resources (R4B models) and holds Patient, Encounter, Procedure (the run and each
  configuration), Device (console, pump, oxygenator, MCS), DeviceMetric, Observation and Condition/AdverseEvent;
- observations carry UCUM units, LOINC where one exists and the local parameter code otherwise;
- a clinical role sees identifiers; the researcher never gets a FHIR bundle; an outsider gets 404.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from ecmo_core.exports.fhir import ECMO_PROCEDURE
from tests.web.registry_support import build_run


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture
def full_run(program: Any, perfusionist: Any) -> Any:
    return build_run(program, perfusionist)


def test_it_returns_a_bundle_that_validates_as_fhir(
    full_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["intensivist"]).get(f"/api/v1/runs/{full_run.pk}/fhir")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    Bundle.model_validate(bundle)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds["Patient"] == 1 and kinds["Encounter"] == 1
    assert kinds["Procedure"] == 3  # the run, then V-A and V-AV
    assert kinds["Device"] == 5  # console, pump, two oxygenators, Impella
    assert kinds["DeviceMetric"] >= 2 and kinds["Observation"] >= 5
    run_procedure = _resources(bundle, "Procedure")[0]
    assert run_procedure["code"]["coding"] == [ECMO_PROCEDURE]
    assert run_procedure["status"] == "completed"


def test_it_codes_observations_with_ucum_and_loinc(
    full_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    bundle = client_for(personas["intensivist"]).get(f"/api/v1/runs/{full_run.pk}/fhir").json()
    observations = _resources(bundle, "Observation")
    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    anti_xa = by_code["anti_xa_iu_ml"]
    assert {"system": "http://loinc.org", "code": "3274-8"} in anti_xa["code"]["coding"]
    assert anti_xa["valueQuantity"] == {
        "value": 0.31,
        "unit": "[IU]/mL",
        "system": "http://unitsofmeasure.org",
        "code": "[IU]/mL",
    }
    flow = by_code["blood_flow_l_min"]  # no LOINC exists: the local code only
    assert [c["system"] for c in flow["code"]["coding"]] == ["urn:ecmo-steward:parameter"]
    assert flow["valueQuantity"]["code"] == "L/min"
    # 20 console values every 30 min from T0 (4.00 … 4.19 L/min, sum 81.9) and the check's 4.1, all on one
    # UTC day: mean 86.0 / 21 = 4.09524, stored to 4 decimals
    assert flow["valueQuantity"]["value"] == 4.0952
    assert {
        c["code"]["coding"][0]["code"]: c.get("valueQuantity", {}).get("value") for c in flow["component"]
    } == {"minimum": 4.0, "maximum": 4.19, "count": None}
    assert flow["component"][2]["valueInteger"] == 21
    check = by_code["circuit-check"]
    assert {"code": "fdo2"}.items() <= check["component"][2]["code"]["coding"][0].items()


def test_it_sources_device_metrics_from_the_device_that_measures_them(
    full_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    bundle = client_for(personas["intensivist"]).get(f"/api/v1/runs/{full_run.pk}/fhir").json()
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    metrics = {m["type"]["coding"][0]["code"]: m for m in _resources(bundle, "DeviceMetric")}
    assert (
        urls[metrics["blood_flow_l_min"]["source"]["reference"]]["type"]["coding"][0]["code"] == "pump_head"
    )
    assert (
        urls[metrics["impella_flow_l_min"]["source"]["reference"]]["type"]["coding"][0]["code"] == "impella"
    )
    pump = next(d for d in _resources(bundle, "Device") if d["type"]["coding"][0]["code"] == "pump_head")
    assert urls[pump["parent"]["reference"]]["serialNumber"] == "TEST-CON-77"


def test_it_shows_identifiers_only_to_roles_that_may_see_them(
    full_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    patient = _resources(
        client_for(personas["intensivist"]).get(f"/api/v1/runs/{full_run.pk}/fhir").json(), "Patient"
    )[0]
    assert patient["name"] == [{"text": "Test Person"}]
    assert any(i["value"] == "TEST-MRN-0101" for i in patient["identifier"])
    assert patient["birthDate"] == "1968"


@pytest.mark.parametrize(("who", "status"), [("researcher", 403), ("outsider", 404), ("nobody", 404)])
def test_it_never_gives_a_bundle_to_the_researcher_or_outsiders(
    full_run: Any, personas: dict[str, Any], client_for: Any, who: str, status: int
) -> None:
    response = client_for(personas[who]).get(f"/api/v1/runs/{full_run.pk}/fhir")
    assert response.status_code == status
    assert "TEST-MRN-0101" not in response.content.decode()


def test_it_validates_an_ongoing_run_without_identifiers(
    program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    run = build_run(program, perfusionist, code="TEST-0102", identifiers={}, end=False)
    bundle = client_for(personas["perfusionist"]).get(f"/api/v1/runs/{run.pk}/fhir").json()
    Bundle.model_validate(bundle)
    assert _resources(bundle, "Encounter")[0]["status"] == "in-progress"
    assert "name" not in _resources(bundle, "Patient")[0]
    assert dt.datetime.fromisoformat(bundle["timestamp"]).tzinfo is not None
