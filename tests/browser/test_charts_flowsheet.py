"""Browser: charts you can trust, the flowsheet and the decision criteria tables (issue 11 §5, §9).

Checklist:
- [x] the trends page (from the run page) draws each axis on its fixed range: flow 0–7 L/min, ΔP 0–100 mmHg,
      not autoscaled to the noise; ΔP/Q is its own chart, not on the ΔP axis
- [x] a kPa program's pressure and gas axes are labelled and drawn in kPa; saturations in %; the patient's
      MAP and heart rate beside the circuit
- [x] the flowsheet (from the run page) fits 390 px: the grid scrolls sideways inside its box, the page does not;
      today's sheet opens with the current hour in view
- [x] a decision's criteria table fits 1366 px without sideways scroll and shows the observed values
- [x] screenshots at 1366, 768 and 390 px go to docs/screens/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from ecmo_web.accounts.models import Program
from ecmo_web.decisions.models import Decision
from ecmo_web.demo.seed import SI_DEMO_PROGRAM

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
WIDTHS = ((1366, 768), (768, 1024), (390, 844))


def _no_page_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _shoot(page: Any, name: str, scroll_to: str | None = None, reload: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        if reload:  # a page that lays itself out on load (the flowsheet scrolls to the current hour)
            page.reload()
        page.wait_for_timeout(400)  # charts resize 150 ms after the window does
        if scroll_to:
            page.locator(scroll_to).scroll_into_view_if_needed()
            page.evaluate(f"document.querySelector('{scroll_to}').scrollIntoView()")
        _no_page_overflow(page)
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=False)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_trends_draw_fixed_ranges_and_a_kpa_program_reads_kpa(
    page: Any, demo: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    program = Program.objects.get(name=SI_DEMO_PROGRAM)
    run = program.runs.get(patient__code="DEMO-SI-01")
    program.circuit_pressure_unit = "kPa"  # this site charts the console's pressures in kPa too
    program.save(update_fields=["circuit_pressure_unit"])
    login(page, "si_perfusionist")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.get_by_role("link", name="Trends", exact=True).click()
    flow = page.locator('.sv-chart[data-group="flow"]')
    expect(flow).to_have_attribute("data-scales", "[[0,7],[0,5000]]")  # flow noise ±0.05 L/min: still 0–7
    expect(flow).to_have_attribute("data-axes", "Flow (L/min) 0–7; Pump speed (rpm) 0–5000")
    pressures = page.locator('.sv-chart[data-group="pressures"]')
    expect(pressures).to_have_attribute("data-axes", "Pressure (kPa) -20–55")
    expect(pressures.locator(".u-legend")).to_contain_text("Pre-oxygenator (kPa)")
    expect(page.locator('.sv-chart[data-group="delta_p"]')).to_have_attribute("data-axes", "ΔP (kPa) 0–14")
    expect(page.locator('.sv-chart[data-group="delta_p"] .u-legend')).not_to_contain_text("ΔP/Q")
    expect(page.locator('.sv-chart[data-group="resistance"] .u-legend')).to_contain_text("ΔP/Q (kPa·min/L)")
    expect(page.locator('.sv-chart[data-group="saturations"]')).to_have_attribute(
        "data-axes", "Saturation (%) 40–100"
    )
    vitals = page.locator('.sv-chart[data-group="vitals"]')
    expect(vitals.locator(".u-legend")).to_contain_text("MAP (mmHg)")  # blood pressure stays in mmHg
    expect(vitals.locator(".u-legend")).to_contain_text("Heart rate (/min)")
    expect(page.locator('.sv-chart[data-group="gases"]')).to_have_attribute(
        "data-axes", "PO2 (kPa) 0–80; PCO2 (kPa) 0–12"
    )
    charts = page.locator('#sv-charts .sv-chart:not([data-group="vitals"])').all_inner_texts()
    assert charts and "mmHg" not in " ".join(charts)  # only blood pressure stays in mmHg
    _shoot(page, "trends-kpa", "#sv-marker-list")

    # A program in mmHg: ΔP on its own 0–100 mmHg axis (the 24 h chart used to draw ΔP/Q across it).
    other = page.context.browser.new_context(viewport={"width": 1366, "height": 768})
    mmhg = other.new_page()
    login(mmhg, "perfusionist")
    demo_run = Program.objects.get(name="Demo").runs.get(patient__code="DEMO-0001")
    mmhg.goto(f"{live_server.url}/runs/{demo_run.pk}/trends/")
    delta = mmhg.locator('.sv-chart[data-group="delta_p"]')
    expect(delta).to_have_attribute("data-scales", "[[0,100]]")
    expect(delta).to_have_attribute("data-axes", "ΔP (mmHg) 0–100")
    expect(mmhg.locator('.sv-chart[data-group="flow"]')).to_have_attribute("data-scales", "[[0,7],[0,5000]]")
    _shoot(mmhg, "trends-mmhg", "#sv-marker-list")
    other.close()


def test_the_flowsheet_fits_a_phone_and_a_decisions_criteria_fit_1366_px(
    page: Any, demo: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    run = Program.objects.get(name="Demo").runs.get(patient__code="DEMO-0001")
    login(page, "intensivist")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.get_by_role("link", name="Flowsheet").click()
    expect(page.locator("h1")).to_contain_text("Flowsheet")
    expect(page.locator(".fs-day")).to_contain_text("ECMO day")
    expect(page.locator('tr[data-row="Flow"]').first).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    _no_page_overflow(page)
    grid = page.locator(".fs-wrap")
    assert grid.evaluate("el => el.scrollWidth > el.clientWidth")  # 24 hours scroll inside the grid
    page.reload()  # opened at 390 px: today's sheet scrolls its grid to the current hour
    expect(page.locator("th.fs-now")).to_have_attribute("aria-current", "time")
    # (At the first hours of the day the current hour is already in view and the grid need not scroll.)
    now = page.locator("th.fs-now").bounding_box()
    assert now is not None and now["x"] + now["width"] <= 390
    # The parameter column stays in view while the hours scroll under it (sticky).
    label = page.locator('tbody[data-section^="Hourly check"] th.fs-param').first.bounding_box()
    assert label is not None and 0 <= label["x"] < 60
    _shoot(page, "flowsheet", ".fs-day", reload=True)

    # The decision that put this patient on ECMO: its criteria table fits 1366 px and shows what was observed.
    decision = Decision.objects.get(run__patient__code="DEMO-0001", kind="candidacy")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/decisions/{decision.pk}/")
    criteria = page.locator("#criteria")
    expect(criteria.locator('tr[data-criterion="pf_below_80_over_6h"]')).to_contain_text(
        "P/F 68 mmHg for 7 h"
    )
    expect(criteria).to_contain_text("entered with the decision")
    for table in criteria.locator("table").all():
        assert table.evaluate("el => el.scrollWidth <= el.parentElement.clientWidth")
    _no_page_overflow(page)
    SCREENS.mkdir(parents=True, exist_ok=True)
    criteria.screenshot(path=str(SCREENS / "decision-criteria-1366.png"))
