"""Quality API (core-api §6): adverse events, the M&M case packet and KPIs.

- ``GET /api/v1/adverse-events[?run_id=&lot=&code=&category=&since=&until=]`` — events the caller may see;
  ``lot`` searches one component lot across every run (a recall check).
- ``POST /api/v1/adverse-events`` — ``{"run_id", "code", "severity", "onset_at", "category"?, "component_id"?,
  "lot"?, "alert_id"?, "action_taken"?, "description"?}``; 201 with the event.
- ``GET /api/v1/adverse-events/{event_id}``.
- ``GET /api/v1/mm-cases/{case_id}/packet.pdf`` — the committee's PDF.
- ``GET /api/v1/kpis?start=&end=[&mode=&unit=&program_id=]`` — a list of ``{"key", "label", "value",
  "numerator", "denominator", "unit"}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status

from ecmo_web import apibody
from ecmo_web.accounts.models import Program
from ecmo_web.permissions import programs_for, restrict, role_in
from ecmo_web.quality import actions
from ecmo_web.quality.kpis import compute_for_program, parse_period
from ecmo_web.quality.models import AdverseEvent, MmCase
from ecmo_web.quality.packet import render_packet_pdf
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance.models import Alert

router = Router(tags=["quality"])


class AdverseEventIn(Schema):
    run_id: int
    code: str
    severity: str
    onset_at: dt.datetime
    category: str = ""
    component_id: int | None = None
    lot: str = ""
    alert_id: int | None = None
    action_taken: str = ""
    description: str = ""


class AdverseEventOut(Schema):
    id: int
    run_id: int
    patient: str
    category: str
    category_label: str
    code: str
    code_label: str
    ecls_cdm: str
    severity: str
    onset_at: dt.datetime
    component_id: int | None
    component: str | None
    lot: str
    alert_id: int | None
    action_taken: str
    description: str
    recorded_by: str | None
    recorded_at: dt.datetime


class KpiOut(Schema):
    key: str
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str


def event_dict(event: AdverseEvent) -> dict[str, Any]:
    from ecmo_web.quality.codes import code_list

    found = code_list().get(event.code)
    return {
        "id": event.pk,
        "run_id": event.run_id,
        "patient": event.run.patient.code,
        "category": event.category,
        "category_label": event.category_label,
        "code": event.code,
        "code_label": event.code_label,
        "ecls_cdm": found.ecls_cdm if found else "",
        "severity": event.severity,
        "onset_at": event.onset_at,
        "component_id": event.component_id,
        "component": str(event.component) if event.component is not None else None,
        "lot": event.lot,
        "alert_id": event.alert_id,
        "action_taken": event.action_taken,
        "description": event.description,
        "recorded_by": event.recorded_by.get_username() if event.recorded_by is not None else None,
        "recorded_at": event.recorded_at,
    }


def _datetime(value: str | None, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: "use an ISO 8601 date-time with a time zone"}) from None
    if parsed.tzinfo is None:
        raise ValidationError({field: "must include a time zone"})
    return parsed


def event_queryset() -> Any:
    return AdverseEvent.objects.select_related("run__patient", "component", "recorded_by")


@router.get("/adverse-events", response=list[AdverseEventOut])
def list_adverse_events(
    request: HttpRequest,
    run_id: int | None = None,
    lot: str | None = None,
    code: str | None = None,
    category: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Adverse events in the caller's programs, newest first. ``lot`` matches the component lot exactly (case
    ignored) across every run: the recall check."""
    if not programs_for(request.user, "run.view"):
        raise PermissionDenied("your role does not see adverse events")
    qs = restrict(event_queryset(), request.user, "run.view")
    if run_id is not None:
        qs = qs.filter(run_id=run_id)
    if lot:
        qs = qs.filter(lot__iexact=lot.strip())
    if code:
        qs = qs.filter(code=code)
    if category:
        qs = qs.filter(category=category)
    start, end = _datetime(since, "since"), _datetime(until, "until")
    if start is not None:
        qs = qs.filter(onset_at__gte=start)
    if end is not None:
        qs = qs.filter(onset_at__lt=end)
    return [event_dict(e) for e in qs[:1000]]


@router.post("/adverse-events", response={201: AdverseEventOut})
def create_adverse_event(request: HttpRequest) -> Status[dict[str, Any]]:
    body: AdverseEventIn = apibody.parse(request, AdverseEventIn)
    run = get_checked(
        EcmoRun.objects.select_related("program"), request.user, "adverse_event.record", pk=body.run_id
    )
    component = alert = None
    if body.component_id is not None:
        component = Component.objects.filter(pk=body.component_id, circuit__run=run).first()
        if component is None:
            raise ValidationError({"component_id": "not a component of this run"})
    if body.alert_id is not None:
        alert = Alert.objects.filter(pk=body.alert_id, run=run).first()
        if alert is None:
            raise ValidationError({"alert_id": "not an alert of this run"})
    event = actions.record_adverse_event(
        actor=request.user,
        run=run,
        code=body.code,
        severity=body.severity,
        onset_at=body.onset_at,
        category=body.category,
        component=component,
        lot=body.lot,
        alert=alert,
        action_taken=body.action_taken,
        description=body.description,
    )
    return Status(201, event_dict(event_queryset().get(pk=event.pk)))


@router.get("/adverse-events/{event_id}", response=AdverseEventOut)
def get_adverse_event(request: HttpRequest, event_id: int) -> dict[str, Any]:
    return event_dict(get_checked(event_queryset(), request.user, "run.view", pk=event_id))


@router.get("/mm-cases/{case_id}/packet.pdf")
def mm_packet(request: HttpRequest, case_id: int) -> HttpResponse:
    """The M&M case packet as a PDF: timeline, trends around the event, discussion, factors and actions."""
    case = get_checked(
        MmCase.objects.select_related("run__program", "run__patient"), request.user, "run.view", pk=case_id
    )
    pdf = render_packet_pdf(case, request.user, now=timezone.now())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="mm-case-{case.pk}.pdf"'
    return response


@router.get("/kpis", response=list[KpiOut])
def kpis(
    request: HttpRequest,
    start: str = "",
    end: str = "",
    mode: str = "",
    unit: str = "",
    program_id: int | None = None,
) -> list[dict[str, Any]]:
    """Every KPI for the period [start, end) of one program (``program_id``, needed only when the caller sees
    several), optionally for one mode (``vv``, ``va``, ``hybrid`` or a mode code) and unit (location prefix)."""
    ids = programs_for(request.user, "kpi.view")
    if program_id is not None:
        if role_in(request.user, program_id) is None:
            raise Http404("not found")
        if program_id not in ids:
            raise PermissionDenied("your role does not see quality indicators")
        ids = [program_id]
    if not ids:
        raise PermissionDenied("your role does not see quality indicators")
    if len(ids) > 1:
        raise ValidationError({"program_id": "you see several programs: name one"})
    program = Program.objects.get(pk=ids[0])
    period = parse_period(start, end, program)
    values = compute_for_program(program, period, mode=mode, unit=unit, now=timezone.now())
    return [
        {
            "key": v.key,
            "label": v.label,
            "value": v.value,
            "numerator": v.numerator,
            "denominator": v.denominator,
            "unit": v.unit,
        }
        for v in values
    ]
