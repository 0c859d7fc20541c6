"""Education and competency: competencies with their validity and the role skill sets they belong to
(``governance.manage``), competency awards and education sessions with attendance (``education.record``),
and shifts with their members (``governance.manage``). Currency on a shift is read by ``governance.currency``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web import kernel
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.governance.actions._common import (
    date_value,
    local_today,
    member,
    member_role,
    members,
    roles,
    text,
    user_of,
)
from ecmo_web.governance.models import (
    Competency,
    CompetencyAward,
    EducationSession,
    SessionAttendance,
    SessionKind,
    Shift,
)

MAX_SHIFT = dt.timedelta(hours=24)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has no such day: 31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(competency: Competency, awarded_on: dt.date) -> dt.date | None:
    """The last valid day of an award: the day before the same date ``validity_months`` later."""
    if competency.validity_months is None:
        return None
    return add_months(awarded_on, competency.validity_months) - dt.timedelta(days=1)


@transaction.atomic
def create_competency(
    *,
    actor: Any,
    program: Program,
    name: str,
    required_for_roles: list[str],
    validity_months: int | None = None,
    description: str = "",
) -> Competency:
    kernel.require(actor, "governance.manage", program)
    name = text(name, field="name", max_length=160)
    if Competency.objects.filter(program=program, name=name).exists():
        raise ValidationError({"name": "the program already has a competency of that name"})
    if validity_months is not None and not 1 <= validity_months <= 120:
        raise ValidationError({"validity_months": "between 1 and 120 months, or empty if it never expires"})
    found = Competency(
        program=program,
        name=name,
        description=text(description, field="description", max_length=2000, required=False),
        validity_months=validity_months,
        required_for_roles=roles(required_for_roles, field="required_for_roles"),
    )
    found.save()
    kernel.audit(actor, "competency.created", found, after=snapshot(found))
    return found


@transaction.atomic
def award_competency(
    *,
    actor: Any,
    competency: Competency,
    holder: Any,
    awarded_on: dt.date,
    session: EducationSession | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> CompetencyAward:
    """Record that ``holder`` was assessed competent on ``awarded_on``; the assessor is the actor, who cannot
    assess themself. The expiry follows from the competency's validity."""
    kernel.require(actor, "education.record", competency)
    now = now or timezone.now()
    program = competency.program
    person = member(program, holder, field="holder")
    if person == user_of(actor):
        raise ValidationError({"holder": "a competency is assessed by someone else"})
    awarded_on = date_value(awarded_on, field="awarded_on")
    if awarded_on > local_today(program, now):
        raise ValidationError({"awarded_on": "cannot be in the future"})
    if session is not None and session.program_id != program.pk:
        raise ValidationError({"session": "that session belongs to another program"})
    award = CompetencyAward(
        competency=competency,
        holder=person,
        awarded_on=awarded_on,
        expires_on=expiry_for(competency, awarded_on),
        assessed_by=user_of(actor),
        session=session,
        note=text(note, field="note", max_length=200, required=False),
    )
    award.save()
    kernel.audit(actor, "competency.awarded", award, after=snapshot(award))
    return award


@transaction.atomic
def record_session(
    *,
    actor: Any,
    program: Program,
    kind: str,
    title: str,
    held_at: dt.datetime,
    duration_min: int,
    attendees: list[Any],
    facilitator: Any = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> EducationSession:
    """A session that took place, with who attended (each with their program role at the time)."""
    kernel.require(actor, "education.record", program)
    now = now or timezone.now()
    if kind not in SessionKind.values:
        raise ValidationError({"kind": f"one of {', '.join(SessionKind.values)}"})
    held_at = kernel.not_in_future(kernel.aware(held_at, field="held_at"), field="held_at", now=now)
    if isinstance(duration_min, bool) or not isinstance(duration_min, int) or not 5 <= duration_min <= 720:
        raise ValidationError({"duration_min": "between 5 and 720 minutes"})
    people = members(program, attendees, field="attendees")
    if not people:
        raise ValidationError({"attendees": "record at least one attendee"})
    session = EducationSession(
        program=program,
        kind=kind,
        title=text(title, field="title", max_length=200),
        held_at=held_at,
        duration_min=duration_min,
        facilitator=member(program, facilitator, field="facilitator")
        if facilitator not in (None, "")
        else None,
        notes=text(notes, field="notes", max_length=4000, required=False),
        recorded_by=user_of(actor),
    )
    session.save()
    rows = [SessionAttendance(session=session, user=u, role=member_role(program, u) or "") for u in people]
    SessionAttendance.objects.bulk_create(rows)
    kernel.audit(
        actor,
        "education.session_recorded",
        session,
        after={**snapshot(session), "attendees": [u.pk for u in people]},
    )
    return session


@transaction.atomic
def create_shift(
    *,
    actor: Any,
    program: Program,
    name: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    members_on: list[Any],
) -> Shift:
    kernel.require(actor, "governance.manage", program)
    starts_at = kernel.aware(starts_at, field="starts_at")
    ends_at = kernel.aware(ends_at, field="ends_at")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "must be after the start"})
    if ends_at - starts_at > MAX_SHIFT:
        raise ValidationError({"ends_at": "a shift lasts at most 24 hours"})
    people = members(program, members_on, field="members_on")
    if not people:
        raise ValidationError({"members_on": "a shift needs at least one member"})
    shift = Shift(
        program=program,
        name=text(name, field="name", max_length=80),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=user_of(actor),
    )
    shift.save()
    shift.members.set(people)
    kernel.audit(
        actor,
        "education.shift_rostered",
        shift,
        after={**snapshot(shift), "members": [u.pk for u in people]},
    )
    return shift
