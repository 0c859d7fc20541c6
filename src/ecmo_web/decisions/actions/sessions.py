"""Decision sessions (a multidisciplinary meeting) and who attended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _role, _save
from ecmo_web.decisions.models import (
    DecisionSession,
    SessionAttendee,
)
from ecmo_web.kernel import audit, aware, member, require, user_of


@transaction.atomic
def create_session(
    *,
    actor: Any,
    program: Program,
    kind: str,
    title: str,
    started_at: dt.datetime,
    attendees: Sequence[Mapping[str, Any]] = (),
    location: str = "",
    notes: str = "",
) -> DecisionSession:
    """An ECMO call or MDT meeting with who was in the room: ``attendees`` are ``{"user"|"name", "role"}``;
    a member's role defaults to their membership role, a non-member needs a name and a role."""
    require(actor, "decision.record", program)
    session = DecisionSession(
        program=program,
        kind=kind,
        title=title.strip(),
        started_at=aware(started_at, field="started_at"),
        location=location,
        notes=notes,
        created_by=user_of(actor),
    )
    _save(session)
    for index, row in enumerate(attendees):
        _add_attendee(session, row, f"attendees[{index}]")
    audit(
        actor=actor,
        action="decision.session_created",
        obj=session,
        after={**snapshot(session), "attendees": [_attendee_json(a) for a in session.attendees.all()]},
    )
    return session


def _attendee_json(a: SessionAttendee) -> dict[str, Any]:
    return {"user_id": a.user_id, "name": a.name, "role": a.role}


def _add_attendee(session: DecisionSession, row: Mapping[str, Any], field: str) -> SessionAttendee:
    if row.get("user") is not None:
        user = member(session.program_id, row["user"], field=field)
        role = _role(session.program_id, user, row.get("role"), field)
        attendee = SessionAttendee(session=session, user=user, role=role)
    else:
        name, role = str(row.get("name") or "").strip(), str(row.get("role") or "").strip()
        if not name or not role:
            raise ValidationError({field: "a person without an account needs a name and a role"})
        attendee = SessionAttendee(session=session, name=name, role=role)
    _save(attendee)
    return attendee


@transaction.atomic
def add_session_attendee(
    *, actor: Any, session: DecisionSession, user: Any = None, name: str = "", role: str = ""
) -> SessionAttendee:
    require(actor, "decision.record", session)
    attendee = _add_attendee(session, {"user": user, "name": name, "role": role}, "user")
    audit(actor=actor, action="decision.session_attendee_added", obj=session, after=_attendee_json(attendee))
    return attendee
