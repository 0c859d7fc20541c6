"""Quality pages: adverse events (record, list, recall search by lot), M&M cases (packet, discussion, input,
factors, actions), the KPI dashboard and clinical audits. Thin: load with permission, call an action, render."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_core import quality as core
from ecmo_web.accounts.models import Program
from ecmo_web.decisions.forms import member_choices
from ecmo_web.forms import submit
from ecmo_web.permissions import can, restrict
from ecmo_web.quality import actions
from ecmo_web.quality.codes import code_list
from ecmo_web.quality.forms import (
    ActionForm,
    AdverseEventForm,
    AuditForm,
    AuditRunForm,
    CaseForm,
    CloseActionForm,
    ContributionForm,
    DiscussionForm,
    FactorForm,
    KpiFilterForm,
)
from ecmo_web.quality.kpis import MODE_FILTERS, compute_for_program, series_for_program
from ecmo_web.quality.models import AdverseEvent, AuditRound, ClinicalAudit, MmAction, MmCase
from ecmo_web.quality.packet import packet_context, render_packet_pdf
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import to_local


def _program(request: HttpRequest, program_id: int, action: str = "run.view") -> Program:
    return get_checked(Program.objects.all(), request.user, action, pk=program_id)


def _events(program: Program) -> Any:
    return AdverseEvent.objects.filter(run__program=program).select_related(
        "run__patient", "component", "recorded_by", "alert"
    )


# --- adverse events -------------------------------------------------------------------------------------------


@login_required
def events(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    qs = _events(program)
    category = request.GET.get("category", "")
    if category:
        qs = qs.filter(category=category)
    return render(
        request,
        "quality/events.html",
        {
            "program": program,
            "events": list(qs[:500]),
            "categories": code_list().categories,
            "category": category,
            "runs": EcmoRun.objects.filter(program=program).select_related("patient").order_by("-started_at"),
            "can_record": can(request.user, "adverse_event.record", program),
        },
    )


@login_required
def lot_search(request: HttpRequest, program_id: int) -> HttpResponse:
    """Recall check: every component with this lot on any run of the program, and every event naming it."""
    program = _program(request, program_id)
    lot = request.GET.get("lot", "").strip()
    components: list[Component] = []
    found: list[AdverseEvent] = []
    if lot:
        components = list(
            restrict(Component.objects.filter(lot__iexact=lot), request.user, "run.view")
            .filter(circuit__run__program=program)
            .select_related("circuit__run__patient")
            .order_by("installed_at")
        )
        found = list(_events(program).filter(lot__iexact=lot))
    return render(
        request,
        "quality/lot_search.html",
        {"program": program, "lot": lot, "components": components, "events": found, "now": timezone.now()},
    )


@login_required
def record_event(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_checked(
        EcmoRun.objects.select_related("program", "patient"), request.user, "adverse_event.record", pk=run_id
    )
    now = timezone.now()
    initial: dict[str, Any] = {}
    alert_id = request.GET.get("alert", "")
    source_alert = run.alerts.filter(pk=alert_id).first() if alert_id.isdigit() else None
    if source_alert is not None:
        initial = prefill_from_alert(run, source_alert)
    form = AdverseEventForm(request.POST or None, run=run, initial=initial, now=now)
    if request.method == "POST":

        def perform(data: dict[str, Any]) -> AdverseEvent:
            component = (
                Component.objects.filter(pk=data["component"], circuit__run=run).first()
                if data["component"]
                else None
            )
            alert = run.alerts.filter(pk=data["alert"]).first() if data["alert"] else None
            return actions.record_adverse_event(
                actor=request.user,
                run=run,
                code=data["code"],
                severity=data["severity"],
                onset_at=data["onset_at"],
                component=component,
                lot=data["lot"],
                alert=alert,
                action_taken=data["action_taken"],
                description=data["description"],
            )

        done = submit(form, perform)
        if done is not None:
            messages.success(request, "Adverse event recorded.")
            return redirect("quality_event_detail", event_id=done.value.pk)
    return render(
        request,
        "quality/event_form.html",
        {"form": form, "run": run, "program": run.program, "source_alert": source_alert},
    )


def prefill_from_alert(run: EcmoRun, alert: Any) -> dict[str, Any]:
    """What an alert tells about the event: its onset, the code its rule suggests, the component it concerns
    (the one resolved against it, or the in-use component of the kind the rule watches), and its lot."""
    initial: dict[str, Any] = {"alert": str(alert.pk)}
    onset = to_local(alert.firing_since or alert.opened_at, run.program)
    assert onset is not None
    initial["onset_at"] = onset.replace(second=0, microsecond=0, tzinfo=None)
    suggested = code_list().for_rule(alert.rule_id)
    if suggested is not None:
        initial["code"] = suggested.code
    initial["severity"] = "severe" if alert.peak_severity == "critical" else "moderate"
    component = alert.resolved_component
    if component is None:
        kind = {"oxygenator": "oxygenator", "pump": "pump_head"}.get(alert.rule_id.split(".")[0])
        if kind is not None:
            at = alert.firing_since or alert.opened_at
            component = (
                Component.objects.filter(circuit__run=run, kind=kind, installed_at__lte=at)
                .exclude(removed_at__lt=at)
                .order_by("-installed_at")
                .first()
            )
    if component is not None:
        initial["component"] = str(component.pk)
        initial["lot"] = component.lot
    actions_done = [alert.acknowledged_comment, alert.resolved_comment]
    initial["action_taken"] = "\n".join(a for a in actions_done if a)
    initial["description"] = alert.message
    return initial


@login_required
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_checked(
        AdverseEvent.objects.select_related(
            "run__program", "run__patient", "component", "alert", "recorded_by"
        ),
        request.user,
        "run.view",
        pk=event_id,
    )
    found = code_list().get(event.code)
    return render(
        request,
        "quality/event_detail.html",
        {
            "event": event,
            "run": event.run,
            "program": event.run.program,
            "ecls_cdm": found.ecls_cdm if found else "",
            "cases": list(event.mm_cases.all()),
            "can_open_case": can(request.user, "mm.manage", event),
        },
    )


# --- M&M ------------------------------------------------------------------------------------------------------


@login_required
def mm_cases(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    cases = list(
        MmCase.objects.filter(run__program=program)
        .select_related("run__patient", "event")
        .prefetch_related("actions")
    )
    open_actions = list(
        MmAction.objects.filter(case__run__program=program, closed_at__isnull=True)
        .select_related("owner", "case")
        .order_by("due_on")
    )
    return render(
        request,
        "quality/mm_cases.html",
        {
            "program": program,
            "cases": cases,
            "open_actions": open_actions,
            "today": to_local(timezone.now(), program).date(),
            "can_manage": can(request.user, "mm.manage", program),
        },
    )


@login_required
def mm_new(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "mm.manage")
    runs = list(EcmoRun.objects.filter(program=program).select_related("patient").order_by("-started_at"))
    evs = list(_events(program))
    initial: dict[str, Any] = {}
    event_id = request.GET.get("event", "")
    chosen = next((e for e in evs if str(e.pk) == event_id), None)
    if chosen is not None:
        initial = {
            "run": str(chosen.run_id),
            "event": str(chosen.pk),
            "title": f"{chosen.code_label} — {chosen.run.patient.code}",
        }
    form = CaseForm(request.POST or None, program=program, runs=runs, events=evs, initial=initial)
    if request.method == "POST":

        def perform(data: dict[str, Any]) -> MmCase:
            run = next(r for r in runs if str(r.pk) == data["run"])
            event = next((e for e in evs if str(e.pk) == data["event"]), None)
            return actions.open_case(
                actor=request.user,
                run=run,
                event=event,
                title=data["title"],
                meeting_on=data["meeting_on"],
                summary=data["summary"],
            )

        done = submit(form, perform)
        if done is not None:
            return redirect("quality_mm_case", case_id=done.value.pk)
    return render(
        request,
        "quality/form.html",
        {"form": form, "program": program, "title": "Open an M&M case", "submit": "Open case"},
    )


def _case(request: HttpRequest, case_id: int, action: str = "run.view") -> MmCase:
    return get_checked(
        MmCase.objects.select_related("run__program", "run__patient", "event"),
        request.user,
        action,
        pk=case_id,
    )


def _case_page(request: HttpRequest, case: MmCase, **forms: Any) -> HttpResponse:
    program = case.run.program
    now = timezone.now()
    context = packet_context(case, now=now)
    context.update(
        {
            "program": program,
            "can_manage": can(request.user, "mm.manage", case),
            "can_contribute": can(request.user, "mm.contribute", case),
            "discussion_form": forms.get("discussion_form")
            or DiscussionForm(
                program=program, initial={"discussion": case.discussion, "version": case.version}
            ),
            "contribution_form": forms.get("contribution_form") or ContributionForm(program=program),
            "factor_form": forms.get("factor_form") or FactorForm(program=program),
            "action_form": forms.get("action_form")
            or ActionForm(program=program, members=member_choices(program)),
            "close_form": CloseActionForm(program=program),
            "close_errors": forms.get("close_errors"),
            "today": to_local(now, program).date(),
        }
    )
    return render(request, "quality/mm_case.html", context, status=400 if forms else 200)


@login_required
def mm_case(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, _case(request, case_id))


@login_required
def mm_packet(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    response = HttpResponse(
        render_packet_pdf(case, request.user, now=timezone.now()), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="mm-case-{case.pk}.pdf"'
    return response


@login_required
@require_POST
def mm_discussion(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, "mm.manage")
    form = DiscussionForm(request.POST, program=case.run.program)
    if (
        submit(
            form,
            lambda d: actions.update_case(
                actor=request.user, case=case, discussion=d["discussion"], version=d["version"]
            ),
        )
        is None
    ):
        return _case_page(request, case, discussion_form=form)
    messages.success(request, "Discussion saved.")
    return redirect("quality_mm_case", case_id=case.pk)


@login_required
@require_POST
def mm_contribute(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, "mm.contribute")
    form = ContributionForm(request.POST, program=case.run.program)
    if (
        submit(form, lambda d: actions.add_contribution(actor=request.user, case=case, text=d["text"]))
        is None
    ):
        return _case_page(request, case, contribution_form=form)
    return redirect("quality_mm_case", case_id=case.pk)


@login_required
@require_POST
def mm_factor(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, "mm.manage")
    form = FactorForm(request.POST, program=case.run.program)
    if (
        submit(
            form, lambda d: actions.add_factor(actor=request.user, case=case, kind=d["kind"], text=d["text"])
        )
        is None
    ):
        return _case_page(request, case, factor_form=form)
    return redirect("quality_mm_case", case_id=case.pk)


@login_required
@require_POST
def mm_action(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, "mm.manage")
    program = case.run.program
    form = ActionForm(request.POST, program=program, members=member_choices(program))

    def perform(d: dict[str, Any]) -> MmAction:
        return actions.add_action(
            actor=request.user, case=case, text=d["text"], owner=int(d["owner"]), due_on=d["due_on"]
        )

    if submit(form, perform) is None:
        return _case_page(request, case, action_form=form)
    return redirect("quality_mm_case", case_id=case.pk)


@login_required
@require_POST
def mm_action_close(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_checked(
        MmAction.objects.select_related("case__run__program"), request.user, "run.view", pk=action_id
    )
    form = CloseActionForm(request.POST, program=action.case.run.program)
    if (
        submit(form, lambda d: actions.close_action(actor=request.user, action=action, note=d["note"]))
        is None
    ):
        return _case_page(request, action.case, close_errors={"id": action.pk, "errors": form.errors})
    messages.success(request, "Action closed.")
    return redirect("quality_mm_case", case_id=action.case_id)


@login_required
@require_POST
def mm_status(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id, "mm.manage")
    try:
        actions.update_case(
            actor=request.user,
            case=case,
            status=request.POST.get("status", ""),
            version=request.POST.get("version") or None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("quality_mm_case", case_id=case.pk)


# --- KPIs -----------------------------------------------------------------------------------------------------


def _midnight(day: dt.date, program: Program) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(program.time_zone)).astimezone(dt.UTC)


# What the denominator of a median counts, in words.
MEDIAN_ITEMS = {
    "oxygenator_life_hours": "oxygenators removed",
    "alert_acknowledgement_minutes": "alerts acknowledged",
}


def default_range(program: Program, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last twelve weeks, today included (weekly points on the charts)."""
    today = to_local(now, program).date()
    return today - dt.timedelta(days=83), today + dt.timedelta(days=1)


