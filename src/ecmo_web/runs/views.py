"""Pages for runs: the program's run list, the run page with its timeline, and the history forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ecmo_web import contributions, live, timeline
from ecmo_web.accounts.models import Program
from ecmo_web.forms import ProgramForm, model_choice_field, submit
from ecmo_web.permissions import can, landing, restrict, roles_by_program
from ecmo_web.runs import actions, summary
from ecmo_web.runs.forms import (
    CannulaForm,
    ComponentForm,
    ConfigurationForm,
    DischargeForm,
    EndRunForm,
    McsDeviceForm,
    McsSettingForm,
    StartRunForm,
)
from ecmo_web.runs.models import Circuit, EcmoRun, McsDevice, PatientIdentifier
from ecmo_web.shortcuts import get_checked


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is (``permissions.LANDING``): a member of one program goes straight there;
    a member of several chooses. Only the user's own programs are listed."""
    roles = roles_by_program(request.user)
    if len(roles) == 1:
        (program_id,) = roles
        return redirect(landing(request.user, program_id), program_id=program_id)
    programs = [
        {
            "program": p,
            "role": roles[p.pk],
            "url": reverse(landing(request.user, p.pk), kwargs={"program_id": p.pk}),
        }
        for p in Program.objects.filter(pk__in=roles).order_by("name")
    ]
    return render(request, "runs/home.html", {"programs": programs})


def run_queryset() -> Any:
    return EcmoRun.objects.select_related("patient", "program").prefetch_related(
        "configurations",
        Prefetch("circuits", queryset=Circuit.objects.prefetch_related("components")),
        Prefetch("patient__identifiers", queryset=PatientIdentifier.objects.filter(kind="name")),
    )


