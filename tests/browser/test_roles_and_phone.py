"""Browser: phones, and the auditor's read-only world (issue 11 §6, §7, "Done when").

Checklist:
- [x] at 390 × 844 nothing is wider than the screen (document.scrollingElement.scrollWidth <= innerWidth) on the
      run page, the rounds board, the check form and the alert pages of the demo runs; the run page's timeline
      opens scrolled to "now"; attendance is folded away on the rounds board
- [x] an auditor sees no write control anywhere: crawling every page reachable from the auditor's home and the
      demo runs finds no form with method=post except sign-out, no htmx write, and no link that answers 403
- [x] on a phone the run page opens on the circuit: the menu folds behind a "Menu" button (the alert counts stay
      in the bar), the record buttons behind "Record on this run", and the open alerts and first readings are in
      the first screen
- [x] screenshots at 390 and 1366 px of the pages changed go to docs/screens/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ecmo_web.accounts.models import Program
from ecmo_web.demo.seed import DEMO_PROGRAM
from ecmo_web.rounds.models import RoundsSession

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1366, "height": 900}
OVERFLOW = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
WRITES = """() => {
  const posts = [...document.querySelectorAll('form')]
    .filter((f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
    .map((f) => f.getAttribute('action') || location.pathname)
    .filter((action) => !action.includes('/logout/'));
  const htmx = [...document.querySelectorAll('[hx-post],[hx-put],[hx-patch],[hx-delete]')].map((e) => e.outerHTML.slice(0, 80));
  return posts.concat(htmx);
}"""
LINKS = "() => [...document.querySelectorAll('a[href]')].map((a) => a.href)"
SKIP = ("/logout/", "/admin/", "/api/", ".json", ".pdf", ".csv", "/download/", "/live/", "/static/", "packet")


def _shoot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENS / f"{name}-{size['width']}.png"), full_page=False)


def test_nothing_is_wider_than_a_phone(
    page: Any, demo: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    program = Program.objects.get(name=DEMO_PROGRAM)
    runs = list(program.runs.filter(ended_at__isnull=True).order_by("patient__code"))
    rounds_day = RoundsSession.objects.filter(program=program).latest("date").date.isoformat()
    page.set_viewport_size(PHONE)
    login(page, "perfusionist")
    pages = [f"/programs/{program.pk}/alerts/", f"/programs/{program.pk}/rounds/{rounds_day}/"]
    for run in runs:
        pages += [f"/runs/{run.pk}/", f"/runs/{run.pk}/checks/new/", f"/runs/{run.pk}/alerts/"]
    for url in pages:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        width, inner = page.evaluate(OVERFLOW)
        assert width <= inner, f"{url} is {width} px wide at {inner} px"
    page.goto(f"{live_server.url}/runs/{runs[0].pk}/")
    at_now = page.evaluate(
        "() => { const t = document.querySelector('.timeline'); "
        "return t.scrollWidth > t.clientWidth && t.scrollLeft + t.clientWidth >= t.scrollWidth - 2; }"
    )
    assert at_now, "the timeline opens at now"
    page.goto(f"{live_server.url}/programs/{program.pk}/rounds/{rounds_day}/")
    assert page.evaluate("() => !document.querySelector('#attendance').open")
    _shoot(page, "rounds-board-attendance-folded")
    page.goto(f"{live_server.url}/runs/{runs[0].pk}/")
    page.set_viewport_size(PHONE)
    page.reload()
    # the phone opens on the circuit: the menu and the record buttons are folded; the open alerts and the first
    # readings are in the first screen
    page.wait_for_selector(".bs-reading")
    first = page.evaluate(
        "() => [document.querySelector('.bs-alerts li, .bs-none'), document.querySelector('.bs-reading')]"
        ".map((e) => e.getBoundingClientRect().bottom)"
    )
    assert max(first) <= PHONE["height"], f"the alerts and first reading end at {first} px on an 844 px phone"
    assert not page.is_visible("#topnav") and page.is_visible(".live-alerts")
    assert not page.is_visible(".run-actions .actions")
    page.click(".run-actions > summary")
    assert page.is_visible(".run-actions .actions")
    page.click("[data-menu-toggle]")
    assert page.is_visible("#topnav") and page.get_attribute("[data-menu-toggle]", "aria-expanded") == "true"
    page.click("[data-menu-toggle]")
    page.click(".run-actions > summary")
    _shoot(page, "run-page-layout")
    page.set_viewport_size(WIDE)
    assert page.is_visible(".run-actions .actions"), "a wide screen shows the record buttons"
    assert not page.is_visible(".run-actions > summary") and not page.is_visible("[data-menu-toggle]")
    page.goto(f"{live_server.url}/runs/{runs[0].pk}/checks/new/")
    _shoot(page, "check-form-layout")


def test_an_auditor_sees_no_write_control_anywhere(
    page: Any, demo: Any, live_server: Any, login: Callable[[Any, str], None]
) -> None:
    program = Program.objects.get(name=DEMO_PROGRAM)
    login(page, "auditor")
    assert urlparse(page.url).path == f"/programs/{program.pk}/audit-trail/"
    _shoot(page, "audit-trail")
    origin = urlparse(live_server.url).netloc
    queue = [urlparse(page.url).path] + [f"/runs/{run.pk}/" for run in program.runs.all()]
    seen: set[str] = set()
    kinds: set[str] = set()
    found: dict[str, list[str]] = {}
    refused: list[str] = []
    while queue and len(seen) < 160:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(f"{live_server.url}{path}")
        if response.status in (403, 404):
            refused.append(f"{path} {response.status}")
            continue
        writes = page.evaluate(WRITES)
        if writes:
            found[path] = writes
        for href in page.evaluate(LINKS):
            link = urlparse(href)
            target = link.path  # filters and pages of a list (?page=2) show the same controls
            if link.netloc != origin or target in seen or any(s in target for s in SKIP):
                continue
            # Each calculator page has the same layout: one per context (program, run) is enough.
            if "/calculators/" in target and not target.endswith("/calculators/"):
                context = target.rsplit("/calculators/", 1)[0]
                if context in kinds:
                    continue
                kinds.add(context)
            queue.append(target)
    assert len(seen) >= 40, seen
    assert not found, found
    assert not refused, refused
