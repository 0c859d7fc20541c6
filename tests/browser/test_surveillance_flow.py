"""Circuit surveillance, end to end in Chromium (issue 5, "Done when").

A perfusionist
- records an hourly check (the form, big inputs, ΔP computed),
- imports a console CSV in which ΔP climbs (preview, then confirm),
- sees the oxygenator.delta_p_rise alert on the run page and on the program's run list,
- acknowledges it on the run page (HTMX, no reload),
- records an oxygenator change and resolves the alert with it: the rule starts a new baseline (indeterminate)
  and the component life shows the new oxygenator without a baseline yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun

DEMO_PASSWORD = "steward-demo"  # the password the login fixture types


@pytest.fixture
def ward(transactional_db: Any, settings: Any, tmp_path: Path) -> EcmoRun:
    """A program with one perfusionist and a V-V run that started 8 h ago on oxygenator lot OXA-1."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.VAR_DIR = tmp_path
    program = Program.objects.create(name="Browser ward", time_zone="Europe/London")
    user = get_user_model().objects.create_user(
        username="robin", password=DEMO_PASSWORD, first_name="Robin", last_name="Ashdown"
    )
    Membership.objects.create(user=user, program=program, role=Role.PERFUSIONIST)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)).replace(second=0, microsecond=0)
    run = run_actions.start_run(
        actor=user,
        program=program,
        patient_code="TEST-0042",
        sex="female",
        birth_year=1980,
        indication="respiratory",
        mode="vv",
        started_at=start,
    )
    for kind, lot in (("oxygenator", "OXA-1"), ("pump_head", "PHB-1")):
        run_actions.install_component(
            actor=user, run=run, kind=kind, maker="Generic", model=kind.title(), installed_at=start, lot=lot
        )
    return run


def _climbing_csv(run: EcmoRun, path: Path) -> Path:
    """Minute telemetry from the start of the run to 2 min ago: ΔP 16 mmHg, then 26 (+62 %) for the last hour."""
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=2)
    lines = [
        "observed_at,blood_flow_l_min,pump_speed_rpm,access_pressure_mmhg,"
        "pre_oxygenator_pressure_mmhg,post_oxygenator_pressure_mmhg"
    ]
    t = run.started_at
    while t <= end:
        pre = 260 if t > end - dt.timedelta(hours=1) else 250
        lines.append(f"{t:%Y-%m-%dT%H:%M:%SZ},4.8,3400,-60,{pre},234")
        t += dt.timedelta(minutes=1)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_perfusionist_checks_imports_sees_acknowledges_and_changes_the_oxygenator(
    live_server: Any, ward: EcmoRun, page: Any, login: Callable[[Any, str], None], tmp_path: Path
) -> None:
    run = ward
    login(page, "robin")
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.get_by_role("heading", name="Circuit surveillance")).to_be_visible()
    expect(page.locator("#alerts-body")).to_contain_text("No open alert")

    # 1. The hourly check.
    page.get_by_role("link", name="Record check").click()
    expect(page.get_by_role("heading", name="Hourly circuit check")).to_be_visible()
    page.get_by_label("Pump speed (rpm)").fill("3400")
    page.get_by_label("Blood flow (L/min)").fill("4.8")
    page.get_by_label("Access (pre-pump) pressure (mmHg)").fill("-60")
    page.get_by_label("Pre-oxygenator pressure (mmHg)").fill("250")
    page.get_by_label("Post-oxygenator pressure (mmHg)").fill("234")
    expect(page.locator("#sv-dp")).to_have_text("16 mmHg")
    page.get_by_label("Sweep gas flow (L/min)").fill("4")
    page.get_by_label("FdO2 (%)").fill("100")
    page.get_by_label("Finding 1: where").fill("Oxygenator inflow face")
    page.get_by_label("Finding 1: appearance").fill("white fibrin")
    page.get_by_label("Finding 1: size in mm").fill("2")
    page.get_by_role("button", name="Record check").click()
    expect(page.get_by_text("Circuit check recorded.")).to_be_visible()
    expect(page.locator(".sv-check")).to_contain_text("Last check")

    # 2. The console export, previewed and then imported.
    page.get_by_role("link", name="Import CSV").click()
    page.set_input_files("#id_file", str(_climbing_csv(run, tmp_path / "console.csv")))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview of console.csv")).to_be_visible()
    expect(page.locator(".sv-preview-table")).to_contain_text("pre_oxygenator_pressure_mmhg")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("alert(s) fired")).to_be_visible()

    # 3. The alert on the run page and on the program's run list.
    alert = page.locator(".sv-alert", has_text="Membrane ΔP / resistance rise")
    expect(alert).to_contain_text("Firing")
    expect(alert).to_contain_text("above its baseline of 16 mmHg")
    page.get_by_role("link", name=run.program.name).click()
    expect(page.get_by_role("heading", name="Runs on ECMO")).to_be_visible()
    expect(page.locator("td.cell-warning")).to_contain_text("1 warning")

    # 4. Acknowledged on the run page (HTMX swaps the panel in place).
    page.get_by_role("link", name="TEST-0042").click()
    alert = page.locator(".sv-alert", has_text="Membrane ΔP / resistance rise")
    alert.get_by_placeholder("Comment: what you found, what you will do").fill(
        "gas transfer fine; plan a change"
    )
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_contain_text("Acknowledged by Robin Ashdown")
    expect(alert).to_contain_text("gas transfer fine; plan a change")

    # 5. The oxygenator change, then the alert resolved with it: the new oxygenator starts its own baseline.
    page.get_by_role("link", name="Add / replace component").click()
    page.get_by_label("Kind").select_option("oxygenator")
    page.get_by_label("Maker").fill("Generic")
    page.get_by_label("Model").fill("Oxygenator")
    page.get_by_label("Lot").fill("OXA-2")
    page.get_by_label("Reason the one in place is replaced").fill("rising membrane ΔP")
    page.get_by_role("button", name="Record component").click()
    alert = page.locator(".sv-alert", has_text="Membrane ΔP / resistance rise")
    alert.get_by_role("link", name="Resolve…").click()
    page.get_by_label("What was done").fill("oxygenator changed, new lot OXA-2")
    page.get_by_label("Component fitted (circuit change)").select_option(
        label=page.locator("#id_component option", has_text="OXA-2").inner_text()
    )
    page.get_by_role("button", name="Resolve alert").click()
    expect(page.locator("#alerts-body")).to_contain_text("No open alert")
    chip = page.locator(".sv-chip", has_text="Membrane ΔP / resistance rise")
    expect(chip).to_contain_text("Indeterminate")
    expect(page.locator(".sv-life")).to_contain_text("OXA-2")
    expect(page.locator(".sv-life")).to_contain_text("no ΔP baseline yet for this oxygenator")
    page.get_by_role("link", name="Alert history").click()
    expect(page.locator(".sv-alert").first).to_contain_text("linked: Oxygenator lot OXA-2")
