"""The pathway criteria page takes gas criteria in the program's gas unit (hazard H15: a value in the wrong unit).

Spec checklist:
- [x] in a kPa program, a gas criterion's value typed on the page (P/F, PaO2, PaCO2, EtCO2 …) is read in kPa and
      stored canonical in mmHg: 10.67 kPa for pf_mmhg → 10.67 × 7.50062 = 80.0316 mmHg (1 kPa = 1000 / 133.322387415
      = 7.5006158 mmHg, so 80.031570 mmHg); its judged results equal those of 80.03 mmHg typed in a US program
- [x] "unit": "mmHg" on a gas criterion types mmHg explicitly; another unit is refused naming the criterion
- [x] the page states the unit beside the box and in its example, and shows the settings in force (and the history)
      as the box takes them, in kPa with the unit said; the tables read "< 10.67 kPa"
- [x] a value outside the criterion's range is refused naming the key and the range in the unit typed (kPa), and
      nothing is stored; a fraction typed as a percentage and a unit other than the criterion's are refused too
- [x] blood pressure criteria stay mmHg in a kPa program; a US program types and stores mmHg as before
- [x] the action (``set_criteria``, the Python interface) stays canonical and refuses a unit other than the
      criterion's own ({"value": 8, "unit": "kPa"} on PaO2 would have been judged as 8 mmHg)
- [x] every mmHg criterion of every set is either a gas criterion (converted) or blood pressure (always mmHg)
"""

from __future__ import annotations

import dataclasses
import json
from html import unescape
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_core import pathways
from ecmo_web.accounts.models import Program
from ecmo_web.decisions import actions, criteria_words
from ecmo_web.decisions.criteria import DEFAULTS, criteria_for
from ecmo_web.decisions.models import PathwayCriteria
from ecmo_web.runs.models import EcmoRun
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

BLOOD_PRESSURE = {"mean_arterial_pressure_mmhg", "pulse_pressure_mmhg"}


def _kpa(program: Program) -> None:
    program.pressure_unit, program.hemoglobin_unit = "kPa", "g/L"
    program.save()


def _url(program: Program) -> str:
    return f"/programs/{program.pk}/pathway-criteria/"


def _post(user: Any, program: Program, criteria_set: str, overrides: dict[str, Any]) -> Any:
    return BrowserClient(user).post(
        _url(program),
        {"criteria_set": criteria_set, "overrides": json.dumps(overrides), "reason": "local protocol"},
    )


def _page(user: Any, program: Program) -> str:
    """The page's main part, HTML entities read as the browser shows them."""
    html: str = unescape(BrowserClient(user).get(_url(program)).content.decode())
    return html[html.index("<main") :]


def _judged(criteria: pathways.VVEntryCriteria, pf: float) -> str:
    return pathways.vv_entry_criteria(pf_ratio_mmhg=pf, pf_hours=7, criteria=criteria).criteria[1].status


