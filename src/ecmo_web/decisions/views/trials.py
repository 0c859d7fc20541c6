"""The weaning-trial page: observations, the live evaluation against criteria, conclusion."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ecmo_core import pathways, units
from ecmo_core.errors import InputError
from ecmo_web.decisions import actions, criteria_words, trials
from ecmo_web.decisions.forms import (
    GAS_OBSERVATIONS,
    SHORT_LABELS,
    VA_OBSERVATION,
    VV_OBSERVATION,
    ConcludeForm,
    ObservationForm,
    observation_label,
)
from ecmo_web.decisions.models import (
    Decision,
    Kind,
)
from ecmo_web.decisions.present import result_view
from ecmo_web.decisions.views.common import _decision, _now
from ecmo_web.forms import submit
from ecmo_web.permissions import can


def _trial_rows(decision: Decision, result: pathways.PathwayResult) -> tuple[list[str], list[dict[str, Any]]]:
    """The observations as rows, each value cell marked against the criteria (so a failing value stands out)."""
    trial_type = decision.content.get("trial_type")
    criteria = trials.criteria(decision)
    observations = list(decision.observations.all())
    codes = [
        c
        for c in (VA_OBSERVATION if trial_type == "va_flow_reduction" else VV_OBSERVATION)
        if any(c in o.values for o in observations)
    ]
    base = observations[0].values if observations else {}
    prefs = decision.run.program.unit_preferences
    rows = []
    for obs in observations:
        cells = []
        for code in codes:
            value = obs.values.get(code)
            tone = ""
            if value is not None:
                tone = _cell_tone(code, value, criteria, base, obs.values, trial_type)
                if code in GAS_OBSERVATIONS:  # judged in mmHg, shown in the program's gas unit
                    value = float(units.entry_text(GAS_OBSERVATIONS[code][0], value, prefs))
            cells.append({"value": value, "tone": tone})
        rows.append({"obs": obs, "cells": cells})
    return [_header(c, prefs) for c in codes], rows


def _header(code: str, prefs: units.UnitPreferences) -> str:
    """A column's short name, with the unit where the program reads a gas in another unit than mmHg ("PaO2 kPa")."""
    text = SHORT_LABELS.get(code, observation_label(code))
    if code in GAS_OBSERVATIONS:
        unit = units.unit_of(GAS_OBSERVATIONS[code][0], prefs)
        return text if unit == "mmHg" else f"{text} {unit}"
    return text


def _cell_tone(
    code: str, value: Any, criteria: Any, base: dict[str, Any], values: dict[str, Any], trial_type: Any
) -> str:
    if code == "acute_cor_pulmonale":
        return "critical" if value else "ok"
    checks: list[tuple[Any, float]] = []
    if code == "paco2_mmhg" and "paco2_mmhg" in base and hasattr(criteria, "paco2_rise_mmhg"):
        checks.append((criteria.paco2_rise_mmhg, value - base["paco2_mmhg"]))
    elif code == "rr_per_min" and "rr_per_min" in base and hasattr(criteria, "rr_rise_per_min"):
        checks.append((criteria.rr_rise_per_min, value - base["rr_per_min"]))
    elif hasattr(criteria, code) and getattr(criteria, code) is not None:
        threshold = getattr(criteria, code)
        minimal_only = trial_type == "va_flow_reduction" and code in (
            "aortic_vti_cm",
            "lvef_pct",
            "lateral_s_prime_cm_s",
            "tapse_mm",
        )
        at_minimal = values.get("blood_flow_l_min") is not None and criteria.blood_flow_l_min.passes(
            values["blood_flow_l_min"]
        )
        if code == "blood_flow_l_min" and trial_type == "va_flow_reduction":
            return "ok" if threshold.passes(value) else ""
        if not minimal_only or at_minimal:
            checks.append((threshold, value))
    if not checks:
        return ""
    return "ok" if all(t.passes(v) for t, v in checks) else "critical"


