"""Writes that used to leave no (or one lumped) audit event now write one each.

- the admin's bulk delete (list page, "delete selected") audits every row it deletes
- a new dead letter is audited in the same transaction, under its program when it has one, without its content
- ending a run audits the run and, one by one, every circuit, component, cannula and device it closes
- (API tokens issued and revoked: tests/web/test_api_tokens.py)
- the guard active in every web test fails a write made outside an action, or by an action that wrote no audit
  event; a fixture opts out explicitly
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client

from ecmo_web.accounts.models import Unit
from ecmo_web.audit.chain import append
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import DeadLetter
from tests.web import audit_guard
from tests.web.conftest import T0


def test_the_admins_bulk_delete_audits_every_row(personas: dict[str, Any], program: Any) -> None:
    admin = personas["admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(admin)
    for name in ("Ward 1", "Ward 2"):
        assert (
            client.post("/admin/accounts/unit/add/", {"program": program.pk, "name": name}).status_code == 302
        )
    ids = [str(pk) for pk in Unit.objects.values_list("pk", flat=True)]
    response = client.post(
        "/admin/accounts/unit/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302 and not Unit.objects.exists()
    deleted = AuditEvent.objects.filter(action="unit.deleted").order_by("object_id")
    assert [e.object_id for e in deleted] == sorted(ids)
    assert all(e.actor == admin and e.program_id == program.pk and e.before["name"] for e in deleted)


def test_a_new_dead_letter_is_audited_without_its_content(program: Any, db: Any) -> None:
    raw = "MSH|^~\\&|CONSOLE|ICU|||20261120100000||ORU^R01|C42|P|2.6\rPID|||TEST-MRN-9||Secret^Name\r"
    with transaction.atomic():  # as the listener stores one
        letter = DeadLetter.objects.create(
            program=program,
            raw_message=raw,
            reason="no run for this console",
            error_code="204",
            sending_application="CONSOLE",
            control_id="C42",
            received_at=T0,
        )
    event = AuditEvent.objects.get(action="deadletter.created")
    assert event.object_id == str(letter.pk) and event.program_id == program.pk
    assert event.actor_name == "system:mllp" and event.after["reason"] == "no run for this console"
    assert "Secret" not in str(event.after) and "TEST-MRN-9" not in str(event.after)
    from ecmo_web.surveillance.deadletters import record_dead_letter

    unbound = record_dead_letter(raw_message=raw, reason="unreadable", actor_name="system:import")
    event = AuditEvent.objects.get(action="deadletter.created", object_id=str(unbound.pk))
    assert event.program_id is None and event.actor_name == "system:import"


def test_ending_a_run_audits_everything_it_closes(run: EcmoRun, perfusionist: Any) -> None:
    actions.add_cannula(
        actor=perfusionist, run=run, purpose="drainage", site="right_femoral_vein", size_fr=25, inserted_at=T0
    )
    actions.add_cannula(
        actor=perfusionist,
        run=run,
        purpose="return",
        site="right_internal_jugular",
        size_fr=21,
        inserted_at=T0,
    )
    for kind in ("pump_head", "oxygenator"):
        actions.install_component(
            actor=perfusionist, run=run, kind=kind, maker="G", model="M", installed_at=T0
        )
    end = T0.replace(day=25)
    actions.end_run(actor=perfusionist, run=run, ended_at=end, outcome="weaned", reason="recovered")
    counts = {
        action: AuditEvent.objects.filter(action=action, reason="run ended").count()
        for action in ("circuit.ended", "component.removed", "cannula.removed")
    }
    assert counts == {"circuit.ended": 1, "component.removed": 2, "cannula.removed": 2}
    removed = AuditEvent.objects.filter(action="component.removed").first()
    assert removed is not None and removed.before["removed_at"] is None
    assert (
        removed.after["removed_at"].startswith("2026-11-25")
        and removed.after["reason_removed"] == "run ended"
    )
    assert AuditEvent.objects.filter(action="run.ended", reason="recovered").count() == 1


def test_the_guard_catches_writes_without_an_audit_event(program: Any, db: Any) -> None:
    with audit_guard.guarding() as guard:
        assert guard is not None
        Unit.objects.create(program=program, name="by hand")
        with transaction.atomic():  # an "action" that forgets its audit event
            Unit.objects.create(program=program, name="silent")
        with transaction.atomic():  # a proper one
            unit = Unit.objects.create(program=program, name="audited")
            append(actor=None, actor_name="test", action="unit.added", obj=unit)
        with audit_guard.unaudited():  # a fixture's explicit opt-out
            Unit.objects.create(program=program, name="fixture")
    problems = guard.problems()
    assert len(problems) == 2
    assert "accounts.unit" in problems[0] and "outside any action" in problems[0]
    assert "in an action that wrote no audit event" in problems[1]