def test_a_kpa_program_types_a_gas_criterion_in_kpa_and_stores_mmhg(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    program = run.program
    _kpa(program)
    response = _post(personas["director"], program, "vv_entry", {"pf_mmhg": {"op": "<", "value": 10.67}})
    assert response.status_code == 302, response.content.decode()[-3000:]
    stored = PathwayCriteria.objects.get().overrides["pf_mmhg"]
    # 10.67 kPa × 7.50062 mmHg/kPa = 80.0316 mmHg (by hand; exactly 10.67 × 1000 / 133.322387415 = 80.031570…)
    assert stored["op"] == "<" and set(stored) == {"op", "value"}
    assert stored["value"] == pytest.approx(80.0316, abs=1e-4)
    assert stored["value"] == pytest.approx(80.031570, abs=1e-6)
    in_kpa = criteria_for(program, "vv_entry")
    assert in_kpa.pf_mmhg.value == pytest.approx(80.0316, abs=1e-4) and in_kpa.pf_mmhg.unit == "mmHg"

    # The same criterion typed as 80.03 mmHg in a US program judges alike (P/F 80.03–80.0316 aside: 0.002 mmHg)
    program.pressure_unit, program.hemoglobin_unit = "mmHg", "g/dL"
    program.save()
    response = _post(personas["director"], program, "vv_entry", {"pf_mmhg": {"op": "<", "value": 80.03}})
    assert response.status_code == 302
    assert PathwayCriteria.objects.order_by("-pk").first().overrides["pf_mmhg"]["value"] == 80.03  # type: ignore[union-attr]
    in_mmhg = criteria_for(program, "vv_entry")
    for pf in (60.0, 79.9, 80.0, 80.02, 80.04, 80.1, 120.0):
        assert _judged(in_kpa, pf) == _judged(in_mmhg, pf), pf
    assert _judged(in_kpa, 80.02) == "met" and _judged(in_kpa, 80.04) == "not_met"


def test_the_page_states_the_gas_unit_and_shows_settings_as_typed(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    program = run.program
    _kpa(program)
    _post(
        personas["director"], program, "vv_entry", {"pf_mmhg": 10.67, "paco2_mmhg": {"op": ">=", "value": 8}}
    )
    html = _page(personas["director"], program)
    assert "Overrides (JSON; gases in kPa)" in html
    assert """{"pf_mmhg": {"op": "<", "value": 10.67}}""" in html  # example
    assert (
        "typed in <strong>kPa</strong>" in html and "Blood pressure (MAP, pulse pressure) is in mmHg" in html
    )
    table = html[html.index("<h2>VV entry criteria (EOLIA)") :]
    table = table[: table.index("</section>")]
    assert "< 10.67 kPa" in table and "≥ 8 kPa" in table  # P/F 80.03, PaCO2 60.005 mmHg
    typed = json.dumps(
        {"pf_mmhg": {"value": 10.67, "unit": "kPa"}, "paco2_mmhg": {"op": ">=", "value": 8, "unit": "kPa"}}
    )
    assert f"As typed in the box below (gases in kPa): <code>{typed}</code>" in table
    history = html[html.index("<h2>History</h2>") :]
    assert typed in history and "80.0" not in history
    # The reader (a perfusionist) sees the thresholds in kPa, not the box
    reader = _page(personas["perfusionist"], program)
    assert "< 10.67 kPa" in reader and "As typed in the box" not in reader


def test_unit_mmhg_types_mmhg_explicitly_and_another_unit_is_refused(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    program = run.program
    _kpa(program)
    response = _post(
        personas["director"], program, "vv_entry", {"pf_mmhg": {"op": "<", "value": 80, "unit": "mmHg"}}
    )
    assert response.status_code == 302
    assert PathwayCriteria.objects.get().overrides["pf_mmhg"] == {"op": "<", "value": 80.0, "unit": "mmHg"}
    response = _post(
        personas["director"], program, "vv_entry", {"pf_mmhg": {"op": "<", "value": 10.67, "unit": "bar"}}
    )
    assert response.status_code == 400
    text = unescape(response.content.decode())
    assert "P/F ratio (kPa), pf_mmhg: is a gas pressure: give its value in kPa" in text
    assert PathwayCriteria.objects.count() == 1


@pytest.mark.parametrize(
    ("criteria_set", "overrides", "says"),
    [
        # 100 kPa = 750 mmHg, above the P/F range 10–700 mmHg (1.34 to 93.32 kPa, rounded inwards)
        (
            "vv_entry",
            {"pf_mmhg": 100},
            "P/F ratio (kPa), pf_mmhg: 100 kPa is outside the accepted range 1.34 to 93.32 kPa",
        ),
        (
            "vv_entry",
            {"pf_mmhg": {"op": "<", "value": 1}},
            "1 kPa is outside the accepted range 1.34 to 93.32 kPa",
        ),
        # a PaCO2 rise of 8 typed meaning mmHg: 8 kPa = 60 mmHg, above the range 0–40 mmHg
        (
            "vv_sweep_off",
            {"paco2_rise_mmhg": 8},
            "PaCO2 rise (kPa), paco2_rise_mmhg: 8 kPa is outside the accepted range 0 to 5.33 kPa",
        ),
        ("ecpr", {"exclusion_etco2_mmhg": 25}, "25 kPa is outside the accepted range 0 to 19.99 kPa"),
        ("vv_sweep_off", {"sao2": 90}, "SaO2, sao2: 90 is not a fraction"),
        (
            "va_flow_reduction",
            {"mean_arterial_pressure_mmhg": {"op": ">=", "value": 8.7, "unit": "kPa"}},
            'judged in mmHg: leave "unit" out',
        ),
        ("va_flow_reduction", {"mean_arterial_pressure_mmhg": 5}, "[10, 200] mmHg"),
    ],
)
def test_it_refuses_a_value_out_of_range_naming_the_key_and_the_range_in_the_unit_typed(
    personas: dict[str, Any], run: EcmoRun, criteria_set: str, overrides: dict[str, Any], says: str
) -> None:
    _kpa(run.program)
    response = _post(personas["director"], run.program, criteria_set, overrides)
    text = unescape(response.content.decode())
    assert response.status_code == 400 and says in text, text[text.index('role="alert"') :][:400]
    assert not PathwayCriteria.objects.exists()
    assert f">{json.dumps(overrides)}</textarea>" in text  # what was typed is kept in the box


def test_blood_pressure_stays_mmhg_in_a_kpa_program(personas: dict[str, Any], run: EcmoRun) -> None:
    _kpa(run.program)
    response = _post(
        personas["director"], run.program, "va_flow_reduction", {"mean_arterial_pressure_mmhg": 70}
    )
    assert response.status_code == 302
    assert PathwayCriteria.objects.get().overrides == {"mean_arterial_pressure_mmhg": 70}
    assert "≥ 70 mmHg" in _page(personas["perfusionist"], run.program)


def test_a_us_program_types_and_stores_mmhg(personas: dict[str, Any], run: EcmoRun) -> None:
    program = run.program
    response = _post(personas["director"], program, "vv_entry", {"pf_mmhg": {"op": "<", "value": 80}})
    assert response.status_code == 302
    assert PathwayCriteria.objects.get().overrides == {"pf_mmhg": {"op": "<", "value": 80.0}}
    html = _page(personas["director"], program)
    assert "Overrides (JSON; gases in mmHg)" in html and "kPa" not in html
    assert """{"pf_mmhg": {"op": "<", "value": 80}}""" in html
    assert "< 80 mmHg" in html
    response = _post(personas["director"], program, "vv_entry", {"pf_mmhg": 9})
    assert response.status_code == 400
    assert "pf_mmhg: 9 mmHg is outside the accepted range 10 to 700 mmHg" in response.content.decode()


def test_the_action_stays_canonical_and_refuses_another_unit(personas: dict[str, Any], run: EcmoRun) -> None:
    _kpa(run.program)  # the program's units never change what the action takes
    row = actions.set_criteria(
        actor=personas["director"],
        program=run.program,
        criteria_set="vv_entry",
        overrides={"pf_mmhg": 80},
        reason="EOLIA",
    )
    assert row.overrides == {"pf_mmhg": 80} and criteria_for(run.program, "vv_entry").pf_mmhg.value == 80
    with pytest.raises(ValidationError) as err:
        actions.set_criteria(
            actor=personas["director"],
            program=run.program,
            criteria_set="vv_sweep_off",
            overrides={"pao2_mmhg": {"op": ">", "value": 8, "unit": "kPa"}},
            reason="x",
        )
    assert "judged in mmHg" in err.value.message_dict["overrides.pao2_mmhg"][0]
    with pytest.raises(ValidationError) as err:
        actions.set_criteria(
            actor=personas["director"],
            program=run.program,
            criteria_set="vv_entry",
            overrides={"pf_mmhg": 5},
            reason="x",
        )
    assert "5 mmHg is outside the accepted range" in err.value.message_dict["overrides.pf_mmhg"][0]
    assert "[10, 700] mmHg" in err.value.message_dict["overrides.pf_mmhg"][0]
    assert PathwayCriteria.objects.count() == 1


def test_every_mmhg_criterion_is_a_gas_or_blood_pressure() -> None:
    for criteria in DEFAULTS.values():
        for f in dataclasses.fields(criteria):
            spec = pathways.SETTING_RANGES.get(f.name)
            if spec is not None and spec[2] == "mmHg":
                assert (f.name in criteria_words.GAS_KEYS) != (f.name in BLOOD_PRESSURE), f.name