def _trial_context(request: HttpRequest, decision: Decision, **extra: Any) -> dict[str, Any]:
    program = decision.run.program
    result = trials.evaluate(decision)
    headers, rows = _trial_rows(decision, result)
    trial_type = decision.content.get("trial_type", "vv_sweep_off")
    started = trials.started_at(decision)
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "trial_type": trial_type,
        "started_at": started,
        "steps": [s for s in str(decision.content.get("protocol_steps", "")).splitlines() if s.strip()],
        "evaluation": result_view("Against the criteria", result.as_dict(), prefs=program.unit_preferences),
        "headers": headers,
        "rows": rows,
        "criteria_rows": criteria_words.rows(
            pathways.criteria_table(trials.criteria(decision)), program.unit_preferences
        ),
        "can_pathway": can(request.user, "pathway.record", decision),
        "can_record": can(request.user, "decision.record", decision),
        "observation_form": extra.get("observation_form")
        or ObservationForm(program=program, now=_now(), trial_type=trial_type),
        "conclude_form": extra.get("conclude_form")
        or ConcludeForm(program=program, now=_now(), initial={"version": decision.version}),
        "draft": extra.get("draft"),
    }


@login_required
def decision_trial(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "run.view")
    if decision.kind != Kind.WEANING_TRIAL:
        return redirect("decision_detail", decision_id=decision.pk)
    return render(request, "decisions/trial.html", _trial_context(request, decision))


@login_required
@require_POST
def trial_observe(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "pathway.record")
    trial_type = decision.content.get("trial_type", "vv_sweep_off")
    form = ObservationForm(request.POST, program=decision.run.program, trial_type=trial_type)
    if submit(
        form,
        lambda d: actions.record_observation(
            actor=request.user,
            decision=decision,
            at=d["at"],
            values=form.values(),
            step=d["step"],
            note=d["note"],
        ),
    ):
        decision = _decision(request, decision.pk, "run.view")
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "decisions/_trial_panel.html", _trial_context(request, decision))
        return redirect("decision_trial", decision_id=decision.pk)
    template = "decisions/_trial_panel.html" if request.htmx else "decisions/trial.html"  # type: ignore[attr-defined]
    return render(request, template, _trial_context(request, decision, observation_form=form), status=400)


@login_required
@require_POST
def trial_preview(request: HttpRequest, decision_id: int) -> HttpResponse:
    """HTMX: the trial judged with the observation being typed added (nothing is saved)."""
    decision = _decision(request, decision_id, "run.view")
    trial_type = decision.content.get("trial_type", "vv_sweep_off")
    form = ObservationForm(request.POST, program=decision.run.program, trial_type=trial_type)
    context: dict[str, Any] = {"draft": None, "draft_error": ""}
    if form.is_valid() and form.values():
        started = trials.started_at(decision)
        try:
            minutes = max(0.0, (form.cleaned_data["at"] - started).total_seconds() / 60)
            draft = pathways.observation_from_mapping(form.values(), minutes=minutes)
        except InputError as err:
            context["draft_error"] = f"{observation_label(err.field)}: {err.message}"
        else:
            context["draft"] = result_view(
                "With this observation",
                trials.evaluate(decision, [draft]).as_dict(),
                prefs=decision.run.program.unit_preferences,
            )
    elif not form.is_valid():
        context["draft_error"] = "; ".join(
            f"{form.fields[k].label if k in form.fields else k}: {' '.join(map(str, v))}"
            for k, v in form.errors.items()
        )
    return render(request, "decisions/_trial_draft.html", context)


@login_required
@require_POST
def trial_conclude(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "decision.record")
    form = ConcludeForm(request.POST, program=decision.run.program)
    if submit(
        form,
        lambda d: actions.conclude_trial(
            actor=request.user,
            decision=decision,
            outcome=d["outcome"],
            concluded_at=d["concluded_at"],
            reason=d["reason"],
            version=d["version"],
        ),
    ):
        messages.success(request, "Trial concluded.")
        return redirect("decision_trial", decision_id=decision.pk)
    return render(
        request, "decisions/trial.html", _trial_context(request, decision, conclude_form=form), status=400
    )