@login_required
def dashboard(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "kpi.view")
    now = timezone.now()
    start, end = default_range(program, now)
    form = KpiFilterForm(request.GET or None, program=program, initial={"start": start, "end": end})
    mode = unit = ""
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        mode, unit = form.cleaned_data["mode"], form.cleaned_data["unit"]
    values: list[core.KpiValue] = []
    charts: list[dict[str, Any]] = []
    if end <= start:
        form.add_error("end", "must be after the start")
    else:
        period = core.Period(_midnight(start, program), _midnight(end, program))
        values = compute_for_program(program, period, mode=mode, unit=unit, now=now)
        days = (end - start).days
        step = 30 if days > 120 else 7 if days > 21 else 1
        for s in series_for_program(program, period, step_days=step, mode=mode, unit=unit, now=now):
            charts.append(
                {
                    "key": s.key,
                    "label": s.label,
                    "unit": s.unit,
                    "x": [int(t.timestamp()) for t in s.starts],
                    "y": [None if v is None else (v * 100 if s.unit == "fraction" else v) for v in s.values],
                }
            )
    by_key = {c["key"]: c for c in charts}
    tiles: list[dict[str, Any]] = []
    for v in values:
        parent = next(
            (t for t in tiles if v.key.startswith(t["kpi"].key + "_") and "survival" in v.key), None
        )
        if parent is not None:  # survival by mode: a line in the overall tile, not a tile of its own
            parent["parts"].append({"label": v.label.split(", ")[-1], "kpi": v})
            continue
        tiles.append(
            {
                "kpi": v,
                "definition": core.kpi(v.key),
                "chart_id": f"kpi-chart-{v.key}",
                "has_chart": v.key in by_key,
                "parts": [],
                "items": MEDIAN_ITEMS.get(v.key, "items"),
            }
        )
    return render(
        request,
        "quality/dashboard.html",
        {
            "program": program,
            "form": form,
            "tiles": tiles,
            "charts_json": charts,
            "mode": MODE_FILTERS.get(mode, ""),
            "unit": unit,
            "start": start,
            "end": end,
        },
    )


