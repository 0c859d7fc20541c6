"""Admin screens follow the program permission matrix.

- the device catalogue: holders of catalogue.manage (perfusionist, director, admin) maintain it; others cannot
- memberships: a program admin sees and edits only their program's memberships, and cannot move one elsewhere
- the audit trail is read-only and shows only programs where the user holds audit.view
- every admin write appends an audit event
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ecmo_web.accounts.models import Membership
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import CatalogueItem, EcmoRun


def _staff(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("perfusionist", True),
        ("director", True),
        ("admin", True),
        ("bedside_nurse", False),
        ("auditor", False),
    ],
)
def test_it_lets_only_catalogue_managers_edit_the_catalogue(
    personas: dict[str, Any], role: str, allowed: bool
) -> None:
    client = _staff(personas[role])
    response = client.post(
        "/admin/runs/catalogueitem/add/",
        {"kind": "oxygenator", "maker": "Generic", "model": "Oxy Z", "active": "on"},
    )
    assert CatalogueItem.objects.filter(model="Oxy Z").exists() is allowed
    assert response.status_code == (302 if allowed else 403)
    if allowed:
        event = AuditEvent.objects.get(action="catalogueitem.added")
        assert event.actor == personas[role] and event.after["model"] == "Oxy Z"


def test_it_scopes_memberships_to_the_admins_programs(personas: dict[str, Any], other_program: Any) -> None:
    client = _staff(personas["admin"])
    page = client.get("/admin/accounts/membership/").content.decode()
    assert "perfusionist" in page and "outsider" not in page
    outsider_membership = Membership.objects.get(user=personas["outsider"])
    assert client.get(f"/admin/accounts/membership/{outsider_membership.pk}/change/").status_code in {
        302,
        403,
        404,
    }
    mine = Membership.objects.get(user=personas["pharmacist"])
    response = client.post(
        f"/admin/accounts/membership/{mine.pk}/change/",
        {
            "user": personas["pharmacist"].pk,
            "program": other_program.pk,
            "role": "pharmacist",
            "active": "on",
        },
    )
    assert response.status_code == 200  # the form refuses a program the admin does not manage
    mine.refresh_from_db()
    assert mine.program_id != other_program.pk


def test_it_keeps_the_audit_trail_read_only_and_scoped(personas: dict[str, Any], run: EcmoRun) -> None:
    client = _staff(personas["auditor"])
    page = client.get("/admin/audit/auditevent/")
    assert page.status_code == 200 and "run.started" in page.content.decode()
    event = AuditEvent.objects.first()
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    outsider = _staff(personas["outsider"])
    assert outsider.get("/admin/audit/auditevent/").status_code == 403


def test_it_lets_circuit_staff_associate_a_console_with_their_run_only(
    personas: dict[str, Any], run: EcmoRun, other_program: Any
) -> None:
    from ecmo_web.surveillance.models import DeviceAssociation

    client = _staff(personas["perfusionist"])
    form = {
        "program": run.program_id,
        "run": run.pk,
        "console_serial": "CON-7",
        "bed": "",
        "started_at_0": "2026-11-20",
        "started_at_1": "10:00",
    }
    assert client.post("/admin/surveillance/deviceassociation/add/", form).status_code == 302
    association = DeviceAssociation.objects.get()
    assert association.console_serial == "CON-7"
    assert AuditEvent.objects.filter(action="deviceassociation.added").exists()
    refused = client.post("/admin/surveillance/deviceassociation/add/", {**form, "program": other_program.pk})
    assert refused.status_code == 200 and DeviceAssociation.objects.count() == 1
    assert _staff(personas["pharmacist"]).get("/admin/surveillance/deviceassociation/").status_code == 403


def test_it_shows_dead_letters_for_review_without_letting_anyone_forge_one(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    from django.utils import timezone

    from ecmo_web.surveillance.deadletters import record_dead_letter

    letter = record_dead_letter(
        program=run.program,
        raw_message="MSH|...",
        reason="no run matches",
        error_code="204",
        received_at=timezone.now(),
    )
    client = _staff(personas["perfusionist"])
    assert "no run matches" in client.get("/admin/surveillance/deadletter/").content.decode()
    assert client.get("/admin/surveillance/deadletter/add/").status_code == 403
    response = client.post(
        f"/admin/surveillance/deadletter/{letter.pk}/change/",
        {"review_note": "console re-associated; gateway resent"},
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.reviewed_by == personas["perfusionist"] and letter.review_note.startswith("console")
