"""Saved calculator results read in the program's units, under clinical titles (hazard H15).

Spec checklist:
- [x] on the decision page a saved result shows its summary, its inputs (clinical names, values with their units)
      and its calculator's clinical title, gases in kPa and Hb in g/L in a kPa + g/L program, never the code name
- [x] a result that is a gas pressure (the P/F ratio calculator) reads in kPa there, and on the calculator page
- [x] the decision form's list of saved results to include reads in the program's units
- [x] stored arguments and results stay canonical, and the API's summary is canonical
- [x] a US program reads mmHg and g/dL as before
"""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine

from ecmo_core import units
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision, SavedCalculation
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(hours=5)

# Typed in a kPa + g/L program: Hb 94 g/L = 9.4 g/dL; post-oxygenator PO2 53.33 kPa × 7.50062 = 400.01 mmHg
VV_FLOW_SI = {
    "target_arterial_so2": "0.88",
    "vo2_ml_min": "250",
    "hb_g_dl": "94",
    "cardiac_output_l_min": "6",
    "recirculation_fraction": "0.15",
    "post_oxygenator_po2_mmhg": "53.33",
}
VV_FLOW_US = {**VV_FLOW_SI, "hb_g_dl": "9.4", "post_oxygenator_po2_mmhg": "400"}
# PaO2 10 kPa = 75.006 mmHg over FiO2 0.5 → P/F 150.01 mmHg = 20.0 kPa
PF_SI = {"pao2_mmhg": "10", "fio2": "0.5"}
PF_US = {"pao2_mmhg": "75", "fio2": "0.5"}


def _si(run: EcmoRun) -> None:
    run.program.pressure_unit, run.program.hemoglobin_unit = "kPa", "g/L"
    run.program.save()


def _decision(personas: dict[str, Any], run: EcmoRun) -> Decision:
    return actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="candidacy",
        title="VV candidacy",
        made_at=T0,
        content={"modality": "vv"},
    )


def _save(personas: dict[str, Any], run: EcmoRun, name: str, data: dict[str, str], decision: str = "") -> Any:
    with time_machine.travel(NOW, tick=False):
        return BrowserClient(personas["perfusionist"]).post(
            f"/runs/{run.pk}/calculators/{name}/", {**data, "action": "save", "decision": decision}
        )


def _get(personas: dict[str, Any], url: str) -> str:
    with time_machine.travel(NOW, tick=False):
        html: str = unescape(BrowserClient(personas["perfusionist"]).get(url).content.decode())
    return html[html.index("<main") :]


def test_the_decision_page_reads_saved_results_in_kpa_and_g_l(personas: dict[str, Any], run: EcmoRun) -> None:
    _si(run)
    decision = _decision(personas, run)
    assert _save(personas, run, "vv_required_blood_flow", VV_FLOW_SI, str(decision.pk)).status_code == 302
    assert _save(personas, run, "pf_ratio_mmhg", PF_SI, str(decision.pk)).status_code == 302
    flow, pf = SavedCalculation.objects.order_by("pk")
    # stored canonical
    assert flow.arguments["hb_g_dl"] == pytest.approx(9.4)
    assert flow.arguments["post_oxygenator_po2_mmhg"] == pytest.approx(53.33 * units.MMHG_PER_KPA)
    assert pf.arguments["pao2_mmhg"] == pytest.approx(10 * units.MMHG_PER_KPA)
    assert pf.result == pytest.approx(150.0123, abs=1e-4)
    page = _get(personas, f"/decisions/{decision.pk}/")
    saved = page[page.index("Inputs and scores used") :]
    assert "From: Target arterial SO2 0.88 · VO2 250 mL/min · Hb 94 g/L · Cardiac output 6 L/min" in saved
    assert "Post-oxygenator PO2 53.33 kPa" in saved
    assert "VV oxygenation: blood flow for a target SaO2 · ecmo-steward" in saved
    assert "P/F ratio (kPa): 20</h3>" in saved and "From: PaO2 10 kPa · FiO2 0.5" in saved
    assert "vv_required_blood_flow" not in page and "pf_ratio_mmhg" not in page
    assert "mmHg" not in saved and "g/dL" not in saved
    # the API stays canonical
    assert pf.summary() == "P/F ratio (mmHg): 150.012"


def test_the_decision_form_lists_saved_results_in_the_program_units(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    assert _save(personas, run, "pf_ratio_mmhg", PF_SI).status_code == 302
    form = _get(personas, f"/runs/{run.pk}/decisions/new/candidacy/")
    block = form[form.index("Saved calculator results to include") :]
    assert "P/F ratio (kPa): 20" in block[:2000] and "mmHg" not in block[: block.index("</div>")]


def test_the_calculator_page_shows_a_gas_result_in_kpa(personas: dict[str, Any], run: EcmoRun) -> None:
    _si(run)
    with time_machine.travel(NOW, tick=False):
        response = BrowserClient(personas["perfusionist"]).get(
            f"/runs/{run.pk}/calculators/pf_ratio_mmhg/?{urlencode({**PF_SI, 'action': 'compute'})}"
        )
    html = unescape(response.content.decode())
    assert "<h1>P/F ratio (kPa)" in html and "PaO2 (kPa)" in html
    assert '<p class="points">20</p>' in html and "P/F ratio (kPa): 20" in html
    lists = _get(personas, f"/runs/{run.pk}/calculators/")
    assert "P/F ratio (kPa)" in lists and "P/F ratio (mmHg)" not in lists


def test_a_score_names_its_items_in_clinical_words(personas: dict[str, Any], run: EcmoRun) -> None:
    with time_machine.travel(NOW, tick=False):
        response = BrowserClient(personas["perfusionist"]).get(
            f"/programs/{run.program_id}/calculators/murray_lung_injury/?"
            + urlencode({"chest_xray_quadrants": "3", "pf_ratio_mmhg": "150", "action": "compute"})
        )
    html = unescape(response.content.decode())
    table = html[html.index("<th>Item</th>") : html.index("</table>", html.index("<th>Item</th>"))]
    assert "<td>P/F ratio</td>" in table and "<td>Chest xray quadrants</td>" in table
    assert "pf_ratio_mmhg" not in table


def test_a_us_program_reads_mmhg_and_g_dl(personas: dict[str, Any], run: EcmoRun) -> None:
    decision = _decision(personas, run)
    assert _save(personas, run, "vv_required_blood_flow", VV_FLOW_US, str(decision.pk)).status_code == 302
    assert _save(personas, run, "pf_ratio_mmhg", PF_US, str(decision.pk)).status_code == 302
    flow, pf = SavedCalculation.objects.order_by("pk")
    assert pf.arguments["pao2_mmhg"] == 75 and pf.result == 150
    assert flow.arguments["hb_g_dl"] == 9.4 and flow.arguments["post_oxygenator_po2_mmhg"] == 400
    page = _get(personas, f"/decisions/{decision.pk}/")
    saved = page[page.index("Inputs and scores used") :]
    assert "Hb 9.4 g/dL" in saved and "Post-oxygenator PO2 400 mmHg" in saved
    assert "P/F ratio (mmHg): 150</h3>" in saved and "From: PaO2 75 mmHg · FiO2 0.5" in saved
    assert "kPa" not in saved and "g/L" not in saved
