"""Cannula pressure-drop limits in the program's circuit-pressure unit (hazard H15).

A cannula's pressure drop is a circuit pressure: it reads in ``UnitPreferences.circuit_pressure`` (mmHg by default,
kPa where a program says its consoles show kPa), and is stored in mmHg, as the makers' curves and the rules have it.

Spec checklist:
- [x] the perfusion settings page shows and takes the drainage and return limits in kPa in a kPa circuit-pressure
      program (label, value, default and accepted range), storing mmHg: 12 kPa × 7.50062 = 90.0074 mmHg; a limit
      shown and posted back unchanged keeps its stored value exactly (150 mmHg, shown as 20 kPa)
- [x] a limit outside its range is refused with the range in kPa, naming the field; nothing is stored
- [x] circuit selection's verdicts ("pressure drop … ≤ limit …"), its limits line and its "nothing fits" reasons read
      in kPa; the items judged and the proposal are the same as in an mmHg program
- [x] the decision page's catalogue check (requirement and verdict) reads in kPa; the decision's content stays mmHg
- [x] a program with gases in kPa but circuit pressures in mmHg (the UK default), and a US program, read mmHg
"""

from __future__ import annotations

import datetime as dt
from html import unescape
from typing import Any

import pytest
import time_machine

from ecmo_core import units
from ecmo_web.accounts.models import Program
from ecmo_web.decisions.models import Decision
from ecmo_web.perfusion import site
from ecmo_web.perfusion.models import PerfusionSettings
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import CatalogueItem, EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient
from tests.web.perfusion_support import catalogue  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(minutes=30)


def _units(program: Program, *, gases: str, circuit: str) -> None:
    program.pressure_unit, program.circuit_pressure_unit = gases, circuit
    program.save()


@pytest.fixture
def va_run(personas: dict[str, Any], catalogue: dict[str, CatalogueItem]) -> EcmoRun:  # noqa: F811
    # 175 cm, 80 kg, CI 2.4 → 4.8 L/min (tests/web/test_circuit_selection.py)
    return run_actions.start_run(
        actor=personas["perfusionist"],
        program=personas["perfusionist"].memberships.get().program,
        patient_code="TEST-0102",
        sex="female",
        birth_year=1975,
        indication="cardiac",
        mode="va",
        started_at=T0,
        weight_kg=80,
        height_cm=175,
    )


def _settings_url(program: Program) -> str:
    return f"/programs/{program.pk}/perfusion/settings/"


def _field(html: str, key: str) -> str:
    start = html.index(f'id="id_{key}"') - 400
    return html[start : html.index("</div>", html.index(f'id="id_{key}"')) + 600]


def _posted(program: Program, **changes: str) -> dict[str, Any]:
    """Every setting as the page shows it (the pressure-drop limits in the program's unit), with ``changes``."""
    prefs = program.unit_preferences
    values: dict[str, Any] = {
        s.key: units.entry_text(s.parameter, s.default, prefs) if s.parameter else s.default
        for s in site.SETTINGS
    }
    return {**values, "reason": "consoles show kPa", **changes}


def _select(personas: dict[str, Any], run: EcmoRun, **fields: str) -> str:
    data = {
        "title": "Circuit and cannula selection",
        "made_at": "2026-11-20T10:20",
        "k-configuration": "va",
        "k-weight_kg": "80",
        "k-height_cm": "175",
        "k-cardiac_index_l_min_m2": "2.4",
        "k-install_on_run": "",
        **fields,
    }
    with time_machine.travel(NOW, tick=False):
        response = BrowserClient(personas["perfusionist"]).post(f"/runs/{run.pk}/circuit-selection/", data)
    return unescape(response.content.decode())


