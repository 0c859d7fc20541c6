"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against Django's live server.

Fixtures:
- ``browser``: one headless Chromium per session (``scripts/ensure-chromium.sh`` installs it in CI).
- ``page``: a fresh context and page per test, 1400 × 900.
- ``demo``: the synthetic demo program seeded into the test database (fast password hashing).
- ``login(page, username)``: signs in through the real login form with the demo password.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread with a running
# loop unless told that this is deliberate. The ORM calls here are the test's own fixtures, not async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("ECMO_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "steward-demo"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run scripts/ensure-chromium.sh (browser tests never skip)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def demo(transactional_db: Any, settings: Any) -> Any:
    from django.utils import timezone

    from ecmo_web.demo.seed import seed_demo

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return seed_demo(now=timezone.now(), password=DEMO_PASSWORD)


@pytest.fixture
def login(live_server: Any) -> Callable[[Any, str], None]:
    def do_login(pg: Any, username: str) -> None:
        pg.goto(f"{live_server.url}/login/")
        pg.fill("#id_username", username)
        pg.fill("#id_password", DEMO_PASSWORD)
        pg.click("button[type=submit]")
        pg.wait_for_url(lambda url: "/login/" not in url)

    return do_login
