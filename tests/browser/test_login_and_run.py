"""First browser walk: the demo perfusionist signs in, sees the program's runs and opens one.

- the login page signs in the demo perfusionist
- the run list shows every active demo run with its mode and day
- the run page shows the timeline with configuration, cannulas and components
- an outsider from another program sees none of the demo patients
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect


def test_it_signs_in_and_opens_a_run(
    live_server: Any, demo: Any, page: Any, login: Callable[[Any, str], None]
) -> None:
    login(page, "perfusionist")
    expect(page.get_by_role("heading", name="Runs on ECMO")).to_be_visible()
    for code in ("DEMO-0001", "DEMO-0002", "DEMO-0003", "DEMO-0004"):
        expect(page.get_by_role("link", name=code)).to_be_visible()
    page.get_by_role("link", name="DEMO-0001").click()
    expect(page.get_by_role("heading", name="DEMO-0001")).to_be_visible()
    expect(page.locator(".tl-lane", has_text="Configuration")).to_contain_text("V-V")
    expect(page.locator(".tl-lane", has_text="Oxygenator")).to_contain_text("DEMO-OXA-0412")
    expect(page.locator(".who")).to_contain_text("Robin Ashdown")


def test_it_shows_an_outsider_nothing_of_the_demo_program(
    live_server: Any, demo: Any, page: Any, login: Callable[[Any, str], None]
) -> None:
    login(page, "outsider")
    expect(page.get_by_text("DEMO-0001")).to_have_count(0)
    run_id = demo.runs["DEMO-0001"].pk
    response = page.goto(f"{live_server.url}/runs/{run_id}/")
    assert response is not None and response.status == 404
