"""Browser walk (issue 14): a perfusionist starts a new V-A run, selects its circuit and cannulas from the
catalogue, records who decided, and sees the chosen parts appear on the run.

- the start-run form creates the run (80 kg, 175 cm, V-A); the run page links to circuit selection
- "Check the catalogue" shows the flow target (CI 2.4 × BSA 1.97 = 4.8 L/min) and why each item passes or fails
- recording with the surgeon as decider opens the decision; the run page then lists the oxygenator, pump head,
  tubing pack and console in use and the 23 Fr drainage and 19 Fr return cannulas
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect


def test_it_selects_a_circuit_for_a_new_run_and_shows_its_components(
    live_server: Any, demo: Any, page: Any, login: Callable[[Any, str], None]
) -> None:
    login(page, "perfusionist")
    program = demo.program
    page.goto(f"{live_server.url}/programs/{program.pk}/runs/start/")
    page.fill("#id_patient_code", "DEMO-0006")
    page.select_option("#id_sex", "female")
    page.select_option("#id_indication", "cardiac")
    page.select_option("#id_mode", "va")
    page.fill("#id_weight_kg", "80")
    page.fill("#id_height_cm", "175")
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_role("heading", name="DEMO-0006")).to_be_visible()
    expect(page.locator("#perfusion-panel")).to_be_visible()

    page.get_by_role("link", name="Select circuit and cannulas").click()
    expect(page.get_by_role("heading", name="Circuit and cannula selection")).to_be_visible()
    expect(page.locator("#id_k-weight_kg")).to_have_value("80.0")
    page.get_by_role("button", name="Check the catalogue").click()
    result = page.locator("#selection-result")
    expect(result).to_contain_text("Flow target 4.8 L/min")
    expect(result).to_contain_text("pressure drop 149 mmHg at 4.8 L/min ≤ limit 150 mmHg")
    expect(result.locator("tr.sel-fail", has_text="Return 17 Fr")).to_contain_text("205 mmHg")

    surgeon = str(demo.users["surgeon"].pk)
    page.select_option("#id_participant_user_0", surgeon)
    page.select_option("#id_decided_by", surgeon)
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("chosen parts put on the run")

    page.goto(f"{live_server.url}/runs/{demo.program.runs.get(patient__code='DEMO-0006').pk}/")
    components = page.locator("section", has=page.get_by_role("heading", name="Circuit components in use"))
    for text in ("Oxygenator A (PMP 1.8 m²)", "Centrifugal pump head B", "3/8 in tubing pack", "Console C"):
        expect(components).to_contain_text(text)
    cannulas = page.locator("section", has=page.get_by_role("heading", name="Cannulas"))
    expect(cannulas).to_contain_text("23 Fr · 55 cm")
    expect(cannulas).to_contain_text("19 Fr · 18 cm")
