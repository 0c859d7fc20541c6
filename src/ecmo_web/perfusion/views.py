"""Perfusion pages: standby circuits (the app's home), the catalogue with CSV import, circuit and cannula
selection for a run (a ``circuit_selection`` decision), the priming calculator and the program's settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_core import circuit, units
from ecmo_core import profile as core_profile
from ecmo_core.errors import InputError
from ecmo_web.accounts.models import Program
from ecmo_web.calculators.prefill import latest
from ecmo_web.decisions import actions as decision_actions
from ecmo_web.decisions.forms import DecisionForm
from ecmo_web.decisions.models import Kind
from ecmo_web.forms import submit
from ecmo_web.perfusion import profile, site
from ecmo_web.perfusion.actions import catalogue as catalogue_actions
from ecmo_web.perfusion.actions import settings as settings_actions
from ecmo_web.perfusion.actions import standby as standby_actions
from ecmo_web.perfusion.catalogue import ILLUSTRATIVE, format_points
from ecmo_web.perfusion.forms import (
    CatalogueImportForm,
    CloseStandbyForm,
    PrimingForm,
    SettingsForm,
    StandbyForm,
)
from ecmo_web.perfusion.models import StandbyCircuit, StandbyNotice, StandbyStatus
from ecmo_web.perfusion.selection import PARTS, CircuitSelectionForm
from ecmo_web.permissions import can, programs_for
from ecmo_web.runs.models import CatalogueItem, CatalogueKind, EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz


def _program(request: HttpRequest, program_id: int, action: str = "run.view") -> Program:
    return get_checked(Program.objects.all(), request.user, action, pk=program_id)


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id)


# --- Standby circuits (home) ------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    now = timezone.now()
    values = site.current(program)
    warn = dt.timedelta(days=values["standby_warning_days"])
    circuits = list(
        StandbyCircuit.objects.filter(program=program).select_related(
            "oxygenator", "pump", "tubing_pack", "used_on_run__patient"
        )
    )
    standby = [c for c in circuits if c.status == StandbyStatus.STANDBY]
    for c in standby:
        c.flag = "expired" if c.expires_at <= now else "expiring" if c.expires_at - now <= warn else ""
        c.checklist_missing = [label for key, label in standby_actions.CHECKLIST if key not in c.checklist]
    closed = sorted(
        (c for c in circuits if c.status != StandbyStatus.STANDBY),
        key=lambda c: c.closed_at or now,
        reverse=True,
    )[:20]
    may_edit = can(request.user, "circuit.edit", program)
    form = StandbyForm(request.POST or None, program=program, now=now, initial={"prime_type": "crystalloid"})
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("your role does not prime circuits")
        done = submit(
            form,
            lambda d: standby_actions.prime_standby_circuit(
                actor=request.user,
                program=program,
                label=d["label"],
                location=d["location"],
                oxygenator=d["oxygenator"],
                pump=d["pump"],
                tubing_pack=d["tubing_pack"],
                lot=d["lot"],
                prime_type=d["prime_type"],
                prime_volume_ml=d["prime_volume_ml"],
                heparin_iu=d["heparin_iu"],
                primed_at=d["primed_at"],
                checklist=d["checklist"],
                notes=d["notes"],
            ),
        )
        if done is not None:
            messages.success(
                request, f"{done.value.label} recorded on standby until {done.value.expires_at:%d %b}."
            )
            return redirect("perfusion_home", program_id=program.pk)
    notices = StandbyNotice.objects.filter(program=program, acknowledged_at__isnull=True).select_related(
        "circuit"
    )
    return render(
        request,
        "perfusion/standby.html",
        {
            "program": program,
            "standby": standby,
            "closed": closed,
            "notices": notices,
            "form": form,
            "may_edit": may_edit,
            "values": values,
            "close_form": CloseStandbyForm(program=program, now=now),
            "checklist": standby_actions.CHECKLIST,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def standby_close(request: HttpRequest, circuit_id: int) -> HttpResponse:
    c = get_checked(
        StandbyCircuit.objects.select_related("program"), request.user, "circuit.edit", pk=circuit_id
    )
    form = CloseStandbyForm(request.POST, program=c.program)
    done = submit(
        form,
        lambda d: standby_actions.close_standby_circuit(
            actor=request.user, circuit=c, status=d["status"], at=d["at"], reason=d["reason"], run=d["run"]
        ),
    )
    if done is None:
        errors = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        messages.error(request, f"{c.label} not closed — {errors}")
    else:
        messages.success(request, f"{c.label}: {c.get_status_display().lower()}.")
    return redirect("perfusion_home", program_id=c.program_id)


@login_required
@require_POST
def standby_checklist(request: HttpRequest, circuit_id: int) -> HttpResponse:
    c = get_checked(StandbyCircuit.objects.all(), request.user, "circuit.edit", pk=circuit_id)
    try:
        standby_actions.confirm_checklist(
            actor=request.user, circuit=c, keys=request.POST.getlist("checklist")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("perfusion_home", program_id=c.program_id)


@login_required
@require_POST
def notice_acknowledge(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = get_checked(StandbyNotice.objects.all(), request.user, "circuit.edit", pk=notice_id)
    try:
        standby_actions.acknowledge_notice(actor=request.user, notice=notice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("perfusion_home", program_id=notice.program_id)


# --- Catalogue ----------------------------------------------------------------------------------------------


@login_required
def catalogue_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "calculator.use")
    may_manage = bool(programs_for(request.user, "catalogue.manage"))
    form = CatalogueImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("your role does not maintain the catalogue")
        if form.is_valid():
            try:
                result = catalogue_actions.import_catalogue(actor=request.user, text=form.cleaned_data["csv"])
            except ValidationError as exc:
                errors = exc.message_dict.get("csv", exc.messages)
            else:
                messages.success(
                    request, f"Catalogue imported: {result.created} added, {result.updated} updated."
                )
                return redirect("perfusion_catalogue", program_id=program.pk)
    items = list(CatalogueItem.objects.order_by("kind", "cannula_purpose", "size_fr", "maker", "model"))
    groups: dict[str, list[CatalogueItem]] = {}
    for item in items:
        item.points_text = format_points(item.pressure_flow_points)
        item.return_points_text = format_points(item.return_pressure_flow_points)
        groups.setdefault(item.get_kind_display(), []).append(item)
    curves = [
        {
            "label": f"{i.size_fr} Fr {i.get_cannula_purpose_display().lower()}"
            + (" (drainage lumen)" if i.return_pressure_flow_points else ""),
            "points": i.pressure_flow_points,
        }
        for i in items
        if i.kind == CatalogueKind.CANNULA and i.active and i.pressure_flow_points
    ]
    return render(
        request,
        "perfusion/catalogue.html",
        {
            "program": program,
            "groups": groups,
            "form": form,
            "errors": errors,
            "may_manage": may_manage,
            "illustrative": ILLUSTRATIVE,
            "curves": curves,
        },
        status=400 if errors or (request.method == "POST" and form.errors) else 200,
    )


# --- Circuit and cannula selection --------------------------------------------------------------------------


def _selection_rows(form: CircuitSelectionForm) -> list[dict[str, Any]]:
    """One table per part: every item, whether it passes and why, the proposal and the current choice marked."""
    r = form.result
    if r is None:
        return []
    chosen = {name: form.cleaned_data.get(name) for name, _ in PARTS}
    prefs = form.prefs
    tables: list[tuple[str, str, tuple[circuit.ItemCheck | circuit.CannulaCheck, ...]]] = [
        ("Oxygenator", "oxygenator", r.oxygenators),
        ("Pump head", "pump", r.pumps),
        ("Tubing pack", "tubing_pack", r.tubing_packs),
    ]
    if r.dual_lumen_cannulas and form.cleaned_data.get("dual_lumen"):
        tables.append(("Dual-lumen cannula", "dual_lumen_cannula", r.dual_lumen_cannulas))
    else:
        tables += [
            ("Drainage cannula", "drainage_cannula", r.drainage_cannulas),
            ("Return cannula", "return_cannula", r.return_cannulas),
        ]
    out = []
    for title, name, checks in tables:
        pick = chosen.get(name)
        out.append(
            {
                "title": title,
                "name": name,
                "rows": [
                    {
                        "id": c.key,
                        "label": c.label,
                        "passes": c.passes,
                        # the verdicts quote pressure drops in mmHg: in the program's circuit-pressure unit
                        "reasons": [units.local_text(r, site.CIRCUIT_PRESSURE, prefs) for r in c.reasons],
                        "proposed": r.proposal.get(name) == c.key,
                        "chosen": pick is not None and str(pick.pk) == c.key,
                    }
                    for c in checks
                ],
            }
        )
    return out


def _selection_initial(run: EcmoRun) -> dict[str, Any]:
    values = latest(run, ["hemoglobin_g_dl"])
    return {"hb_g_dl": values["hemoglobin_g_dl"][0]} if "hemoglobin_g_dl" in values else {}


@login_required
def circuit_selection(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "decision.record")
    now = timezone.now()
    data = request.POST if request.method == "POST" else None
    form = DecisionForm(data, run=run, now=now, initial={"title": "Circuit and cannula selection"})
    kind_form = CircuitSelectionForm(
        data, run=run, prefix="k", initial=_selection_initial(run), now=now, local_units=True
    )
    status = 200
    if request.method == "POST":
        kind_ok = kind_form.is_valid()
        if "record" in request.POST and form.is_valid() and kind_ok:
            d = form.cleaned_data
            content = {**kind_form.content()}
            try:
                decision = decision_actions.record_decision(
                    actor=request.user,
                    run=run,
                    kind=Kind.CIRCUIT_SELECTION,
                    title=d["title"],
                    made_at=d["made_at"],
                    content=content,
                    inputs=form.input_map(),
                    options=form.option_list(),
                    recommendation=d["recommendation"],
                    recommended_by=int(d["recommended_by"]) if d["recommended_by"] else None,
                    participants=form.participants(),
                    dissent=form.dissent(),
                    session=d["session"],
                    decided_by=int(d["decided_by"]) if d["decided_by"] else None,
                    decided_at=d["decided_at"],
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    name = field.removeprefix("content.")
                    if field.startswith("content.") and name in kind_form.fields:
                        kind_form.add_error(name, errs)
                    else:
                        form.add_error(field if field in form.fields else None, errs)
            else:
                messages.success(
                    request,
                    "Circuit selection recorded"
                    + (
                        " and the chosen parts put on the run."
                        if decision.status == "decided" and content.get("install_on_run")
                        else "."
                    ),
                )
                return redirect("decision_detail", decision_id=decision.pk)
        status = 400 if (form.errors and "record" in request.POST) or kind_form.errors else 200
    return render(
        request,
        "perfusion/circuit_selection.html",
        {
            "program": run.program,
            "run": run,
            "form": form,
            "kind_form": kind_form,
            "tables": _selection_rows(kind_form) if kind_form.is_bound and not kind_form.errors else [],
            "result": kind_form.result if kind_form.is_bound else None,
            **_limits_text(kind_form),
            "flow_working": kind_form.flow_working,
            "incomplete": getattr(kind_form, "incomplete", []),
            "margins": {
                "oxygenator": round(kind_form.site_values["oxygenator_margin_fraction"] * 100),
                "pump": round(kind_form.site_values["pump_margin_fraction"] * 100),
            },
        },
        status=status,
    )


def _limits_text(form: CircuitSelectionForm) -> dict[str, Any]:
    """The cannula limits and the "nothing fits" verdicts in the program's circuit-pressure unit."""
    prefs, r = form.prefs, form.result if form.is_bound else None
    if r is None:
        return {"nothing_fits": [], "limits": {}}

    def local(text: str) -> str:
        return units.local_text(text, site.CIRCUIT_PRESSURE, prefs)

    return {
        "nothing_fits": [local(m) for m in r.nothing_fits],
        "limits": {
            "drainage": local(f"{r.limits.drainage_pressure_drop_max_mmhg:g} mmHg"),
            "return": local(f"{r.limits.return_pressure_drop_max_mmhg:g} mmHg"),
        },
    }


