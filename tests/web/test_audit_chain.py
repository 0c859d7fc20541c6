"""The audit trail is complete and tamper-evident.

- every action appends an event in the same transaction, with actor, action, object, before/after, request id
- an action that fails writes nothing (no event, no half-written record)
- the chain verifies; `ecmo audit verify` detects an edited event, a removed event and a truncated chain
- events cannot be written outside a transaction
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from ecmo_web.audit.chain import append, verify
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs import actions
from ecmo_web.runs.models import ConfigurationEntry, EcmoRun
from tests.web.conftest import T0


def test_it_records_each_write_with_actor_object_and_after_state(run: EcmoRun, perfusionist: Any) -> None:
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == [
        "patient.created",
        "patient.identifier_added",
        "patient.identifier_added",
        "run.started",
    ]
    started = events[-1]
    assert started.actor == perfusionist and started.actor_name == "perfusionist"
    assert started.object_type == "runs.ecmorun" and started.object_id == str(run.pk)
    assert started.program_id == run.program_id
    assert started.after is not None and started.after["mode"] == "vv"
    # Identifier values never enter the trail (auditors may not see identifiers).
    assert "Test Patient" not in str([e.after for e in events])


def test_it_keeps_before_and_after_and_reason_on_change(run: EcmoRun, perfusionist: Any) -> None:
    actions.change_configuration(
        actor=perfusionist,
        run=run,
        mode="vav",
        started_at=T0 + dt.timedelta(days=1),
        reason="differential hypoxia",
    )
    event = AuditEvent.objects.latest("id")
    assert event.action == "run.configuration_changed"
    assert event.reason == "differential hypoxia"
    assert event.after is not None and event.after["mode"] == "vav"


def test_it_writes_nothing_when_the_action_fails(run: EcmoRun, perfusionist: Any) -> None:
    count = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        actions.change_configuration(
            actor=perfusionist, run=run, mode="vv", started_at=T0 + dt.timedelta(hours=1), reason="same mode"
        )
    assert AuditEvent.objects.count() == count
    assert ConfigurationEntry.objects.filter(run=run).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_requires_the_callers_transaction(program: Any, perfusionist: Any) -> None:
    with pytest.raises(RuntimeError, match="same transaction"):
        append(actor=perfusionist, action="x", obj=program)


def test_it_verifies_an_intact_chain(run: EcmoRun) -> None:
    result = verify()
    assert result.ok and result.checked == 4
    call_command("audit", "verify")


def test_it_detects_an_edited_event(run: EcmoRun) -> None:
    event = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=event.pk).update(reason="nothing to see here")
    result = verify()
    assert not result.ok and result.broken_event_id == event.pk and "edited" in result.problem
    with pytest.raises(CommandError, match=f"BROKEN at event {event.pk}"):
        call_command("audit", "verify")


def test_it_detects_a_removed_event(run: EcmoRun) -> None:
    events = list(AuditEvent.objects.order_by("id"))
    events[1].delete()
    result = verify()
    assert not result.ok and result.broken_event_id == events[2].pk and "removed" in result.problem


def test_it_detects_a_truncated_chain(run: EcmoRun) -> None:
    AuditEvent.objects.order_by("-id").first().delete()  # type: ignore[union-attr]
    result = verify()
    assert not result.ok and result.broken_event_id is None and "ends early" in result.problem


def test_it_carries_the_request_id(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    response = client.get(f"/runs/{run.pk}/configuration/")
    token = response.cookies["csrftoken"].value
    response = client.post(
        f"/runs/{run.pk}/configuration/",
        {
            "mode": "va",
            "started_at": "2026-11-21T09:00",
            "reason": "cardiac failure",
            "csrfmiddlewaretoken": token,
        },
        HTTP_X_REQUEST_ID="req-123",
    )
    assert response.status_code == 302
    assert AuditEvent.objects.latest("id").request_id == "req-123"


def test_it_stores_exactly_the_event_it_returns_and_moves_the_head(run: EcmoRun, perfusionist: Any) -> None:
    from django.db import transaction

    from ecmo_web.audit.models import ChainHead

    with transaction.atomic():
        event = append(
            actor=perfusionist,
            action="run.viewed",
            obj=run,
            after={"when": T0, "values": [1.5, None, "x"]},
            reason="a reason",
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    for f in AuditEvent._meta.concrete_fields:
        assert getattr(stored, f.attname) == getattr(event, f.attname), f.name
    assert stored.before is None and stored.after == {
        "when": T0.isoformat().replace("+00:00", "Z"),
        "values": [1.5, None, "x"],
    }
    head = ChainHead.objects.get()
    assert head.last_hash == event.hash and head.count == AuditEvent.objects.count()
    assert verify().ok
