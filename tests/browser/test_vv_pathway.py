"""Browser walk of a V-V pathway (issue 6 "done when"): candidacy with RESP computed on the calculator page and saved
into the decision → a flow target from the V-V model → a sweep-off weaning trial that passes → decannulation with
its checklist, every step showing who took part and who decided.

- the perfusionist records an open candidacy decision with participants, computes RESP on the calculator page
  (age prefilled from the patient) and saves it into the decision; the intensivist is recorded as deciding
- the flow-target form previews the V-V model's flow, and deciding sets the blood-flow target on the run
- the weaning-trial page takes timed observations with HTMX, shows pass against the criteria, and is concluded
- the decannulation checklist blocks completion until every item is done or waived with a reason, then ends the run
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.timezones import to_local

pytestmark = pytest.mark.browser

PASSWORD = "steward-demo"


@pytest.fixture
def vv_run(transactional_db: Any, settings: Any) -> EcmoRun:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    program = Program.objects.create(name="Pathway", time_zone="Europe/London", is_demo=True)
    users = {}
    for username, role, name in [
        ("perfusionist", Role.PERFUSIONIST, "Robin Ashdown"),
        ("intensivist", Role.INTENSIVIST, "Morgan Hale"),
        ("ecmo_specialist", Role.ECMO_SPECIALIST, "Jordan Pryce"),
        ("bedside_nurse", Role.BEDSIDE_NURSE, "Casey Lund"),
    ]:
        first, last = name.split(" ")
        users[username] = get_user_model().objects.create_user(
            username=username, password=PASSWORD, first_name=first, last_name=last
        )
        Membership.objects.create(user=users[username], program=program, role=role)
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).replace(second=0, microsecond=0)
    return actions.start_run(
        actor=users["perfusionist"],
        program=program,
        patient_code="PATH-0001",
        sex="male",
        birth_year=started.year - 52,
        indication="respiratory",
        indication_detail="ARDS",
        mode="vv",
        started_at=started,
        weight_kg=80,
        height_cm=178,
    )


def local(run: EcmoRun, value: dt.datetime) -> str:
    shown = to_local(value, run.program)
    assert shown is not None
    return shown.strftime("%Y-%m-%dT%H:%M")


def test_it_walks_a_vv_candidate_to_decannulation(
    live_server: Any, vv_run: EcmoRun, page: Any, login: Callable[[Any, str], None]
) -> None:
    run, base = vv_run, live_server.url
    perf = get_user_model().objects.get(username="perfusionist")
    intensivist = get_user_model().objects.get(username="intensivist")
    specialist = get_user_model().objects.get(username="ecmo_specialist")
    login(page, "perfusionist")

    # 1. Candidacy, open, with participants.
    page.goto(f"{base}/runs/{run.pk}/")
    page.get_by_role("link", name="Record a decision").first.click()
    page.get_by_role("link", name="Candidacy").click()
    page.fill("#id_title", "V-V candidacy")
    page.fill("#id_made_at", local(run, run.started_at - dt.timedelta(hours=3)))
    page.select_option("#id_k-modality", "vv")
    page.check("input[name='k-indications'][value='eolia_pf_80_6h']")
    page.fill("#id_k-pf_ratio_mmhg", "68")
    page.fill("#id_k-pf_hours", "7")
    page.select_option("#id_participant_user_0", str(perf.pk))
    page.fill("#id_participant_contribution_0", "proposed")
    page.select_option("#id_participant_user_1", str(specialist.pk))
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="Candidacy: V-V candidacy")).to_be_visible()
    expect(page.locator("#participants")).to_contain_text("Jordan Pryce")
    expect(page.locator("#participants")).to_contain_text("ECMO specialist")
    expect(page.get_by_text("Not decided yet.")).to_be_visible()
    decision_url = page.url

    # 2. RESP on the calculator page, saved into the decision.
    page.get_by_role("link", name="Compute a score and save it into this decision").click()
    page.get_by_role("link", name="RESP score").click()
    expect(page.locator("#id_age_years")).to_have_value("52")
    page.fill("#id_ventilation_hours_before_ecmo", "30")
    page.select_option("#id_diagnosis", "viral_pneumonia")
    page.check("#id_neuromuscular_blockade")
    page.check("#id_inhaled_nitric_oxide")
    page.fill("#id_paco2_mmhg", "72")
    page.fill("#id_peak_inspiratory_pressure_cmh2o", "36")
    page.get_by_role("button", name="Compute").click()
    expect(page.locator("#result")).to_contain_text("RESP 4")
    expect(page.locator("#result")).to_contain_text("76 %")
    page.get_by_role("button", name="Save result").click()
    page.wait_for_url(decision_url)
    expect(page.get_by_role("heading", name="RESP 4 · class II")).to_be_visible()

    # The intensivist decides.
    page.select_option("#id_decided_by", str(intensivist.pk))
    page.fill("#id_decided_at", local(run, run.started_at - dt.timedelta(hours=2)))
    page.get_by_role("button", name="Decided").click()
    expect(page.locator("#who")).to_contain_text("Morgan Hale")
    expect(page.locator("#who .decider")).to_contain_text("Intensivist")

    # 3. Flow target from the V-V model.
    page.goto(f"{base}/runs/{run.pk}/decisions/new/flow_target/")
    page.fill("#id_made_at", local(run, run.started_at + dt.timedelta(hours=4)))
    expect(page.locator("#id_k-vo2_ml_min")).to_have_value("240")
    page.fill("#id_k-hb_g_dl", "10")
    page.fill("#id_k-cardiac_output_l_min", "6")
    page.fill("#id_k-recirculation_fraction", "0.1")
    page.get_by_role("button", name="Check criteria").click()
    expect(page.locator("#preview")).to_contain_text("L/min ECMO blood flow")
    page.select_option("#id_decided_by", str(intensivist.pk))
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Targets set on the run")).to_be_visible()
    target = run.targets.get(parameter="blood_flow_l_min")
    expect(page.locator("body")).to_contain_text(f"{target.low}")

    # 4. Sweep-off weaning trial that passes.
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=7)
    page.goto(f"{base}/runs/{run.pk}/decisions/new/weaning_trial/")
    page.fill("#id_made_at", local(run, start - dt.timedelta(minutes=30)))
    page.select_option("#id_k-trial_type", "vv_sweep_off")
    page.fill("#id_k-started_at", local(run, start))
    page.select_option("#id_decided_by", str(intensivist.pk))
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="V-V sweep-gas-off trial")).to_be_visible()
    for minutes, values in [
        (
            0,
            {
                "sao2": "0.96",
                "pao2_mmhg": "82",
                "paco2_mmhg": "43",
                "arterial_ph": "7.39",
                "rr_per_min": "20",
            },
        ),
        (
            30,
            {
                "sao2": "0.95",
                "pao2_mmhg": "78",
                "paco2_mmhg": "45",
                "arterial_ph": "7.37",
                "rr_per_min": "22",
            },
        ),
        (
            120,
            {
                "sao2": "0.94",
                "pao2_mmhg": "72",
                "paco2_mmhg": "46",
                "arterial_ph": "7.36",
                "rr_per_min": "23",
                "acute_cor_pulmonale": "false",
            },
        ),
        (
            360,
            {
                "sao2": "0.95",
                "pao2_mmhg": "75",
                "paco2_mmhg": "46",
                "arterial_ph": "7.36",
                "rr_per_min": "22",
            },
        ),
    ]:
        form = page.locator("#observation-form")
        form.locator("[name='at']").fill(local(run, start + dt.timedelta(minutes=minutes)))
        for name, value in {
            **values,
            "fio2": "0.4",
            "plateau_cmh2o": "24",
            "blood_flow_l_min": "2.5",
        }.items():
            field = form.locator(f"[name='{name}']")
            if name == "acute_cor_pulmonale":
                field.select_option(value)
            else:
                field.fill(value)
        # Each change asks the server for a live preview; let those finish before recording (the test database is
        # an in-memory SQLite shared between threads, which refuses a write while a read holds the table).
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(200)
        form.get_by_role("button", name="Record observation").click()
        expect(page.locator("#trial-panel table.obs tbody tr")).to_have_count(
            [0, 30, 120, 360].index(minutes) + 1
        )
    expect(page.locator("#trial-panel .verdict")).to_have_text("pass")
    page.select_option("#id_outcome", "passed")
    page.get_by_role("button", name="Conclude").click()
    expect(page.get_by_text("passed", exact=False).first).to_be_visible()
    expect(page.locator("#trial-panel")).to_contain_text("Concluded")

    # 5. Decannulation: the checklist blocks completion until every item is done or waived.
    page.goto(f"{base}/runs/{run.pk}/decisions/new/decannulation/")
    page.fill("#id_made_at", local(run, start + dt.timedelta(hours=6, minutes=30)))
    page.select_option("#id_decided_by", str(intensivist.pk))
    page.select_option("#id_dissent_user_0", str(specialist.pk))
    page.fill("#id_dissent_reason_0", "clot risk at low flow")
    page.fill("#id_dissent_resolution_0", "aPTT at 22:00")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="Decannulation checklist")).to_be_visible()
    page.get_by_role("button", name="Complete checklist").click()
    expect(page.locator("body")).to_contain_text("outstanding")
    first = page.locator(".checklist-item form").first
    first.locator("[name='waiver_reason']").fill("family abroad; informed by phone afterwards")
    first.get_by_role("button", name="Waive").click()
    expect(page.locator(".state.waived")).to_have_count(1)
    remaining = page.locator(".checklist-item form").count()
    while remaining:
        page.locator(".checklist-item form").first.get_by_role("button", name="Done").click()
        remaining -= 1
        expect(page.locator(".checklist-item form")).to_have_count(remaining)
    expect(page.locator(".verdict")).to_have_text("ready to complete")
    page.get_by_role("button", name="Complete checklist").click()
    expect(page.locator(".verdict").first).to_have_text("complete")
    run.refresh_from_db()
    assert run.outcome == "weaned" and run.ended_at is not None
    page.goto(f"{base}/runs/{run.pk}/decisions/")
    for kind in ("Candidacy", "Flow and gas targets", "Weaning trial", "Decannulation"):
        expect(page.locator("body")).to_contain_text(kind)
    expect(page.locator(".people .decider").first).to_contain_text("Intensivist")
