"""Every role at home (issue 11 §6).

Checklist:
- [x] each role starts where its work is: clinicians on the run list, the researcher on the de-identified
      datasets (calculators and studies beside them), the auditor on the audit trail, quality on the KPIs, the
      administrator on the program setup; a member of two programs chooses between only those two
- [x] the program name in the header leads to the role's home, and "Runs" is in the menu only for roles that
      see runs
- [x] the audit-trail page lists this program's events only, newest first, with filters (what, who, kind of
      record, text, dates) and pages; read-only; a role without audit.view gets the styled 403, an outsider a 404
- [x] the program-setup page lists the members and the settings pages the role may open
- [x] a refusal (403), a missing page (404) and a failed CSRF check are styled pages inside the site's frame that
      say what happened in words and offer the previous page and the home page
- [x] buttons a role cannot use are not shown: the auditor's run page has no "Record a decision" and no circuit
      selection; the perfusionist's has both
- [x] a role that cannot save a calculator result computes with a GET form (no POST form on its page)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import EcmoRun
from tests.web import audit_guard

POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*>', re.IGNORECASE)


def _post_forms(html: str) -> list[str]:
    return [f for f in POST_FORM.findall(html) if "/logout/" not in f]


def test_each_role_starts_where_its_work_is(
    program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    expected = {
        Role.PERFUSIONIST: f"/programs/{program.pk}/runs/",
        Role.BEDSIDE_NURSE: f"/programs/{program.pk}/runs/",
        Role.DIRECTOR: f"/programs/{program.pk}/runs/",
        Role.RESEARCHER: f"/programs/{program.pk}/research/",
        Role.AUDITOR: f"/programs/{program.pk}/audit-trail/",
        Role.QUALITY: f"/programs/{program.pk}/quality/",
        Role.ADMIN: f"/programs/{program.pk}/setup/",
    }
    for role, url in expected.items():
        client = client_for(personas[role])
        response = client.get("/")
        assert response.status_code == 302 and response["Location"] == url, role
        assert client.get(url).status_code == 200, role


def test_the_researcher_sees_datasets_and_calculators_and_never_runs(
    program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    html = client_for(personas[Role.RESEARCHER]).get(f"/programs/{program.pk}/research/").content.decode()
    assert f'href="/programs/{program.pk}/calculators/"' in html and "De-identified" in html
    assert f'href="/programs/{program.pk}/runs/"' not in html  # neither the menu's "Runs" nor the header link
    assert f'class="program" href="/programs/{program.pk}/research/"' in html


def test_a_member_of_two_programs_chooses_between_only_those(
    program: Program, other_program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    third = Program.objects.create(name="West", time_zone="UTC")
    user = personas[Role.AUDITOR]
    with audit_guard.unaudited():
        Membership.objects.create(user=user, program=other_program, role=Role.RESEARCHER)
    html = client_for(user).get("/").content.decode()
    assert f'href="/programs/{program.pk}/audit-trail/"' in html
    assert f'href="/programs/{other_program.pk}/research/"' in html
    assert third.name not in html and "Auditor (read-only)" in html


def _events(run: EcmoRun, other_program: Program) -> None:
    with audit_guard.unaudited():
        base = {"object_id": "1", "prev_hash": "x", "before": None, "after": {"flow": 4.2}}
        for i, (action, actor, program) in enumerate(
            [
                ("check.recorded", "perfusionist", run.program),
                ("alert.acknowledged", "bedside_nurse", run.program),
                ("check.recorded", "someone_else", other_program),
            ]
        ):
            AuditEvent.objects.create(
                at=dt.datetime(2026, 11, 21 + i, 9, tzinfo=dt.UTC),
                actor_name=actor,
                action=action,
                object_type="CircuitCheck",
                object_repr=f"{run.patient.code} check {i}",
                program=program,
                hash=f"h{i}",
                **base,
            )


def test_the_audit_trail_lists_this_programs_events_with_filters(
    run: EcmoRun, other_program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    _events(run, other_program)
    client = client_for(personas[Role.AUDITOR])
    url = f"/programs/{run.program.pk}/audit-trail/"
    html = client.get(url).content.decode()
    events = html.split('id="audit-events"')[1]
    assert "someone_else" not in html and "run started" in events and "alert acknowledged" in events
    assert events.index("alert acknowledged") < events.index("check recorded")  # newest first
    assert not _post_forms(html)
    only = client.get(url, {"action": "check.recorded"}).content.decode()
    assert "alert.acknowledged" not in only.split('id="audit-events"')[1] and "1 event " in only
    by = client.get(url, {"actor": "nurse"}).content.decode().split('id="audit-events"')[1]
    assert "alert.acknowledged" in by and "check.recorded" not in by
    dated = client.get(url, {"from": "2026-11-22", "to": "2026-11-22"}).content.decode()
    assert "1 event " in dated and "page 1 of 1" in dated
    text = client.get(url, {"q": "check 0"}).content.decode()
    assert "1 event " in text
    refused = client_for(personas[Role.BEDSIDE_NURSE]).get(url)
    assert refused.status_code == 403 and "Read the audit trail" in refused.content.decode()
    assert client_for(personas["outsider"]).get(url).status_code == 404


def test_the_program_setup_lists_members_and_the_settings_the_role_may_open(
    program: Program, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    url = f"/programs/{program.pk}/setup/"
    html = client_for(personas[Role.ADMIN]).get(url).content.decode()
    assert "Program setup" in html and "bedside_nurse" in html and "Bedside nurse" in html
    assert f"/programs/{program.pk}/surveillance/settings/" in html
    assert f"/programs/{program.pk}/perfusion/settings/" in html
    assert f"/programs/{program.pk}/audit-trail/" in html
    assert not _post_forms(html)
    assert client_for(personas[Role.BEDSIDE_NURSE]).get(url).status_code == 403
    # The administrator keeps the settings pages although it does not see runs.
    admin = client_for(personas[Role.ADMIN])
    assert admin.get(f"/programs/{program.pk}/perfusion/settings/").status_code == 200
    assert admin.get(f"/programs/{program.pk}/pathway-criteria/").status_code == 200


def test_refusals_and_missing_pages_are_styled_with_a_way_back(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    nurse = client_for(personas[Role.BEDSIDE_NURSE])
    came_from = f"http://testserver/runs/{run.pk}/"
    refused = nurse.get(f"/runs/{run.pk}/checks/new/", HTTP_REFERER=came_from)
    html = refused.content.decode()
    assert refused.status_code == 403 and 'class="topbar"' in html
    assert "Your role does not allow this" in html and "Record the hourly circuit check" in html
    assert f'href="{came_from}"' in html and 'href="/"' in html
    outside = nurse.get("/runs/1/checks/new/", HTTP_REFERER="https://elsewhere.example/")
    assert "elsewhere.example" not in outside.content.decode()  # never a way back off the site
    missing = nurse.get("/runs/999999/")
    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    assert 'class="topbar"' in missing.content.decode()
    forged = nurse.post(f"/runs/{run.pk}/labs/new/", {"x": "1"})  # no CSRF token
    assert forged.status_code == 403 and "could not be accepted" in forged.content.decode()
    assert "Nothing was saved" in forged.content.decode()


def test_buttons_a_role_cannot_use_are_not_shown(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    decide = f'href="/runs/{run.pk}/decisions/new/"'
    select = f'href="/runs/{run.pk}/circuit-selection/"'
    auditor = client_for(personas[Role.AUDITOR]).get(f"/runs/{run.pk}/").content.decode()
    assert decide not in auditor and select not in auditor and not _post_forms(auditor)
    perfusionist = client_for(personas[Role.PERFUSIONIST]).get(f"/runs/{run.pk}/").content.decode()
    assert decide in perfusionist and select in perfusionist


def test_a_role_that_cannot_save_computes_with_a_get_form(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    client = client_for(personas[Role.AUDITOR])
    url = f"/runs/{run.pk}/calculators/body_surface_area_m2/"
    page = client.get(url).content.decode()
    assert 'id="calculator-form"' in page and not _post_forms(page)
    computed = client.get(url, {"action": "compute", "weight_kg": "80", "height_cm": "180"})
    assert computed.status_code == 200 and "Body surface area (m²): 2" in computed.content.decode()
    saver = client_for(personas[Role.PERFUSIONIST]).get(url).content.decode()
    assert _post_forms(saver)
