"""The labs form (/runs/{id}/labs/new/) in the program's units.

- a program in SI units sees and types gases in kPa, Hb and fibrinogen in g/L, platelets in 10⁹/L, saturations in %
- the results are stored canonical (mmHg, g/dL, mg/dL, 10³/µL, fractions)
- a value outside the plausible range is refused with the range in the program's unit; nothing is stored
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import Sample
from tests.web.conftest import T0
from tests.web.surveil_support import post_form

NOW = T0 + dt.timedelta(hours=2)


def _si(run: EcmoRun) -> None:
    program = run.program
    program.pressure_unit, program.hemoglobin_unit = "kPa", "g/L"
    program.fibrinogen_unit, program.platelet_unit = "g/L", "10⁹/L"
    program.save()


def test_an_si_program_enters_labs_in_its_units_and_they_are_stored_canonical(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _si(run)
    client = client_for(perfusionist)
    url = f"/runs/{run.pk}/labs/new/"
    with time_machine.travel(NOW, tick=False):
        page = client.get(url).content.decode()
        for label in (
            "Post-oxygenator PO2 (kPa)",
            "Haemoglobin (g/L)",
            "Fibrinogen (g/L)",
            "Platelets (10⁹/L)",
            "Post-oxygenator SO2 (%)",
        ):
            assert label in page, label
        assert "(mmHg)" not in page and "(g/dL)" not in page
        response = post_form(
            client,
            url,
            {
                "observed_at": NOW.strftime("%Y-%m-%dT%H:%M"),
                "post_oxygenator_po2_mmhg": "54.9",
                "hemoglobin_g_dl": "94",
                "fibrinogen_mg_dl": "3.1",
                "platelets_10e3_ul": "142",
                "post_oxygenator_so2": "98",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = {s.parameter: s.value for s in Sample.objects.filter(run=run)}
    # 54.9 kPa × 7.50062 = 411.78 mmHg; 94 g/L = 9.4 g/dL; 3.1 g/L = 310 mg/dL; 98 % = 0.98
    assert abs(stored["post_oxygenator_po2_mmhg"] - 411.784) < 1e-3
    assert abs(stored["hemoglobin_g_dl"] - 9.4) < 1e-9 and abs(stored["fibrinogen_mg_dl"] - 310) < 1e-9
    assert stored["platelets_10e3_ul"] == 142 and abs(stored["post_oxygenator_so2"] - 0.98) < 1e-9


def test_it_refuses_an_implausible_value_with_the_range_in_the_local_unit(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _si(run)
    with time_machine.travel(NOW, tick=False):
        response = post_form(
            client_for(perfusionist),
            f"/runs/{run.pk}/labs/new/",
            {"observed_at": NOW.strftime("%Y-%m-%dT%H:%M"), "hemoglobin_g_dl": "300"},
        )
    assert response.status_code == 400
    assert (
        "Haemoglobin (g/L): 300 g/L is outside the accepted range 0 to 250 g/L" in response.content.decode()
    )
    assert not Sample.objects.exists()
