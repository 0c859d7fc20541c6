"""Calculator pages (issue 4 part 8): one page per score and model, reached from a run, prefilled from the run's
data, saving its result into a decision.

Spec checklist:
- the program and run lists show every calculator by group; the program navigation links the list
- every calculator's page renders from ecmo_core.calc.describe (program and run context)
- from a run: weight, height, BMI, sex, age and the latest telemetry (via the surveillance query helper) are
  prefilled, each saying where it came from
- computing shows the result (RESP 4, class II); an InputError is shown beside the field it names
- "save into a decision" recomputes on the server and attaches the SavedCalculation (core version, reference);
  a score that cannot be computed is saved empty with its reason
- researchers (calculator.use without run.view) use program calculators but not run pages; outsiders get 404;
  roles without decision.record compute but cannot save
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from ecmo_core.calc import calculator_names
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import SavedCalculation
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

RESP = {
    "age_years": "52",
    "ventilation_hours_before_ecmo": "30",
    "diagnosis": "viral_pneumonia",
    "neuromuscular_blockade": "on",
    "inhaled_nitric_oxide": "on",
    "paco2_mmhg": "72",
    "peak_inspiratory_pressure_cmh2o": "36",
}


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def test_it_lists_the_calculators_and_links_them_from_the_navigation(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    html = client.get(f"/programs/{run.program_id}/calculators/").content.decode()
    assert "RESP score" in html and "Oxygenation models" in html
    assert (
        f'href="/programs/{run.program_id}/calculators/"' in client.get(f"/runs/{run.pk}/").content.decode()
    )
    html = client.get(f"/runs/{run.pk}/calculators/").content.decode()
    assert f"/runs/{run.pk}/calculators/resp/" in html


@pytest.mark.parametrize("name", calculator_names())
def test_it_renders_every_calculator_page(
    personas: dict[str, Any], run: EcmoRun, client_for: Any, name: str
) -> None:
    client = client_for(personas["perfusionist"])
    assert client.get(f"/runs/{run.pk}/calculators/{name}/").status_code == 200
    assert client.get(f"/programs/{run.program_id}/calculators/{name}/").status_code == 200


def test_it_prefills_from_the_run_and_telemetry(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    from ecmo_web.surveillance.actions import ingest_samples

    now = T0 + dt.timedelta(hours=5)
    ingest_samples(
        actor_or_system=personas["perfusionist"],
        run=run,
        now=now,
        evaluate=False,
        samples=[
            {
                "observed_at": now - dt.timedelta(hours=1),
                "parameter": "hemoglobin_g_dl",
                "value": 9.4,
                "source": "lab",
            }
        ],
    )
    client = client_for(personas["perfusionist"])
    with time_machine.travel(now, tick=False):
        html = client.get(f"/runs/{run.pk}/calculators/encourage/").content.decode()
        telemetry = client.get(f"/runs/{run.pk}/calculators/vv_required_blood_flow/").content.decode()
    assert 'value="24.7"' in html and "run: weight and height" in html  # 80 kg, 180 cm
    assert 'value="56"' in html  # born 1970, cannulated 2026
    assert (
        'value="9.4"' in telemetry and "Haemoglobin at" in telemetry and "hemoglobin_g_dl at" not in telemetry
    )
    assert 'value="240"' in telemetry  # VO2 3 mL/kg/min × 80 kg


def test_it_computes_and_shows_input_errors_beside_the_field(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["bedside_nurse"])
    response = client.post(f"/programs/{run.program_id}/calculators/resp/", {**RESP, "action": "compute"})
    html = response.content.decode()
    assert response.status_code == 200 and "RESP 4" in html and "Class <strong>II</strong>" in html
    response = client.post(f"/programs/{run.program_id}/calculators/resp/", {**RESP, "age_years": "7"})
    assert response.status_code == 400
    html = response.content.decode()
    block = html[html.index('id="field-age_years"') : html.index('id="field-immunocompromised"')]
    assert "accepted range" in block
    response = client.post(
        f"/programs/{run.program_id}/calculators/vv_required_blood_flow/",
        {"target_arterial_so2": "92", "vo2_ml_min": "250", "hb_g_dl": "10", "cardiac_output_l_min": "6"},
    )
    html = response.content.decode()
    block = html[html.index('id="field-target_arterial_so2"') : html.index('id="field-vo2_ml_min"')]
    assert response.status_code == 400 and "fraction" in block
    assert "Save into" not in html  # nurses compute; they do not record decisions


def test_it_saves_the_result_into_a_decision(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="candidacy",
        title="VV candidacy",
        made_at=T0,
        content={"modality": "vv"},
    )
    client = client_for(personas["perfusionist"])
    assert f"?decision={decision.pk}" in client.get(f"/decisions/{decision.pk}/").content.decode()
    response = client.post(
        f"/runs/{run.pk}/calculators/resp/", {**RESP, "action": "save", "decision": str(decision.pk)}
    )
    assert response.status_code == 302 and response["Location"] == f"/decisions/{decision.pk}/"
    calc = SavedCalculation.objects.get()
    assert calc.decision == decision and calc.result["points"] == 4 and calc.core_version
    assert "doi" in calc.reference.lower()
    assert "RESP 4 · class II" in client.get(response["Location"]).content.decode()


def test_it_saves_an_empty_score_with_its_reason(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["intensivist"])
    response = client.post(
        f"/runs/{run.pk}/calculators/save/",
        {"action": "not_computed", "not_computed_reason": "haemodynamics not measurable during CPR"},
    )
    assert response.status_code == 302
    calc = SavedCalculation.objects.get()
    assert calc.result is None and calc.not_computed_reason.startswith("haemodynamics")
    assert "not computed" in calc.summary()
    response = client.post(f"/runs/{run.pk}/calculators/save/", {"action": "not_computed"})
    assert response.status_code == 400


def test_it_checks_permissions(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    researcher = client_for(personas["researcher"])
    assert researcher.get(f"/programs/{run.program_id}/calculators/resp/").status_code == 200
    assert researcher.get(f"/runs/{run.pk}/calculators/resp/").status_code == 403
    assert client_for(personas["outsider"]).get(f"/runs/{run.pk}/calculators/resp/").status_code == 404
    assert (
        client_for(personas["perfusionist"]).get(f"/runs/{run.pk}/calculators/astrology/").status_code == 404
    )


def test_a_kpa_program_types_gases_and_hb_in_its_own_units(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    from ecmo_web.surveillance.actions import ingest_samples

    program = run.program
    program.pressure_unit, program.hemoglobin_unit = "kPa", "g/L"
    program.save()
    client = client_for(personas["perfusionist"])
    page = client.get(f"/programs/{program.pk}/calculators/resp/").content.decode()
    assert "PaCO2 (kPa)" in page and "PaCO2 (mmHg)" not in page
    # PaCO2 72 mmHg = 9.6 kPa; typed 9.6 kPa × 7.50062 = 72.006 mmHg: RESP 4 as in mmHg
    response = client.post(
        f"/programs/{program.pk}/calculators/resp/", {**RESP, "paco2_mmhg": "9.6", "action": "compute"}
    )
    assert response.status_code == 200 and "RESP 4" in response.content.decode()
    now = T0 + dt.timedelta(hours=5)
    sample = {"observed_at": now - dt.timedelta(hours=1), "parameter": "hemoglobin_g_dl", "value": 9.4}
    ingest_samples(
        actor_or_system=personas["perfusionist"],
        run=run,
        now=now,
        evaluate=False,
        samples=[{**sample, "source": "lab"}],
    )
    with time_machine.travel(now, tick=False):
        html = client.get(f"/runs/{run.pk}/calculators/vv_required_blood_flow/").content.decode()
    # Hb 9.4 g/dL is offered as 94 g/L, labelled so
    assert "Hb (g/L)" in html and 'value="94"' in html
