"""Browser walk of a V-A run with an Impella through rounds (issue 6 "done when"): the rounds board's perfusion
section shows the run's real circuit data (the demo's telemetry through the surveillance app), the perfusionist
writes the section, a goal is set and ticked off, and the Impella is checked from the card.

- today's board shows attendance with roles and a card for DEMO-0002 (V-A, Impella CP)
- the card's flow, pump speed and post-oxygenator PO2 are the run's latest samples at the summary time, and the
  anticoagulation line is judged against the run's target
- the perfusionist writes the perfusion section with HTMX; it shows the author and role
- a goal is added and ticked off; the Impella check recorded from the device page appears there
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from ecmo_web.rounds.models import RoundsEntry
from ecmo_web.surveillance.queries import latest_values

pytestmark = pytest.mark.browser


def test_it_takes_a_va_impella_run_through_rounds(
    live_server: Any, demo: Any, page: Any, login: Callable[[Any, str], None]
) -> None:
    run = demo.runs["DEMO-0002"]
    login(page, "perfusionist")
    page.get_by_role("link", name="Rounds board").click()
    expect(page.locator("#attendance")).to_contain_text("Program director")
    expect(page.locator("#attendance")).to_contain_text("dietitian")
    card = page.locator(f"#run-{run.pk}")
    expect(card).to_contain_text("V-A")
    expect(card).to_contain_text("Impella CP")

    entry = RoundsEntry.objects.filter(run=run).order_by("-session__date").first()
    assert entry is not None and entry.session.date.isoformat() in page.url
    latest = latest_values(
        run,
        ["blood_flow_l_min", "pump_speed_rpm", "post_oxygenator_po2_mmhg"],
        now=entry.summary_generated_at,
        max_age=None,
    )
    perfusion = card.locator(".perf").first
    expect(perfusion).to_contain_text(f"{latest['blood_flow_l_min'][0]:.2f}")
    expect(perfusion).to_contain_text(f"{latest['pump_speed_rpm'][0]:.0f}")
    expect(perfusion).to_contain_text(f"{latest['post_oxygenator_po2_mmhg'][0]:.0f}")
    expect(perfusion).to_contain_text("Anti-Xa")
    expect(perfusion).to_contain_text("target 0.3–0.7")

    section = card.locator(".section", has_text="Perfusion").first
    section.locator("summary").click()
    section.locator("textarea").fill(
        "ECMO 3.0 L/min at 2800 rpm with the Impella at P3; pulse pressure 28. "
        "Plan: Impella to P2 if pulse pressure ≥ 30."
    )
    section.get_by_role("button", name="Save").click()
    written = card.locator(".section", has_text="Impella to P2")
    expect(written).to_contain_text("Robin Ashdown")
    expect(written).to_contain_text("Perfusionist")

    card.locator("input[name='text']").fill("Impella to P2 if pulse pressure ≥ 30")
    card.get_by_role("button", name="Add goal").click()
    card = page.locator(f"#run-{run.pk}")
    expect(card).to_contain_text("Impella to P2 if pulse pressure ≥ 30")
    card.get_by_role("button", name="Tick off: Impella to P2 if pulse pressure ≥ 30").click()
    expect(page.locator(f"#run-{run.pk} .goal-done")).to_contain_text("Impella to P2")

    page.locator(f"#run-{run.pk}").get_by_role("link", name="Impella CP").click()
    expect(page.get_by_role("heading", name="Impella CP")).to_be_visible()
    page.select_option("#id_position_confirmed", "true")
    page.fill("#id_position_note", "inlet 3.5 cm below the valve (TTE)")
    page.fill("#id_purge_pressure_mmhg", "470")
    page.get_by_role("button", name="Record check").click()
    expect(page.get_by_text("Check recorded.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Purge pressure 470 mmHg")