def test_the_settings_page_takes_the_limits_in_kpa_and_stores_mmhg(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    program = run.program
    _units(program, gases="kPa", circuit="kPa")
    director = BrowserClient(personas["director"])
    html = unescape(director.get(_settings_url(program)).content.decode())
    drainage = _field(html, "drainage_pressure_drop_max_mmhg")
    assert "Drainage cannula pressure drop at most (kPa)" in drainage
    assert 'value="13.33"' in drainage and "default 13.33 kPa" in drainage  # 100 mmHg
    assert 'value="20"' in _field(html, "return_pressure_drop_max_mmhg")  # 150 mmHg = 19.998 kPa
    response = director.post(_settings_url(program), _posted(program, drainage_pressure_drop_max_mmhg="12"))
    assert response.status_code == 302, unescape(response.content.decode())[-3000:]
    values = site.current(program)
    # 12 kPa × 7.50062 = 90.0074 mmHg; the return limit posted back as shown keeps 150 mmHg exactly
    assert values["drainage_pressure_drop_max_mmhg"] == pytest.approx(90.0074, abs=1e-4)
    assert values["return_pressure_drop_max_mmhg"] == 150.0
    assert 'value="12"' in _field(
        unescape(director.get(_settings_url(program)).content.decode()), "drainage_pressure_drop_max_mmhg"
    )


def test_a_limit_out_of_range_is_refused_in_kpa(personas: dict[str, Any], run: EcmoRun) -> None:
    program = run.program
    _units(program, gases="kPa", circuit="kPa")
    # 60 kPa = 450 mmHg, above 400 mmHg; 10–400 mmHg reads 1.34 to 53.32 kPa (rounded inwards)
    response = BrowserClient(personas["director"]).post(
        _settings_url(program), _posted(program, drainage_pressure_drop_max_mmhg="60")
    )
    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert (
        "Drainage cannula pressure drop at most (kPa): 60 kPa is outside the accepted range 1.34 to 53.32 kPa"
        in html
    )
    assert not PerfusionSettings.objects.exists()


def test_circuit_selection_reads_its_verdicts_in_kpa(personas: dict[str, Any], va_run: EcmoRun) -> None:
    program = va_run.program
    in_mmhg = _select(personas, va_run, evaluate="1")
    _units(program, gases="kPa", circuit="kPa")
    html = _select(personas, va_run, evaluate="1")
    # 84 mmHg = 11.199 kPa, 100 mmHg = 13.332 kPa; 205 mmHg = 27.331 kPa, 150 mmHg = 19.998 kPa
    assert "pressure drop 11.2 kPa at 4.8 L/min ≤ limit 13.33 kPa" in html  # 23 Fr drainage
    assert "pressure drop 27.33 kPa at 4.8 L/min > limit 20 kPa" in html  # 17 Fr return fails
    assert "drainage cannula pressure drop at most 13.33 kPa, return at most 20 kPa" in html
    result = html[html.index('id="selection-result"') :]
    assert "mmHg" not in result[: result.index("</section>")]
    # the same items pass and fail, the same proposal
    assert html.count("sel-pass") == in_mmhg.count("sel-pass") and html.count("proposed</span>") == 5
    nothing = _select(personas, va_run, evaluate="1", **{"k-flow_target_l_min": "6.6"})
    assert "no drainage cannula in the catalogue fits" in nothing and "15.47 kPa" in nothing  # 116 mmHg


def test_the_decision_page_reads_the_catalogue_check_in_kpa(
    personas: dict[str, Any], va_run: EcmoRun
) -> None:
    _units(va_run.program, gases="kPa", circuit="kPa")
    assert (
        _select(personas, va_run, record="1", decided_by=str(personas["intensivist"].pk)) == ""
    )  # redirected
    decision = Decision.objects.get(kind="circuit_selection")
    criteria = {c["requirement"] for c in decision.content["catalogue_check"]["criteria"]}
    assert "pressure drop ≤ 100 mmHg" in criteria  # stored canonical
    with time_machine.travel(NOW, tick=False):
        page = unescape(
            BrowserClient(personas["perfusionist"]).get(f"/decisions/{decision.pk}/").content.decode()
        )
    check = page[page.index("Chosen parts against the catalogue checks") :]
    check = check[: check.index("</table>")]
    assert "pressure drop ≤ 13.33 kPa" in check and "pressure drop ≤ 20 kPa" in check
    assert "drainage: pressure drop 11.2 kPa at 4.8 L/min ≤ limit 13.33 kPa" in check
    assert "mmHg" not in check


@pytest.mark.parametrize("gases", ["kPa", "mmHg"])
def test_circuit_pressures_in_mmhg_read_mmhg(personas: dict[str, Any], va_run: EcmoRun, gases: str) -> None:
    program = va_run.program
    _units(program, gases=gases, circuit="mmHg")
    html = unescape(BrowserClient(personas["director"]).get(_settings_url(program)).content.decode())
    drainage = _field(html, "drainage_pressure_drop_max_mmhg")
    assert "Drainage cannula pressure drop at most (mmHg)" in drainage and "default 100 mmHg" in drainage
    assert 'value="100"' in drainage
    html = _select(personas, va_run, evaluate="1")
    assert "pressure drop 84 mmHg at 4.8 L/min ≤ limit 100 mmHg" in html
    assert "drainage cannula pressure drop at most 100 mmHg, return at most 150 mmHg" in html
    assert "kPa" not in html[html.index('id="selection-result"') :]
