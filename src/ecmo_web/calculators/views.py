"""Calculator pages: a list, and one page per calculator built from ``ecmo_core.calc.describe``.

From a run, the form starts from the run's data (weight, height, sex, age, latest telemetry), each prefilled value
saying where it came from, and the result can be saved into a decision (``decisions.actions.save_calculation``
recomputes it on the server; a posted result is never stored).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ecmo_core import calc as core_calc
from ecmo_core import units
from ecmo_core.calc import calculator_names, describe
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_web.accounts.models import Program
from ecmo_web.calculators.forms import CalculatorForm
from ecmo_web.calculators.prefill import PRE_ECMO_SCORES, prefill
from ecmo_web.calculators.present import (
    component_label,
    grouped,
    label_in,
    local_number,
    summarise,
    title,
)
from ecmo_web.decisions import actions as decision_actions
from ecmo_web.decisions.models import Decision, Status
from ecmo_web.permissions import can
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked


def _run(request: HttpRequest, run_id: int) -> EcmoRun:
    run = get_checked(
        EcmoRun.objects.select_related("program", "patient"), request.user, "run.view", pk=run_id
    )
    get_checked(EcmoRun.objects.all(), request.user, "calculator.use", pk=run_id)
    return run


@login_required
def program_calculators(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "calculator.use", pk=program_id)
    return render(
        request,
        "calculators/list.html",
        {"program": program, "groups": grouped(program.unit_preferences), "run": None},
    )


@login_required
def run_calculators(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    return render(
        request,
        "calculators/list.html",
        {
            "program": run.program,
            "run": run,
            "groups": grouped(run.program.unit_preferences),
            "decision_id": request.GET.get("decision", ""),
        },
    )


def result_view(name: str, result: Any, prefs: units.UnitPreferences = units.US) -> dict[str, Any]:
    """A result for the page, gas pressures and Hb in the program's units (``prefs``)."""
    view: dict[str, Any] = {"summary": summarise(name, result, prefs=prefs), "raw": result}
    if isinstance(result, dict) and "points" in result and "name" in result:
        view["score"] = result
        # each item by its clinical name ("PaCO2"), not its keyword
        view["components"] = [
            (component_label(str(k)), v) for k, v in (result.get("components") or {}).items()
        ]
    elif isinstance(result, dict):
        view["rows"] = [
            (label_in(k, prefs), local_number(k, v, prefs) if _is_number(v) else v)
            for k, v in result.items()
            if not isinstance(v, dict | list)
        ]
    elif isinstance(result, list) and all(isinstance(r, dict) for r in result):
        view["table"] = result
        view["columns"] = list(result[0]) if result else []
    else:
        view["value"] = local_number(name, result, prefs) if _is_number(result) else result
    return view


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decisions(run: EcmoRun) -> list[Decision]:
    return list(Decision.objects.filter(run=run).exclude(status=Status.SUPERSEDED).order_by("-made_at")[:20])


def _context(
    program: Program, run: EcmoRun | None, name: str, form: CalculatorForm, **extra: Any
) -> dict[str, Any]:
    return {
        "program": program,
        "run": run,
        "name": name,
        "title": title(name, program.unit_preferences),
        "form": form,
        "result": None,
        "decisions": _decisions(run) if run else [],
        **extra,
    }


def _page(request: HttpRequest, name: str, program: Program, run: EcmoRun | None) -> HttpResponse:
    if name not in calculator_names():
        raise Http404("no such calculator")
    provenance: dict[str, str] = {}
    initial: dict[str, Any] = {}
    if run is not None:
        for keyword, (value, source) in prefill(
            run, [str(e["name"]) for e in describe(name)], calculator=name
        ).items():
            initial[keyword] = value
            provenance[keyword] = source
    can_save = run is not None and can(request.user, "decision.record", run)
    # Computing writes nothing: a role that cannot save a result computes with a GET form (no write control on
    # its pages, issue 11 §6); saving is a POST.
    computing = request.method == "GET" and request.GET.get("action") == "compute"
    data = request.POST if request.method == "POST" else (request.GET if computing else None)
    form = CalculatorForm(data, calculator=name, initial=initial, prefs=program.unit_preferences)
    decision_id = str(request.POST.get("decision") or request.GET.get("decision") or "")
    extra = {
        "provenance": provenance,
        "can_save": can_save,
        "decision_id": decision_id,
        "pre_ecmo": name in PRE_ECMO_SCORES and run is not None,
    }
    if request.method != "POST" and not computing:
        return render(request, "calculators/page.html", _context(program, run, name, form, **extra))
    action = request.POST.get("action", "compute") if request.method == "POST" else "compute"
    if action == "not_computed" and run is not None and can_save:
        reason = (request.POST.get("not_computed_reason") or "").strip()
        if reason:
            return _save(request, run, name, {}, decision_id, reason, form, program, extra)
        form.is_valid()
        form.errors.clear()
        form.add_error(None, "say why the score cannot be computed")
    elif form.is_valid():
        arguments = form.arguments()
        if not form.errors:
            try:
                computed = core_calc.run_calculator(name, arguments)["result"]
            except (InputError, InfeasibleError) as err:
                form.add_error(err.field if err.field in form.fields else None, err.message)
            else:
                if action == "save" and run is not None and can_save:
                    return _save(request, run, name, arguments, decision_id, "", form, program, extra)
                extra["result"] = result_view(name, computed, program.unit_preferences)
    return render(
        request,
        "calculators/page.html",
        _context(program, run, name, form, **extra),
        status=400 if form.errors else 200,
    )


def _save(
    request: HttpRequest,
    run: EcmoRun,
    name: str,
    arguments: dict[str, Any],
    decision_id: str,
    reason: str,
    form: CalculatorForm,
    program: Program,
    extra: dict[str, Any],
) -> HttpResponse:
    decision = Decision.objects.filter(pk=decision_id, run=run).first() if decision_id.isdigit() else None
    try:
        calc = decision_actions.save_calculation(
            actor=request.user,
            run=run,
            calculator=name,
            arguments=arguments,
            decision=decision,
            not_computed_reason=reason,
        )
    except (InputError, InfeasibleError) as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
    except ValidationError as exc:
        form.add_error(None, exc)
    else:
        if decision is not None:
            messages.success(
                request, f"{calc.summary(program.unit_preferences)} saved into “{decision.title}”."
            )
            return redirect("decision_detail", decision_id=decision.pk)
        messages.success(
            request,
            f"{calc.summary(program.unit_preferences)} saved to the run; include it when you record the decision.",
        )
        return redirect("run_calculator", run_id=run.pk, name=name)
    return render(request, "calculators/page.html", _context(program, run, name, form, **extra), status=400)


@login_required
def program_calculator(request: HttpRequest, program_id: int, name: str) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "calculator.use", pk=program_id)
    return _page(request, name, program, None)


@login_required
def run_calculator(request: HttpRequest, run_id: int, name: str) -> HttpResponse:
    run = _run(request, run_id)
    return _page(request, name, run.program, run)