# --- audits ---------------------------------------------------------------------------------------------------


@login_required
def audits(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "kpi.view")
    can_manage = can(request.user, "clinical_audit.manage", program)
    if request.method == "POST" and not can_manage:
        raise PermissionDenied("your role does not define audits")
    form = AuditForm(request.POST or None, program=program, initial={"standard_pct": 90})
    if request.method == "POST":

        def perform(d: dict[str, Any]) -> ClinicalAudit:
            return actions.define_audit(
                actor=request.user,
                program=program,
                title=d["title"],
                criterion=d["criterion"],
                standard_fraction=d["standard_pct"] / 100.0,
                sample_size=d["sample_size"],
                notes=d["notes"],
            )

        done = submit(form, perform)
        if done is not None:
            return redirect("quality_audit", audit_id=done.value.pk)
    rows = []
    for audit in ClinicalAudit.objects.filter(program=program).prefetch_related("rounds"):
        rounds = list(audit.rounds.all())
        rows.append({"audit": audit, "latest": rounds[-1] if rounds else None, "count": len(rounds)})
    return render(
        request,
        "quality/audits.html",
        {"program": program, "rows": rows, "form": form, "can_manage": can_manage},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def audit_detail(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = get_checked(
        ClinicalAudit.objects.select_related("program"), request.user, "kpi.view", pk=audit_id
    )
    program = audit.program
    now = timezone.now()
    today = to_local(now, program).date()
    form = AuditRunForm(
        request.POST or None,
        program=program,
        initial={"period_start": today.replace(day=1), "period_end": today + dt.timedelta(days=1)},
    )
    status = 200
    if request.method == "POST":

        def perform(d: dict[str, Any]) -> AuditRound:
            return actions.run_audit(
                actor=request.user,
                audit=audit,
                period_start=_midnight(d["period_start"], program),
                period_end=_midnight(d["period_end"], program),
            )

        done = submit(form, perform)
        if done is not None:
            messages.success(request, "Audit run.")
            return redirect("quality_audit", audit_id=audit.pk)
        status = 400
    rounds = list(audit.rounds.all())
    latest_ids = {item["run_id"] for item in rounds[-1].details} if rounds else set()
    codes = dict(EcmoRun.objects.filter(pk__in=latest_ids).values_list("pk", "patient__code"))
    chart = {
        "x": [int(r.period_end.timestamp()) for r in rounds],
        "y": [None if r.compliance_fraction is None else r.compliance_fraction * 100 for r in rounds],
        "standard": audit.standard_fraction * 100,
    }
    return render(
        request,
        "quality/audit_detail.html",
        {
            "program": program,
            "audit": audit,
            "criterion": core.audit_criterion(audit.criterion),
            "rounds": rounds,
            "latest": rounds[-1] if rounds else None,
            "form": form,
            "can_manage": can(request.user, "clinical_audit.manage", audit),
            "see_cases": can(request.user, "run.view", audit),
            "codes": codes,
            "chart_json": chart,
        },
        status=status,
    )
