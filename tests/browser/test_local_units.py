"""Browser: a program in kPa reads and types kPa (issue 11 item 4, "Done when").

Checklist:
- [x] the run page's circuit panel shows circuit pressures and gases in kPa, MAP in mmHg
- [x] the hourly check form labels pressures in kPa; a value typed in kPa is stored in mmHg (canonical) and the
      check history shows it back in kPa
- [x] the rounds board's perfusion section and the printable handover show gases and ΔP in kPa (and the ΔP
      rule's mode in words, not "(delta_p)")
- [x] screenshots of the check form and the perfusion section in kPa go to docs/screens/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from ecmo_web.accounts.models import Program
from ecmo_web.demo.seed import SI_DEMO_PROGRAM
from ecmo_web.surveillance.models import CircuitCheck

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


def test_a_kpa_program_shows_and_takes_kpa_on_the_run_page_check_form_and_rounds(
    page: Any, demo: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    program = Program.objects.get(name=SI_DEMO_PROGRAM)
    program.circuit_pressure_unit = "kPa"  # this site charts the console's pressures in kPa too
    program.save()
    run = program.runs.get(patient__code="DEMO-SI-01")
    login(page, "si_perfusionist")

    page.goto(f"{live_server.url}/runs/{run.pk}/")
    circuit = page.locator("#circuit-now")
    expect(circuit.locator('[data-parameter="pre_oxygenator_pressure_mmhg"] .bs-value')).to_contain_text(
        "kPa"
    )
    expect(circuit.locator('[data-parameter="arterial_po2_mmhg"] .bs-value')).to_contain_text("kPa")
    expect(circuit.locator('[data-parameter="mean_arterial_pressure_mmhg"] .bs-value')).to_contain_text(
        "mmHg"
    )

    page.goto(f"{live_server.url}/runs/{run.pk}/checks/new/")
    expect(page.get_by_label("Pre-oxygenator pressure (kPa)")).to_be_visible()
    expect(page.get_by_label("Access (pre-pump) pressure (kPa)")).to_be_visible()
    expect(page.get_by_label("FdO2 (%)")).to_be_visible()
    for code, value in (
        ("pump_speed_rpm", "3350"),
        ("blood_flow_l_min", "4.2"),
        ("access_pressure_mmhg", "-7.3"),
        ("pre_oxygenator_pressure_mmhg", "33"),
        ("post_oxygenator_pressure_mmhg", "30"),
        ("sweep_gas_l_min", "3.5"),
        ("fdo2", "70"),
    ):
        page.locator(f"#id_{code}").fill(value)
    expect(page.locator("#sv-dp")).to_have_text("3 kPa")  # 33 − 30, worked out in the program's unit
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "check-form-kpa-1400.png"), full_page=False)
    page.get_by_role("button", name="Record check").click()
    page.wait_for_url(f"{live_server.url}/runs/{run.pk}/")
    check = CircuitCheck.objects.get(run=run)
    # stored canonical: 33 kPa × 7.50062 = 247.520 mmHg; 30 kPa = 225.019 mmHg; FdO2 70 % = 0.7
    assert abs(check.pre_oxygenator_pressure_mmhg - 247.520) < 1e-2
    assert abs(check.post_oxygenator_pressure_mmhg - 225.019) < 1e-2
    assert check.fdo2 == 0.7
    page.goto(f"{live_server.url}/runs/{run.pk}/checks/")
    history = page.locator("table.sv-checks")
    expect(history.locator("thead")).to_contain_text("Pre-oxy")
    expect(history.locator("thead")).to_contain_text("(kPa)")
    expect(history.locator("tbody tr").first).to_contain_text("33.0")
    assert "mmHg" not in history.inner_text()

    page.goto(f"{live_server.url}/programs/{program.pk}/rounds/")
    page.get_by_role("button", name="Start rounds").click()
    section = page.locator(f"#perfusion-{run.pk}")
    # post-oxygenator PO2 412 mmHg / 7.50062 = 54.9 kPa (the demo's morning gas)
    expect(section).to_contain_text("54.9")
    expect(section).to_contain_text("kPa")
    assert "mmHg" not in section.inner_text()
    assert "delta_p" not in section.inner_text()  # the ΔP rule's mode reads "ΔP" or "ΔP/flow", not its code
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "rounds-perfusion-kpa-1400.png"), full_page=False)
    page.get_by_role("link", name="Printable handover").click()
    handover = page.locator(f"#perfusion-{run.pk}")
    expect(handover).to_contain_text("54.9")
    assert "mmHg" not in handover.inner_text()
