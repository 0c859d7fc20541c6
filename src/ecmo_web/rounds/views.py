"""Rounds pages: the board for a day (start rounds, attendance, sections, goals), and the printable handover."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_web import live
from ecmo_web.accounts.models import Program, Role
from ecmo_web.decisions.forms import member_choices
from ecmo_web.permissions import can
from ecmo_web.rounds import actions, board
from ecmo_web.rounds.models import Discipline, Goal, RoundsEntry, RoundsSession
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz, to_local


def _program(request: HttpRequest, program_id: int, action: str = "run.view") -> Program:
    return get_checked(Program.objects.all(), request.user, action, pk=program_id)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Http404("not a date (use YYYY-MM-DD)") from None


def today(program: Program) -> dt.date:
    local = to_local(timezone.now(), program)
    assert local is not None
    return local.date()


@login_required
def board_today(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    return redirect("rounds_board", program_id=program.pk, date=today(program).isoformat())


def _context(request: HttpRequest, program: Program, date: dt.date) -> dict[str, Any]:
    data = board.build(program, date, request.user)
    runs_preview = []
    if data["session"] is None:
        end = dt.datetime.combine(date, dt.time(23, 59), tzinfo=program_tz(program))
        runs_preview = list(actions.active_runs(program, min(end, timezone.now())).select_related("patient"))
    return {
        **data,
        "today": today(program),
        "runs_preview": runs_preview,
        "can_round": can(request.user, "rounds.record", program),
        "can_perfusion": can(request.user, "rounds.perfusion", program),
        "members": member_choices(program),
        "roles": Role.choices,
        "disciplines": Discipline.choices,
        "prev_date": date - dt.timedelta(days=1),
        "next_date": date + dt.timedelta(days=1),
    }


@login_required
@live.live_page(live.program_page("rounds"))
def board_page(request: HttpRequest, program_id: int, date: str) -> HttpResponse:
    program = _program(request, program_id)
    return render(request, "rounds/board.html", _context(request, program, _date(date)))


@login_required
def handover(request: HttpRequest, program_id: int, date: str) -> HttpResponse:
    program = _program(request, program_id)
    return render(request, "rounds/handover.html", _context(request, program, _date(date)))


@login_required
@require_POST
def start(request: HttpRequest, program_id: int, date: str) -> HttpResponse:
    program = _program(request, program_id, "rounds.record")
    day = _date(date)
    now = timezone.now()
    if day > today(program):
        messages.error(request, "Rounds cannot start before their day.")
        return redirect("rounds_board", program_id=program.pk, date=day.isoformat())
    # Rounds for an earlier day are recorded as held at 08:30 that day (entered afterwards).
    started_at = (
        now
        if day == today(program)
        else dt.datetime.combine(day, dt.time(8, 30), tzinfo=program_tz(program)).astimezone(dt.UTC)
    )
    try:
        actions.start_session(actor=request.user, program=program, date=day, started_at=started_at)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("rounds_board", program_id=program.pk, date=day.isoformat())


def _session(request: HttpRequest, session_id: int, action: str) -> RoundsSession:
    return get_checked(RoundsSession.objects.select_related("program"), request.user, action, pk=session_id)


@login_required
@require_POST
def attendance(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id, "rounds.record")
    try:
        actions.record_attendance(
            actor=request.user,
            session=session,
            user=int(request.POST["user"]) if request.POST.get("user") else None,
            name=request.POST.get("name", ""),
            role=request.POST.get("role", ""),
            capacity=request.POST.get("capacity", ""),
        )
    except ValidationError as exc:
        messages.error(request, "Attendance: " + "; ".join(exc.messages))
    return redirect("rounds_board", program_id=session.program_id, date=session.date.isoformat())


@login_required
@require_POST
def write_section(request: HttpRequest, entry_id: int, discipline: str) -> HttpResponse:
    entry = get_checked(
        RoundsEntry.objects.select_related("session__program", "run"),
        request.user,
        "rounds.record" if discipline != Discipline.PERFUSION else "rounds.perfusion",
        pk=entry_id,
    )
    error = ""
    try:
        actions.write_section(
            actor=request.user,
            entry=entry,
            discipline=discipline,
            text=request.POST.get("text", ""),
            reason=request.POST.get("reason", ""),
            version=request.POST.get("version") or None,
        )
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    except PermissionDenied:
        raise
    if request.htmx:  # type: ignore[attr-defined]
        data = board.build(entry.session.program, entry.session.date, request.user)
        card = next(c for c in data["cards"] if c["entry"].pk == entry.pk)
        section = next(s for s in card["sections"] if s["discipline"] == discipline)
        return render(
            request,
            "rounds/_section.html",
            {
                "card": card,
                "s": section,
                "error": error,
                "program": entry.session.program,
                "draft": request.POST.get("text", ""),
            },
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect(
        f"/programs/{entry.session.program_id}/rounds/{entry.session.date.isoformat()}/#run-{entry.run_id}"
    )


@login_required
@require_POST
def write_section_any(request: HttpRequest, entry_id: int) -> HttpResponse:
    """The "write a section for another discipline" form: the discipline comes with the form."""
    discipline = request.POST.get("discipline", "")
    if discipline not in Discipline.values:
        raise Http404("no such discipline")
    return write_section(request, entry_id, discipline)


@login_required
@require_POST
def refresh(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_checked(
        RoundsEntry.objects.select_related("session__program", "run__program"),
        request.user,
        "rounds.perfusion",
        pk=entry_id,
    )
    actions.refresh_perfusion_summary(actor=request.user, entry=entry)
    return redirect(
        f"/programs/{entry.session.program_id}/rounds/{entry.session.date.isoformat()}/#run-{entry.run_id}"
    )


@login_required
@require_POST
def add_goal(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_checked(
        RoundsEntry.objects.select_related("session__program", "run"),
        request.user,
        "rounds.record",
        pk=entry_id,
    )
    try:
        actions.add_goal(
            actor=request.user,
            session=entry.session,
            run=entry.run,
            text=request.POST.get("text", ""),
            discipline=request.POST.get("discipline", ""),
        )
    except ValidationError as exc:
        messages.error(request, "Goal: " + "; ".join(exc.messages))
    return redirect(
        f"/programs/{entry.session.program_id}/rounds/{entry.session.date.isoformat()}/#run-{entry.run_id}"
    )


@login_required
@require_POST
def tick_goal(request: HttpRequest, goal_id: int, session_id: int) -> HttpResponse:
    goal = get_checked(
        Goal.objects.select_related("run__program", "set_in"), request.user, "rounds.record", pk=goal_id
    )
    session = _session(request, session_id, "rounds.record")
    try:
        actions.tick_goal(actor=request.user, goal=goal, session=session, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, "Goal: " + "; ".join(exc.messages))
    return redirect(f"/programs/{session.program_id}/rounds/{session.date.isoformat()}/#run-{goal.run_id}")
