"""Browser walk of governance (issue 12 "done when": sign off a policy version).

- a circuit-change policy's version 2 awaits only the perfusion sign-off (the intensivist and the director have
  signed); version 1 is in force
- the perfusionist opens the policy from the governance page, signs version 2 off with a comment, and the page
  shows version 2 in force, every required role signed, and no sign-off button left
- the QI project page draws its run chart (a canvas) with the shift listed in words under it
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.governance.actions import policies, qi

pytestmark = pytest.mark.browser

PASSWORD = "steward-demo"


@pytest.fixture
def library(transactional_db: Any, settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    program = Program.objects.create(name="Governance", time_zone="Europe/London", is_demo=True)
    users = {}
    for username, role, first, last in [
        ("perfusionist", Role.PERFUSIONIST, "Robin", "Ashdown"),
        ("intensivist", Role.INTENSIVIST, "Morgan", "Hale"),
        ("director", Role.DIRECTOR, "Harper", "Lindqvist"),
        ("quality", Role.QUALITY, "Reese", "Calder"),
    ]:
        users[username] = get_user_model().objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name=last
        )
        Membership.objects.create(user=users[username], program=program, role=role)
    today = dt.datetime.now(dt.UTC).date()
    policy = policies.create_policy(
        actor=users["quality"], program=program, title="Circuit and oxygenator change", topic="circuit_change"
    )
    roles = ["perfusionist", "intensivist", "director"]
    versions = []
    for summary, effective in (("Two-perfusionist change", 200), ("Adds the plasma-free Hb trigger", 1)):
        versions.append(
            policies.draft_version(
                actor=users["quality"],
                policy=policy,
                summary=summary,
                text_body="Elective change when ΔP rises by more than 50 % over baseline.",
                authors=[users["perfusionist"]],
                effective_on=today - dt.timedelta(days=effective),
                review_on=today + dt.timedelta(days=300),
                required_roles=roles,
            )
        )
    for role in roles:
        policies.sign_off(actor=users[role], version=versions[0])
    for role in ("intensivist", "director"):
        policies.sign_off(actor=users[role], version=versions[1])
    project = qi.create_project(
        actor=users["quality"],
        program=program,
        title="Every hour checked",
        aim="95 % of hourly checks",
        started_on=today - dt.timedelta(weeks=8),
    )
    measure = qi.add_measure(actor=users["quality"], project=project, name="Checks recorded", unit="fraction")
    # Sorted .69 .70 .71 .72 .91 .92 | .93 .93 .94 .95 .95 .96 → median (.92 + .93) / 2 = .925: the first six are
    # below (a shift), the last six above (a shift); .69 .91 .92 .93 .95 rise five times running (a trend).
    for week, value in enumerate([0.70, 0.72, 0.71, 0.69, 0.91, 0.92, 0.93, 0.95, 0.94, 0.96, 0.93, 0.95]):
        qi.record_point(
            actor=users["perfusionist"],
            measure=measure,
            period_start=today - dt.timedelta(weeks=12 - week),
            value=value,
        )
    return {"program": program, "policy": policy, "project": project}


def test_it_lets_the_perfusionist_sign_off_and_puts_the_version_in_force(
    live_server: Any, page: Any, login: Callable[[Any, str], None], library: dict[str, Any]
) -> None:
    login(page, "perfusionist")
    page.goto(f"{live_server.url}/programs/{library['program'].pk}/governance/")
    page.get_by_role("link", name="Circuit and oxygenator change").first.click()
    expect(page.locator("#in-force")).to_contain_text("version 1")
    version2 = page.locator("#version-2")
    expect(version2).to_contain_text("Awaiting sign-off")
    expect(version2.locator(".gv-signoffs li.unsigned")).to_have_text("Perfusionist: not signed yet")
    version2.get_by_label("Comment").fill("Checked against the console manual")
    version2.get_by_role("button", name="Sign off as Perfusionist").click()
    expect(page.locator(".messages")).to_contain_text("Every required role has signed")
    expect(page.locator("#in-force")).to_contain_text("version 2")
    expect(page.locator("#version-2")).to_contain_text("In force")
    expect(page.locator("#version-2 .gv-signoffs li.signed")).to_have_count(3)
    expect(page.locator("#version-2")).to_contain_text("Checked against the console manual")
    expect(page.get_by_role("button", name="Sign off as Perfusionist")).to_have_count(0)


def test_it_draws_the_run_chart(
    live_server: Any, page: Any, login: Callable[[Any, str], None], library: dict[str, Any]
) -> None:
    login(page, "quality")
    page.goto(f"{live_server.url}/qi/{library['project'].pk}/")
    expect(page.locator(".gv-chart canvas")).to_have_count(1)
    signals = page.locator(".gv-signals")
    expect(signals).to_contain_text("Shift: 6 points below the median")
    expect(signals).to_contain_text("Shift: 6 points above the median")
    expect(signals).to_contain_text("Trend: 5 points going up")
