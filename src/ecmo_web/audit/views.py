"""The audit-trail page (issue 11 §6): a program's audit events, newest first, filtered by what was done, by
whom, to what kind of record and when; read-only, for the roles holding ``audit.view`` in that program."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ecmo_web.accounts.models import Program
from ecmo_web.audit.models import AuditEvent
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz

PAGE_SIZE = 50


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _filtered(program: Program, params: Any) -> tuple[Any, dict[str, Any]]:
    events = AuditEvent.objects.filter(program=program)
    chosen: dict[str, Any] = {}
    if action := params.get("action", "").strip():
        events = events.filter(action=action)
        chosen["action"] = action
    if actor := params.get("actor", "").strip():
        events = events.filter(actor_name__icontains=actor)
        chosen["actor"] = actor
    if kind := params.get("object_type", "").strip():
        events = events.filter(object_type=kind)
        chosen["object_type"] = kind
    if text := params.get("q", "").strip():
        events = events.filter(Q(object_repr__icontains=text) | Q(object_id=text) | Q(reason__icontains=text))
        chosen["q"] = text
    zone = program_tz(program)
    if start := _day(params.get("from", "")):
        events = events.filter(at__gte=dt.datetime.combine(start, dt.time(), tzinfo=zone))
        chosen["from"] = start.isoformat()
    if end := _day(params.get("to", "")):
        events = events.filter(at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone))
        chosen["to"] = end.isoformat()
    return events, chosen


@login_required
def audit_trail(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "audit.view", pk=program_id)
    events, chosen = _filtered(program, request.GET)
    page = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    own = AuditEvent.objects.filter(program=program)
    query = urlencode(chosen)
    return render(
        request,
        "audit/trail.html",
        {
            "program": program,
            "page": page,
            "chosen": chosen,
            "query": query,
            "actions": own.order_by("action").values_list("action", flat=True).distinct(),
            "object_types": own.order_by("object_type").values_list("object_type", flat=True).distinct(),
        },
    )
