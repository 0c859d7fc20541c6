"""Decision sessions: a new session and its page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ecmo_web.accounts.models import Program
from ecmo_web.decisions import actions
from ecmo_web.decisions.forms import (
    SessionForm,
)
from ecmo_web.decisions.models import (
    DecisionSession,
    SessionAttendee,
)
from ecmo_web.decisions.serialize import decision_queryset
from ecmo_web.decisions.views.common import _now
from ecmo_web.forms import submit
from ecmo_web.shortcuts import get_checked


@login_required
def session_new(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "decision.record", pk=program_id)
    form = SessionForm(request.POST or None, program=program, now=_now())
    if request.method == "POST":
        done = submit(
            form,
            lambda d: actions.create_session(
                actor=request.user,
                program=program,
                kind=d["kind"],
                title=d["title"],
                started_at=d["started_at"],
                attendees=form.attendee_rows(),
                location=d["location"],
                notes=d["notes"],
            ),
        )
        if done:
            return redirect("decision_session", session_id=done.value.pk)
    return render(
        request,
        "decisions/session_form.html",
        {"program": program, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = get_checked(
        DecisionSession.objects.select_related("program").prefetch_related(
            Prefetch("attendees", queryset=SessionAttendee.objects.select_related("user"))
        ),
        request.user,
        "run.view",
        pk=session_id,
    )
    decisions = decision_queryset().filter(session=session).select_related("run__patient")
    return render(
        request,
        "decisions/session_detail.html",
        {"program": session.program, "session": session, "decisions": decisions},
    )
