"""Every write to rounds: sessions, attendance, discipline sections, goals, the perfusion summary.

``rounds.record`` runs rounds; a discipline's section is written by the roles of that discipline (the perfusion
section by ``rounds.perfusion``: perfusionists and ECMO specialists), so each voice stays its own. Edits keep the
earlier text; editing someone else's section needs a reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ecmo_web.accounts.models import Program, Role
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import Submitted, audit, aware, expect_version, member, member_role, require, user_of
from ecmo_web.permissions import may_write_section
from ecmo_web.rounds import perfusion
from ecmo_web.rounds.models import Attendance, Discipline, Goal, RoundsEntry, RoundsSection, RoundsSession
from ecmo_web.runs.models import EcmoRun
from ecmo_web.timezones import to_local


def may_write(user: Any, entry: RoundsEntry, discipline: str) -> bool:
    """Who writes which section is decided in ``permissions`` (``SECTION_ROLES``)."""
    return may_write_section(user, entry, discipline)


def active_runs(program: Program, at: dt.datetime) -> QuerySet[EcmoRun]:
    return (
        EcmoRun.objects.filter(program=program, started_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .order_by("patient__code")
    )


@transaction.atomic
def start_session(
    *,
    actor: Any,
    program: Program,
    date: dt.date,
    started_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> RoundsSession:
    """Start rounds for a day: one entry per run on ECMO at the start, each with its perfusion summary of the last
    24 h generated then."""
    require(actor, "rounds.record", program)
    now = now or timezone.now()
    started_at = aware(started_at or now, field="started_at")
    local = to_local(started_at, program)
    assert local is not None
    if local.date() != date:
        raise ValidationError({"started_at": f"must be on {date:%Y-%m-%d} in {program.time_zone}"})
    if RoundsSession.objects.filter(program=program, date=date).exists():
        raise ValidationError({"date": f"rounds for {date:%Y-%m-%d} have already started"})
    session = RoundsSession(program=program, date=date, started_at=started_at, created_by=user_of(actor))
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError:  # two people pressed "start" at once
        raise ValidationError({"date": f"rounds for {date:%Y-%m-%d} have already started"}) from None
    moment = min(started_at, now)
    for position, run in enumerate(
        active_runs(program, started_at).prefetch_related("circuits__components", "mcs_devices__settings")
    ):
        RoundsEntry.objects.create(
            session=session,
            run=run,
            position=position,
            perfusion_summary=perfusion.generate(run, moment),
            summary_generated_at=moment,
        )
    audit(
        actor=actor,
        action="rounds.session_started",
        obj=session,
        after={**snapshot(session), "runs": list(session.entries.values_list("run_id", flat=True))},
    )
    return session


@transaction.atomic
def refresh_perfusion_summary(
    *, actor: Any, entry: RoundsEntry, now: dt.datetime | None = None
) -> RoundsEntry:
    require(actor, "rounds.perfusion", entry)
    now = now or timezone.now()
    before = {"summary_generated_at": entry.summary_generated_at}
    entry.perfusion_summary = perfusion.generate(entry.run, now)
    entry.summary_generated_at = now
    entry.save(update_fields=["perfusion_summary", "summary_generated_at"])
    audit(
        actor=actor,
        action="rounds.perfusion_summary_refreshed",
        obj=entry,
        before=before,
        after={"summary_generated_at": now},
    )
    return entry


@transaction.atomic
def record_attendance(
    *,
    actor: Any,
    session: RoundsSession,
    user: Any = None,
    name: str = "",
    role: str = "",
    capacity: str = "",
) -> Attendance:
    """A member (role defaults to their membership role) or a named person with a free-text role."""
    require(actor, "rounds.record", session)
    if capacity not in ("", "chair", "observer"):
        raise ValidationError({"capacity": "attending, chair or observer"})
    if user is not None and user != "":
        person = member(session.program_id, user, field="user")
        if session.attendance.filter(user=person).exists():
            raise ValidationError({"user": f"{person.get_username()} is already recorded as attending"})
        role = role or member_role(session.program_id, person) or ""
        if role not in Role.values:
            raise ValidationError({"role": f"{role!r} is not a role; leave it empty for their program role"})
        row = Attendance(
            session=session, user=person, role=role, capacity=capacity, recorded_by=user_of(actor)
        )
    else:
        if not name.strip() or not role.strip():
            raise ValidationError(
                {"name": "someone without an account needs a name and a role (e.g. dietitian)"}
            )
        row = Attendance(
            session=session,
            name=name.strip(),
            role=role.strip(),
            capacity=capacity,
            recorded_by=user_of(actor),
        )
    if capacity == "chair" and session.attendance.filter(capacity="chair").exists():
        raise ValidationError({"capacity": "rounds already have a chair"})
    row.full_clean()
    row.save()
    audit(
        actor=actor,
        action="rounds.attendance_recorded",
        obj=session,
        after={"user_id": row.user_id, "name": row.name, "role": row.role, "capacity": row.capacity},
    )
    return row


@transaction.atomic
def write_section(
    *,
    actor: Any,
    entry: RoundsEntry,
    discipline: str,
    text: str,
    reason: str = "",
    version: Submitted = None,
) -> RoundsSection:
    """Write or edit a discipline's section. The earlier text is kept in ``history``; editing a colleague's text
    needs a reason. ``version``: the section's version the editor read (0 when it was unwritten); if someone
    wrote it meanwhile, kernel.VersionConflict and nothing is saved."""
    if discipline not in Discipline.values:
        raise ValidationError({"discipline": f"use one of {', '.join(Discipline.values)}"})
    require(actor, "rounds.perfusion" if discipline == Discipline.PERFUSION else "rounds.record", entry)
    if not may_write(actor, entry, discipline):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(f"your role does not write the {Discipline(discipline).label.lower()} section")
    if not text.strip():
        raise ValidationError({"text": "write the section (or leave it unwritten)"})
    now = timezone.now()
    role = member_role(entry.session.program_id, actor) or ""
    RoundsEntry.objects.select_for_update().filter(
        pk=entry.pk
    ).first()  # one writer per entry: no double create
    section = RoundsSection.objects.select_for_update().filter(entry=entry, discipline=discipline).first()
    if section is None and version not in (None, "", 0, "0"):
        raise ValidationError({"version": "this section has no earlier version: reload the page"})
    if section is not None:
        expect_version(section, 0 if version in (0, "0") else version)
    if section is None:
        section = RoundsSection(
            entry=entry,
            discipline=discipline,
            text=text.strip(),
            author=user_of(actor),
            author_role=role,
            updated_at=now,
        )
        section.save()
        audit(actor=actor, action="rounds.section_written", obj=section, after=snapshot(section))
        return section
    if section.text == text.strip():
        return section
    if section.author_id != getattr(actor, "pk", None) and not reason.strip():
        raise ValidationError({"reason": "say why you are changing a colleague's section"})
    before = snapshot(section)
    section.history = [
        *section.history,
        {
            "text": section.text,
            "author_id": section.author_id,
            "author_role": section.author_role,
            "at": section.updated_at.isoformat(),
            "replaced_reason": reason.strip(),
        },
    ]
    section.text, section.author, section.author_role, section.updated_at = (
        text.strip(),
        user_of(actor),
        role,
        now,
    )
    section.save()
    audit(
        actor=actor,
        action="rounds.section_amended",
        obj=section,
        before=before,
        after=snapshot(section),
        reason=reason,
    )
    return section


@transaction.atomic
def add_goal(*, actor: Any, session: RoundsSession, run: EcmoRun, text: str, discipline: str = "") -> Goal:
    require(actor, "rounds.record", session)
    if run.program_id != session.program_id:
        raise ValidationError({"run": "belongs to another program"})
    if not text.strip():
        raise ValidationError({"text": "write the goal"})
    if discipline and discipline not in Discipline.values:
        raise ValidationError({"discipline": f"use one of {', '.join(Discipline.values)}"})
    goal = Goal(
        run=run,
        text=text.strip()[:300],
        discipline=discipline,
        set_in=session,
        set_by=user_of(actor),
        set_at=timezone.now(),
    )
    goal.full_clean()
    goal.save()
    audit(actor=actor, action="rounds.goal_set", obj=goal, after=snapshot(goal))
    return goal


@transaction.atomic
def tick_goal(*, actor: Any, goal: Goal, session: RoundsSession, note: str = "") -> Goal:
    """Tick a goal off at a session (it stops carrying over after that session)."""
    require(actor, "rounds.record", goal)
    if goal.done_at is not None:
        raise ValidationError({"goal": "already ticked off"})
    if session.program_id != goal.run.program_id or session.date < goal.set_in.date:
        raise ValidationError({"session": "tick a goal off at a session on or after the one that set it"})
    before = snapshot(goal)
    goal.done_in, goal.done_by, goal.done_at, goal.done_note = (
        session,
        user_of(actor),
        timezone.now(),
        note.strip(),
    )
    goal.save(update_fields=["done_in", "done_by", "done_at", "done_note"])
    audit(actor=actor, action="rounds.goal_ticked", obj=goal, before=before, after=snapshot(goal))
    return goal


def goals_for(session_date: dt.date, runs: list[int], program_id: int) -> QuerySet[Goal]:
    """Goals shown at a session on ``session_date``: set on or before it, not ticked off before it."""
    return (
        Goal.objects.filter(run_id__in=runs, run__program_id=program_id, set_in__date__lte=session_date)
        .filter(Q(done_in__isnull=True) | Q(done_in__date__gte=session_date))
        .select_related("set_in", "done_in", "done_by")
        .order_by("set_at", "id")
    )
