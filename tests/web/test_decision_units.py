"""Decision forms in the program's units (issue 11 item 4: local units per program, stored canonical).

Spec checklist:
- [x] a kPa + g/L program types gases in kPa and Hb in g/L on the flow-target, candidacy, configuration and
      circuit-selection forms; the labels say so ("P/F ratio (kPa)", "Haemoglobin (g/L)"); blood pressure stays mmHg
- [x] the decision's content is stored canonical (10 kPa → 75.006 mmHg, 90 g/L → 9.0 g/dL), the targets it sets
      too, and its evaluations equal those of the same canonical values in a US program
- [x] a value outside a field's clinical range is refused with the range in the program's unit, naming the field;
      nothing is stored
- [x] a telemetry value prefilled in local units and posted back unchanged keeps its exact stored value
- [x] the decision page, the criteria tables and the program's criteria page read in the program's units
- [x] weaning-trial observations are typed in kPa and stored in mmHg
- [x] a US program is unchanged; the API stays canonical whatever the program's units
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine

from ecmo_core import units
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision, TrialObservation
from ecmo_web.runs.models import EcmoRun, RunTarget
from ecmo_web.surveillance.actions import ingest_samples
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(hours=5)
KPA = units.MMHG_PER_KPA  # 7.50062 mmHg per kPa


def _si(run: EcmoRun) -> None:
    program = run.program
    program.pressure_unit, program.hemoglobin_unit = "kPa", "g/L"
    program.fibrinogen_unit, program.platelet_unit = "g/L", "10⁹/L"
    program.save()


def _us(run: EcmoRun) -> None:
    program = run.program
    program.pressure_unit, program.hemoglobin_unit = "mmHg", "g/dL"
    program.fibrinogen_unit, program.platelet_unit = "mg/dL", "10³/µL"
    program.save()


def _record(personas: dict[str, Any], run: EcmoRun, kind: str, fields: dict[str, Any], **common: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return BrowserClient(personas["intensivist"]).post(
            f"/runs/{run.pk}/decisions/new/{kind}/",
            {
                "title": f"{kind} in local units",
                "made_at": "2026-11-20T12:00",
                "participant_user_0": str(personas["perfusionist"].pk),
                **common,
                **{f"k-{name}": value for name, value in fields.items()},
            },
        )


def _page(personas: dict[str, Any], run: EcmoRun, kind: str) -> str:
    with time_machine.travel(NOW, tick=False):
        response = BrowserClient(personas["perfusionist"]).get(f"/runs/{run.pk}/decisions/new/{kind}/")
    assert response.status_code == 200
    html: str = response.content.decode()
    return html[html.index("<main") :]


FLOW = {
    "target_arterial_so2": "0.88",
    "vo2_ml_min": "250",
    "cardiac_output_l_min": "6",
    "recirculation_fraction": "0.15",
}


def test_a_kpa_program_sets_flow_targets_in_kpa_and_g_l_stored_canonical(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    page = _page(personas, run, "flow_target")
    for label in (
        "Haemoglobin (g/L)",
        "Post-oxygenator PO2 (kPa)",
        "Post-oxygenator PO2 low (kPa)",
        "Post-oxygenator PO2 high (kPa)",
        "about 20 kPa to avoid hyperoxaemia",
        "53.3–66.7 kPa",
    ):
        assert label in page, label
    assert "g/dL" not in page and "mmHg" not in page
    local = {"hb_g_dl": "90", "post_oxygenator_po2_mmhg": "53.3"}
    band = {"post_oxygenator_po2_low_mmhg": "10", "post_oxygenator_po2_high_mmhg": "40"}
    response = _record(
        personas, run, "flow_target", {**FLOW, **local, **band}, decided_by=str(personas["intensivist"].pk)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    si = Decision.objects.get()
    assert si.content["hb_g_dl"] == pytest.approx(9.0, abs=1e-12)  # 90 g/L
    assert si.content["post_oxygenator_po2_mmhg"] == pytest.approx(53.3 * KPA)  # 399.78 mmHg
    assert si.content["post_oxygenator_po2_low_mmhg"] == pytest.approx(75.0062, abs=1e-4)  # 10 kPa
    assert si.content["post_oxygenator_po2_high_mmhg"] == pytest.approx(300.0246, abs=1e-4)  # 40 kPa
    target = RunTarget.objects.get(run=run, parameter="post_oxygenator_po2_mmhg")
    assert (target.low, target.high) == pytest.approx((75.0062, 300.0246), abs=1e-4)  # the rules read mmHg
    calculation = si.calculations.get()
    assert calculation.arguments["hb_g_dl"] == pytest.approx(9.0, abs=1e-12)

    # The same canonical values typed in a US program give the same model and flow target.
    _us(run)
    canonical = {name: repr(si.content[name]) for name in (*local, *band)}
    response = _record(personas, run, "flow_target", {**FLOW, **canonical})
    assert response.status_code == 302, response.content.decode()[:3000]
    us = Decision.objects.exclude(pk=si.pk).get()
    for name in ("model", "blood_flow_target_l_min", *local, *band):
        assert us.content[name] == si.content[name], name

    # Shown back in the program's units.
    _si(run)
    html = BrowserClient(personas["perfusionist"]).get(f"/decisions/{si.pk}/").content.decode()
    assert "<dt>Haemoglobin (g/L)</dt><dd>90</dd>" in html
    assert "<dt>Post-oxygenator PO2 low (kPa)</dt><dd>10</dd>" in html
    assert "(g/dL)" not in html


def test_a_kpa_program_judges_candidacy_typed_in_kpa_as_a_us_program_does(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    page = _page(personas, run, "candidacy")
    for label in ("P/F ratio (kPa)", "PaCO2 (kPa)", "EtCO2 on CPR (kPa)", "PaO2 on CPR (kPa)"):
        assert label in page, label
    assert "P/F &lt; 10.67 kPa for &gt; 6 h" in page and "mmHg" not in page
    typed = {"pf_ratio_mmhg": "10", "paco2_mmhg": "8.5"}
    fields = {
        "modality": "vv",
        "indications": ["eolia_pf_80_6h"],
        "pf_hours": "7",
        "arterial_ph": "7.2",
        "hypercapnia_hours": "7",
    }
    response = _record(personas, run, "candidacy", {**fields, **typed})
    assert response.status_code == 302, response.content.decode()[:3000]
    si = Decision.objects.get()
    assert si.content["pf_ratio_mmhg"] == pytest.approx(75.0062, abs=1e-4)  # 10 kPa
    assert si.content["paco2_mmhg"] == pytest.approx(63.7553, abs=1e-4)  # 8.5 kPa
    assert si.content["eolia"]["status"] == "met"

    _us(run)
    response = _record(personas, run, "candidacy", {**fields, **{n: repr(si.content[n]) for n in typed}})
    assert response.status_code == 302, response.content.decode()[:3000]
    us = Decision.objects.exclude(pk=si.pk).get()
    assert us.content["eolia"] == si.content["eolia"]
    assert [us.content[n] for n in typed] == [si.content[n] for n in typed]

    _si(run)
    html = BrowserClient(personas["perfusionist"]).get(f"/decisions/{si.pk}/").content.decode()
    assert "<dt>P/F ratio (kPa)</dt><dd>10</dd>" in html and "<dt>PaCO2 (kPa)</dt><dd>8.5</dd>" in html
    criteria = html[html.index('id="criteria"') : html.index("</section>", html.index('id="criteria"'))]
    assert "P/F 10.0 kPa for 7 h" in criteria and "PaCO2 8.5 kPa for 7 h" in criteria
    assert "&lt; 10.67 kPa" in criteria and "≥ 8 kPa" in criteria and "mmHg" not in criteria


def test_it_refuses_a_value_outside_the_range_in_the_programs_unit(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    # P/F 10–700 mmHg = 1.34–93.32 kPa; Hb 3–25 g/dL = 30–250 g/L (a g/dL number typed by mistake is refused)
    response = _record(personas, run, "candidacy", {"modality": "vv", "pf_ratio_mmhg": "120"})
    assert response.status_code == 400
    assert (
        "P/F ratio (kPa): 120 kPa is outside the accepted range 1.34 to 93.32 kPa"
        in response.content.decode()
    )
    response = _record(personas, run, "flow_target", {**FLOW, "hb_g_dl": "9"})
    assert response.status_code == 400
    assert "Haemoglobin (g/L): 9 g/L is outside the accepted range 30 to 250 g/L" in response.content.decode()
    response = _record(
        personas,
        run,
        "flow_target",
        {
            **FLOW,
            "hb_g_dl": "90",
            "post_oxygenator_po2_low_mmhg": "30",
            "post_oxygenator_po2_high_mmhg": "20",
        },
    )
    assert response.status_code == 400
    assert "must be at least the low value 30 kPa" in response.content.decode()
    assert not Decision.objects.exists()


def test_prefilled_telemetry_shows_in_local_units_and_keeps_its_exact_value(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    ingest_samples(
        actor_or_system=personas["perfusionist"],
        run=run,
        now=NOW,
        evaluate=False,
        samples=[
            {"observed_at": NOW - dt.timedelta(minutes=40), "parameter": p, "value": v, "source": "lab"}
            for p, v in (("hemoglobin_g_dl", 9.37), ("post_oxygenator_po2_mmhg", 412.3))
        ],
    )
    page = _page(personas, run, "flow_target")
    assert (
        'name="k-hb_g_dl" value="93.7"' in page and 'name="k-post_oxygenator_po2_mmhg" value="54.97"' in page
    )
    response = _record(
        personas,
        run,
        "flow_target",
        {**FLOW, "hb_g_dl": "93.7", "post_oxygenator_po2_mmhg": "54.97"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    content = Decision.objects.get().content
    assert content["hb_g_dl"] == 9.37 and content["post_oxygenator_po2_mmhg"] == 412.3


def test_blood_pressure_stays_mmhg_and_other_forms_follow_the_units(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    page = _page(personas, run, "modality")
    assert "Right radial PaO2 (kPa)" in page and "Pulse pressure (mmHg)" in page
    with time_machine.travel(NOW, tick=False):
        page = (
            BrowserClient(personas["perfusionist"]).get(f"/runs/{run.pk}/circuit-selection/").content.decode()
        )
    assert "Haemoglobin (g/L)" in page and "(g/dL)" not in page
    html = (
        BrowserClient(personas["perfusionist"])
        .get(f"/programs/{run.program.pk}/pathway-criteria/")
        .content.decode()
    )
    assert "P/F ratio, severe (kPa)" in html and "&lt; 6.67 kPa" in html  # EOLIA 50 mmHg
    assert "≥ 65 mmHg" in html and "Pulse pressure" in html  # MAP stays mmHg


def test_weaning_trial_observations_are_typed_in_kpa_and_stored_in_mmhg(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _si(run)
    start = T0 + dt.timedelta(days=2)
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="Sweep-off trial",
        made_at=start,
        content={"trial_type": "vv_sweep_off", "started_at": start.isoformat()},
        decided_by=personas["intensivist"],
        participants=[{"user": personas["perfusionist"].pk}],
    )
    client = BrowserClient(personas["perfusionist"])
    page = client.get(f"/decisions/{decision.pk}/trial/").content.decode()
    assert "PaO2 (kPa)" in page and "PaCO2 (kPa)" in page and "&gt; 8 kPa" in page  # PaO2 > 60 mmHg
    response = client.post(
        f"/decisions/{decision.pk}/trial/observe/",
        {"at": "2026-11-22T10:00", "pao2_mmhg": "10.9", "paco2_mmhg": "5.7", "sao2": "0.95"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    values = TrialObservation.objects.get().values
    assert values["pao2_mmhg"] == pytest.approx(10.9 * KPA) and values["paco2_mmhg"] == pytest.approx(
        5.7 * KPA
    )
    page = client.get(f"/decisions/{decision.pk}/trial/").content.decode()
    assert "PaO2 kPa" in page and ">10.9<" in page
    response = client.post(
        f"/decisions/{decision.pk}/trial/observe/", {"at": "2026-11-22T10:30", "pao2_mmhg": "95"}
    )
    assert response.status_code == 400
    assert "95 kPa is outside the accepted range 1.34 to 93.32 kPa" in response.content.decode()


def test_a_us_program_is_unchanged(personas: dict[str, Any], run: EcmoRun) -> None:
    page = _page(personas, run, "candidacy")
    assert "P/F ratio (mmHg)" in page and "P/F &lt; 80 mmHg for &gt; 6 h" in page and "kPa" not in page
    assert "Haemoglobin (g/dL)" in _page(personas, run, "flow_target")
    response = _record(personas, run, "candidacy", {"modality": "vv", "pf_ratio_mmhg": "68", "pf_hours": "7"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Decision.objects.get().content["pf_ratio_mmhg"] == 68.0
    response = _record(personas, run, "candidacy", {"modality": "vv", "pf_ratio_mmhg": "5"})
    assert (
        "P/F ratio (mmHg): 5 mmHg is outside the accepted range 10 to 700 mmHg" in response.content.decode()
    )


def test_the_api_stays_canonical_in_a_kpa_program(personas: dict[str, Any], run: EcmoRun) -> None:
    from tests.web.test_decisions_api import TokenClient

    _si(run)
    client = TokenClient(personas["intensivist"])
    body = {"kind": "candidacy", "title": "API", "made_at": "2026-11-20T12:00:00Z"}
    ok = client.post(
        f"/api/v1/runs/{run.pk}/decisions",
        json.dumps({**body, "content": {"modality": "vv", "pf_ratio_mmhg": 75, "paco2_mmhg": 63}}),
        content_type="application/json",
    )
    assert ok.status_code in (200, 201), ok.content.decode()
    assert Decision.objects.get().content["pf_ratio_mmhg"] == 75  # mmHg, as the name says
    bad = client.post(
        f"/api/v1/runs/{run.pk}/decisions",
        json.dumps({**body, "content": {"modality": "vv", "pf_ratio_mmhg": 750}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "750 mmHg is outside the accepted range 10 to 700 mmHg" in bad.content.decode()
    assert "content.pf_ratio_mmhg" in bad.content.decode()