# --- Priming ------------------------------------------------------------------------------------------------


def _age_days(d: dict[str, Any]) -> float:
    if d.get("age_days") is not None:
        return float(d["age_days"])
    return float(d["age_years"]) * 365.25


@login_required
def priming_page(request: HttpRequest, program_id: int, run_id: int | None = None) -> HttpResponse:
    if run_id is not None:
        run: EcmoRun | None = _run(request, run_id, "run.view")
        assert run is not None
        program = run.program
    else:
        run = None
        program = _program(request, program_id, "calculator.use")
    values = site.current(program)
    initial: dict[str, Any] = {"prime_hematocrit": 0.0}
    if run is not None:
        initial.update(_run_priming_initial(run))
    form = PrimingForm(request.GET if "weight_kg" in request.GET else None, initial=initial)
    plan = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        try:
            plan = circuit.priming(
                weight_kg=d["weight_kg"],
                age_days=_age_days(d),
                sex=d["sex"],
                premature=d["premature"],
                patient_hematocrit=d["patient_hematocrit"],
                prime_volume_ml=d["prime_volume_ml"],
                prime_hematocrit=d.get("prime_hematocrit") or 0.0,
                minimum_hematocrit=values["minimum_hematocrit"],
                packed_cells_hematocrit=values["packed_cells_hematocrit"],
                heparin_iu_per_ml_prime=values["heparin_iu_per_ml_prime"],
                bands=site.bands(values),
            )
        except InputError as err:
            form.add_error(err.field if err.field in form.fields else None, err.message)
    return render(
        request,
        "perfusion/priming.html",
        {
            "program": program,
            "run": run,
            "form": form,
            "plan": plan,
            "packed_unreachable": plan is not None and plan.packed_cells_ml == math.inf,
            "values": values,
            "bands": [s for s in site.SETTINGS if s.group == "Blood volume"],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _run_priming_initial(run: EcmoRun) -> dict[str, Any]:
    """The run's weight, sex and age, its latest Hb as a haematocrit (×3, rule of thumb) and its circuit's parts."""
    out: dict[str, Any] = {}
    if run.weight_kg is not None:
        out["weight_kg"] = float(run.weight_kg)
    if run.patient.sex in ("male", "female"):
        out["sex"] = run.patient.sex
    if run.patient.birth_year:
        out["age_years"] = run.started_at.year - run.patient.birth_year
    values = latest(run, ["hemoglobin_g_dl"])
    if "hemoglobin_g_dl" in values:
        out["patient_hematocrit"] = round(values["hemoglobin_g_dl"][0] * 3 / 100, 2)
    from ecmo_web.runs.actions import current_circuit

    in_use = current_circuit(run)
    if in_use is not None:
        for comp in in_use.components.filter(removed_at__isnull=True).select_related("catalogue_item"):
            name = {"oxygenator": "oxygenator", "pump_head": "pump", "tubing_pack": "tubing_pack"}.get(
                comp.kind
            )
            if name and comp.catalogue_item is not None:
                out[name] = comp.catalogue_item.pk
    return out


@login_required
def run_priming(request: HttpRequest, run_id: int) -> HttpResponse:
    return priming_page(request, 0, run_id=run_id)


# --- Settings -----------------------------------------------------------------------------------------------


@login_required
def settings_page(request: HttpRequest, program_id: int) -> HttpResponse:
    # Read by clinicians (run.view); kept by the director and the administrator (settings.manage), who may not
    # see runs.
    found = Program.objects.filter(pk=program_id).first()
    may_manage = found is not None and can(request.user, "settings.manage", found)
    program = _program(request, program_id, "settings.manage" if may_manage else "run.view")
    values = site.current(program)
    form = SettingsForm(request.POST or None, program=program, values=values)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("your role does not change settings")
        done = submit(
            form,
            lambda d: settings_actions.set_settings(
                actor=request.user,
                program=program,
                values={s.key: d[s.key] for s in site.SETTINGS},
                reason=d["reason"],
                based_on=request.POST.get("based_on") or None,
            ),
        )
        if done is not None:
            messages.success(request, "Perfusion settings saved.")
            return redirect("perfusion_settings", program_id=program.pk)
    from ecmo_web.perfusion.models import PerfusionSettings

    return render(
        request,
        "perfusion/settings.html",
        {
            "program": program,
            "form": form,
            "may_manage": may_manage,
            "history": PerfusionSettings.objects.filter(program=program).select_related("set_by")[:10],
            "based_on": PerfusionSettings.objects.filter(program=program)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0,
        },
        status=400 if request.method == "POST" else 200,
    )


def selection_url(run: EcmoRun) -> str:
    return reverse("circuit_selection", kwargs={"run_id": run.pk})


# --- Role profile -------------------------------------------------------------------------------------------


def _profile_query(request: HttpRequest, program: Program) -> tuple[dt.datetime, dt.datetime, int | None]:
    from ecmo_web.perfusion.api import _period

    raw_user = request.GET.get("user") or ""
    user_id = int(raw_user) if raw_user.isdigit() else None
    if user_id is not None and not program.memberships.filter(user_id=user_id).exists():
        raise Http404("no such member of this program")
    start, end = _period(program, request.GET.get("start") or None, request.GET.get("end") or None)
    return start, end, user_id


@login_required
def role_profile_page(request: HttpRequest, program_id: int) -> HttpResponse:
    """Technical vs expanded scope of perfusion (or of one person) over a period, from the records."""
    program = _program(request, program_id)
    try:
        start, end, user_id = _profile_query(request, program)
    except ValidationError as exc:
        return render(
            request,
            "perfusion/role_profile.html",
            {"program": program, "errors": [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]},
            status=400,
        )
    found = profile.records(program, start=start, end=end, user_id=user_id)
    counts = core_profile.summarise(found, start=start, end=end)
    months = core_profile.by_month(found, start=start.astimezone(program_tz(program)), end=end)
    totals = core_profile.scope_totals(counts)
    people = profile.person_choices(program)
    query = urlencode(
        {
            k: v
            for k, v in {
                "start": request.GET.get("start", ""),
                "end": request.GET.get("end", ""),
                "user": user_id or "",
            }.items()
            if v
        }
    )
    return render(
        request,
        "perfusion/role_profile.html",
        {
            "program": program,
            "technical": [c for c in counts if c.scope == "technical"],
            "expanded": [c for c in counts if c.scope == "expanded"],
            "totals": totals,
            "share_expanded": round(100 * totals["expanded"] / max(1, sum(totals.values()))),
            "months": [{"month": m.month, "technical": m.technical, "expanded": m.expanded} for m in months],
            "people": people,
            "person": next((p for p in people if p[0] == user_id), None),
            "start": start.astimezone(program_tz(program)).date(),
            "end": end.astimezone(program_tz(program)),
            "query": query,
        },
    )


@login_required
def role_profile_area(request: HttpRequest, program_id: int, area: str) -> HttpResponse:
    """The records behind one number of the role profile, each with its link."""
    program = _program(request, program_id)
    if area not in core_profile.AREA_BY_KEY:
        raise Http404("no such area")
    try:
        start, end, user_id = _profile_query(request, program)
    except ValidationError as exc:
        raise Http404(str(exc)) from None
    rows = sorted(
        (r for r in profile.records(program, start=start, end=end, user_id=user_id) if r.area == area),
        key=lambda r: r.at,
        reverse=True,
    )
    # A link is offered only where the viewer may follow it (the study register is for its keepers).
    if area == "research" and not can(request.user, "study.manage", program):
        rows = [dataclasses.replace(r, url="") for r in rows]
    return render(
        request,
        "perfusion/role_profile_area.html",
        {
            "program": program,
            "area": core_profile.AREA_BY_KEY[area],
            "rows": rows,
            "start": start,
            "end": end,
            "query": request.GET.urlencode(),
        },
    )
