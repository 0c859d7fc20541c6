"""Quality, end to end in Chromium on the demo program (issue 12, "Done when").

- a perfusionist opens Run 3's alert history, presses "Record as adverse event" on the air alert, finds the form
  filled from the alert (air in circuit, the alert, what was done), saves it, and sees the event page;
- the quality officer opens the M&M case from the list, sees the timeline and the trend charts, and gets the
  case packet as a PDF from the page's link;
- the quality officer opens the Quality page and sees the KPI charts drawn (at 1400 px and at 390 px, where
  the page must not scroll sideways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from ecmo_web.quality.models import AdverseEvent
from ecmo_web.runs.models import EcmoRun


def test_it_records_an_adverse_event_from_an_alert_and_opens_the_mm_packet(
    demo: Any, page: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    run3 = EcmoRun.objects.get(patient__code="DEMO-0003")
    before = AdverseEvent.objects.count()
    login(page, "perfusionist")
    page.goto(f"{live_server.url}/runs/{run3.pk}/alerts/")
    air = page.locator("section.sv-alert", has_text="Air in the circuit")
    air.get_by_role("link", name="Record as adverse event").click()
    expect(page.get_by_role("heading", name="Record adverse event")).to_be_visible()
    expect(page.locator(".q-prefill")).to_contain_text("Bubble detected")
    expect(page.locator("#id_code")).to_have_value("mech.air_in_circuit")
    expect(page.locator("#id_action_taken")).to_contain_text("no air reached the patient")
    page.select_option("#id_severity", "mild")
    page.get_by_role("button", name="Record adverse event").click()
    expect(page.get_by_role("heading", name="Air in circuit")).to_be_visible()
    expect(page.locator(".q-facts")).to_contain_text("Bubble detected")
    assert AdverseEvent.objects.count() == before + 1
    event = AdverseEvent.objects.latest("recorded_at")
    assert event.alert is not None and event.alert.rule_id == "air.detected"

    page.context.clear_cookies()
    login(page, "quality")
    page.goto(f"{live_server.url}/programs/{run3.program_id}/mm-cases/")
    page.locator(".q-case-line").get_by_role(
        "link", name="Pump-head thrombosis with haemolysis after ECPR"
    ).click()
    expect(page.locator(".q-timeline")).to_contain_text("Decision — Circuit change")
    expect(page.locator(".q-chart svg").first).to_be_visible()
    expect(page.locator(".q-action").first).to_be_visible()
    href = page.get_by_role("link", name="Case packet (PDF)").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_the_quality_page_draws_the_kpi_charts(
    demo: Any, page: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    program_id = EcmoRun.objects.get(patient__code="DEMO-0001").program_id
    login(page, "quality")
    page.goto(f"{live_server.url}/programs/{program_id}/quality/")
    expect(page.get_by_role("heading", name="Quality indicators")).to_be_visible()
    tile = page.locator(".q-kpi", has_text="Perfusion involvement index")
    expect(tile.locator(".q-value")).to_contain_text("%")
    expect(tile.locator(".q-kpi-chart canvas")).to_have_count(1)
    expect(page.locator(".q-kpi-chart canvas").first).to_be_visible()
    assert page.locator(".q-kpi-chart canvas").count() >= 10
    page.set_viewport_size({"width": 390, "height": 900})
    page.reload()
    expect(page.locator(".q-kpi-chart canvas").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