@login_required
@live.live_page(live.program_page("runs"))
def run_list(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
    now = timezone.now()
    runs = list(
        restrict(run_queryset(), request.user, "run.view")
        .filter(program=program)
        .order_by("ended_at", "-started_at")
    )
    active = [r for r in runs if r.ended_at is None]
    ended = [r for r in runs if r.ended_at is not None][:20]
    extra = summary.columns(active, now)
    rows = [
        {
            "run": r,
            "mode": r.current_mode(),
            "day": r.day_on_ecmo(now),
            "cells": [cells.get(r.pk) for _, cells in extra],
        }
        for r in active
    ]
    return render(
        request,
        "runs/run_list.html",
        {
            "program": program,
            "rows": rows,
            "columns": [title for title, _ in extra],
            "ended": ended,
            "can_start": can(request.user, "run.create", program),
            "can_identify": can(request.user, "patient.identify", program),
        },
    )


def _panels(run: EcmoRun, user: Any) -> list[str]:
    """Templates apps contribute to the run page (``run_panels`` in their ``AppConfig.contributions()``)."""
    return [panel.template for panel in contributions.run_panels() if can(user, panel.action, run)]


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_checked(
        run_queryset().prefetch_related(
            "cannulas",
            Prefetch("mcs_devices", queryset=McsDevice.objects.prefetch_related("settings")),
            "targets",
        ),
        request.user,
        "run.view",
        pk=run_id,
    )
    now = timezone.now()
    tl = timeline.build(run, now)
    components = [c for circuit in run.circuits.all() for c in circuit.components.all()]
    return render(
        request,
        "runs/run_detail.html",
        {
            "program": run.program,
            "run": run,
            "timeline": tl,
            "now": now,
            "day": run.day_on_ecmo(now),
            "mode": run.current_mode(),
            "components_in_use": [c for c in components if c.removed_at is None],
            "components_removed": [c for c in components if c.removed_at is not None],
            "can_edit": can(request.user, "run.edit", run),
            "can_circuit": can(request.user, "circuit.edit", run),
            "can_mcs": can(request.user, "mcs.edit", run),
            "can_identify": can(request.user, "patient.identify", run),
            "panels": _panels(run, request.user),
        },
    )


@login_required
def start_run(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "run.create", pk=program_id)
    form = StartRunForm(request.POST or None, program=program, now=timezone.now())
    if request.method == "POST":
        done = submit(
            form,
            lambda d: actions.start_run(
                actor=request.user,
                program=program,
                patient_code=d["patient_code"].upper(),
                sex=d["sex"],
                birth_year=d["birth_year"],
                indication=d["indication"],
                indication_detail=d["indication_detail"],
                mode=d["mode"],
                started_at=d["started_at"],
                weight_kg=d["weight_kg"],
                height_cm=d["height_cm"],
                location=d["location"],
                console_serial=d["console_serial"],
                identifiers={"name": d["name"], "mrn": d["mrn"]},
            ),
        )
        if done:
            return redirect("run_detail", run_id=done.value.pk)
    return render(
        request,
        "runs/form.html",
        {"program": program, "form": form, "title": "Start a run", "submit": "Start run"},
        status=400 if form.errors else 200,
    )


def _run_form_view(
    form_class: type[ProgramForm],
    action: str,
    title: str,
    submit_label: str,
    perform: Callable[[HttpRequest, EcmoRun, dict[str, Any]], object],
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A page that shows ``form_class`` for a run and calls ``perform`` (an action) with the cleaned data."""

    @login_required
    def view(request: HttpRequest, run_id: int) -> HttpResponse:
        run = get_checked(
            EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id
        )
        initial_for = getattr(form_class, "initial_for", None)
        initial = initial_for(run) if initial_for is not None and request.method != "POST" else None
        form = form_class(request.POST or None, program=run.program, now=timezone.now(), initial=initial)
        if isinstance(form, McsSettingForm):
            model_choice_field(form, "device").queryset = run.mcs_devices.filter(removed_at__isnull=True)
        if request.method == "POST" and submit(form, lambda d: perform(request, run, d)):
            return redirect("run_detail", run_id=run.pk)
        return render(
            request,
            "runs/form.html",
            {"program": run.program, "run": run, "form": form, "title": title, "submit": submit_label},
            status=400 if form.errors else 200,
        )

    return view


end_run = _run_form_view(
    EndRunForm,
    "run.edit",
    "End the run",
    "End run",
    lambda req, run, d: actions.end_run(
        actor=req.user, run=run, ended_at=d["ended_at"], outcome=d["outcome"], reason=d["reason"]
    ),
)
record_discharge = _run_form_view(
    DischargeForm,
    "run.edit",
    "Hospital discharge",
    "Record discharge",
    lambda req, run, d: actions.record_discharge(
        actor=req.user, run=run, survived_to_discharge=d["survived_to_discharge"], reason=d["reason"]
    ),
)
change_configuration = _run_form_view(
    ConfigurationForm,
    "run.edit",
    "Change configuration",
    "Record configuration",
    lambda req, run, d: actions.change_configuration(
        actor=req.user, run=run, mode=d["mode"], started_at=d["started_at"], reason=d["reason"]
    ),
)
add_cannula = _run_form_view(
    CannulaForm,
    "run.edit",
    "Add a cannula",
    "Record cannula",
    lambda req, run, d: actions.add_cannula(
        actor=req.user,
        run=run,
        purpose=d["purpose"],
        site=d["site"],
        size_fr=d["size_fr"],
        length_cm=d["length_cm"],
        tip_position=d["tip_position"],
        maker_model=d["maker_model"],
        inserted_at=d["inserted_at"],
    ),
)
install_component = _run_form_view(
    ComponentForm,
    "circuit.edit",
    "Add or replace a component",
    "Record component",
    lambda req, run, d: actions.install_component(
        actor=req.user,
        run=run,
        kind=d["kind"],
        maker=d["maker"],
        model=d["model"],
        lot=d["lot"],
        serial=d["serial"],
        installed_at=d["installed_at"],
        catalogue_item=d["catalogue_item"],
        reason_replaced=d["reason_replaced"],
        in_place=d["in_place"],
    ),
)
add_mcs_device = _run_form_view(
    McsDeviceForm,
    "mcs.edit",
    "Add an MCS device",
    "Record device",
    lambda req, run, d: actions.add_mcs_device(
        actor=req.user,
        run=run,
        kind=d["kind"],
        model=d["model"],
        site=d["site"],
        inserted_at=d["inserted_at"],
        notes=d["notes"],
    ),
)
record_mcs_setting = _run_form_view(
    McsSettingForm,
    "mcs.edit",
    "Record an MCS setting",
    "Record setting",
    lambda req, run, d: actions.record_mcs_setting(
        actor=req.user,
        device=d["device"],
        at=d["at"],
        impella_p_level=d["impella_p_level"],
        flow_l_min=d["flow_l_min"],
        iabp_ratio=d["iabp_ratio"],
        vad_speed_rpm=d["vad_speed_rpm"],
        note=d["note"],
    ),
)
