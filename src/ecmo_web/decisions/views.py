"""Decision pages: the run's decisions, a form per kind, a decision with its people, and the pathway pages that
run after a decision (weaning trial, checklist, transport, ambulation), MCS device checks, decision sessions and
the program's pathway criteria. Views load with ``get_checked``, call actions, and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_core import pathways
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_web.accounts.models import Program
from ecmo_web.decisions import actions
from ecmo_web.decisions.criteria import DEFAULTS, criteria_for, setting_for
from ecmo_web.decisions.forms import (
    SHORT_LABELS,
    VA_OBSERVATION,
    VV_OBSERVATION,
    AmbulationSessionForm,
    ChecklistMarkForm,
    CompleteForm,
    ConcludeForm,
    DecideForm,
    DecisionForm,
    DissentForm,
    LegForm,
    LegTimesForm,
    McsCheckForm,
    ObservationForm,
    ParticipantForm,
    ResolveForm,
    SessionForm,
    TransportEventForm,
    member_choices,
    observation_label,
)
from ecmo_web.decisions.kinds import KIND_FORMS, MCS_READINGS, KindForm
from ecmo_web.decisions.models import (
    ChecklistItem,
    Decision,
    DecisionSession,
    Dissent,
    Kind,
    McsCheck,
    PathwayCriteria,
    SessionAttendee,
    TransportLeg,
)
from ecmo_web.decisions.present import content_rows, evaluations, result_view
from ecmo_web.decisions.serialize import decision_queryset
from ecmo_web.forms import submit
from ecmo_web.permissions import can
from ecmo_web.runs.models import EcmoRun, McsDevice
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id)


def _decision(request: HttpRequest, decision_id: int, action: str) -> Decision:
    return get_checked(
        decision_queryset().select_related("run__patient"), request.user, action, pk=decision_id
    )


def _now() -> dt.datetime:
    return timezone.now()


# --- List and new ----------------------------------------------------------------------------------------


@login_required
def decision_list(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    decisions = list(decision_queryset().filter(run=run))
    return render(
        request,
        "decisions/list.html",
        {
            "program": run.program,
            "run": run,
            "decisions": decisions,
            "kinds": Kind.choices,
            "can_record": can(request.user, "decision.record", run),
        },
    )


def _kind_form(kind: str, request: HttpRequest, run: EcmoRun, data: Any = None) -> KindForm:
    initial: dict[str, Any] = {}
    if kind == Kind.DECANNULATION:
        mode = run.current_mode()
        initial["configuration"] = mode.mode if mode else "vv"
    if kind == Kind.FLOW_TARGET:
        initial.update(_flow_prefill(run))
    return KIND_FORMS[kind](data, run=run, prefix="k", initial=initial, now=_now())


def _flow_prefill(run: EcmoRun) -> dict[str, Any]:
    """VO2 from the program's estimate per kg (a surveillance setting; 3 mL/kg/min in adults by default, reference
    §4.1) and the latest Hb and recirculation where telemetry has them."""
    from ecmo_web.surveillance.evaluation import setting_at
    from ecmo_web.surveillance.models import SurveillanceSetting

    out: dict[str, Any] = {"target_arterial_so2": 0.88}
    if run.weight_kg:
        setting = setting_at(run.program_id, _now()) or SurveillanceSetting()
        out["vo2_ml_min"] = round(float(run.weight_kg) * setting.estimated_vo2_ml_kg_min)
    from ecmo_web.calculators.prefill import latest

    values = latest(run, ["hemoglobin_g_dl", "recirculation_fraction", "post_oxygenator_po2_mmhg"])
    if "hemoglobin_g_dl" in values:
        out["hb_g_dl"] = values["hemoglobin_g_dl"][0]
    if "recirculation_fraction" in values:
        out["recirculation_fraction"] = values["recirculation_fraction"][0]
    if "post_oxygenator_po2_mmhg" in values:  # the latest post-oxygenator gas, and which one it was
        value, at, source = values["post_oxygenator_po2_mmhg"]
        out["post_oxygenator_po2_mmhg"] = value
        out["post_oxygenator_po2_reading"] = (
            f"gas at {timezone.localtime(at, program_tz(run.program)):%d %b %H:%M} ({source})"
        )
    return out


@login_required
def decision_new(request: HttpRequest, run_id: int, kind: str | None = None) -> HttpResponse:
    run = _run(request, run_id, "decision.record")
    if kind is None:
        return render(
            request, "decisions/new_kind.html", {"program": run.program, "run": run, "kinds": Kind.choices}
        )
    if kind not in KIND_FORMS:
        return redirect("decision_new", run_id=run.pk)
    data = request.POST if request.method == "POST" else None
    form = DecisionForm(data, run=run, now=_now(), initial={"title": Kind(kind).label})
    kind_form = _kind_form(kind, request, run, data)
    preview: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid() and kind_form.is_valid():
        if "preview" in request.POST:
            preview = _preview(kind_form)
        else:
            d = form.cleaned_data
            try:
                decision = actions.record_decision(
                    actor=request.user,
                    run=run,
                    kind=kind,
                    title=d["title"],
                    made_at=d["made_at"],
                    content=kind_form.content() | _kind_links(kind_form),
                    inputs=form.input_map(),
                    options=form.option_list(),
                    recommendation=d["recommendation"],
                    recommended_by=int(d["recommended_by"]) if d["recommended_by"] else None,
                    participants=form.participants(),
                    dissent=form.dissent(),
                    session=d["session"],
                    decided_by=int(d["decided_by"]) if d["decided_by"] else None,
                    decided_at=d["decided_at"],
                    calculation_ids=[c.pk for c in d["calculations"]],
                )
            except ValidationError as exc:
                _split_errors(exc, form, kind_form)
            else:
                messages.success(request, f"{decision.get_kind_display()} recorded.")
                return redirect(_next_page(decision))
    elif request.method == "POST" and "preview" in request.POST and kind_form.is_valid():
        preview = _preview(kind_form)
    status = 400 if request.method == "POST" and (form.errors or kind_form.errors) else 200
    return render(
        request,
        "decisions/form.html",
        {
            "program": run.program,
            "run": run,
            "form": form,
            "kind_form": kind_form,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "preview": preview,
        },
        status=status,
    )


def _kind_links(form: KindForm) -> dict[str, Any]:
    """Model choices kept as columns are passed back through content for the action to re-validate."""
    out: dict[str, Any] = {}
    for name in ("component", "device"):
        value = form.cleaned_data.get(name)
        if value is not None:
            out[name] = value.pk
    alerts = form.cleaned_data.get("alerts")
    if alerts:
        out["alerts"] = [a.pk for a in alerts]
    return out


def _preview(form: KindForm) -> list[dict[str, Any]]:
    try:
        content = form.content()
    except (InputError, InfeasibleError) as err:
        form.add_error(None, err.message)
        return []
    views = evaluations(content)
    if "model" in content:
        model = content["model"]
        views.insert(
            0,
            {
                "title": "VV model (vv_required_blood_flow)",
                "status": "computed",
                "tone": "info",
                "status_label": f"{model['ecmo_blood_flow_l_min']:.2f} L/min ECMO blood flow",
                "criteria": [],
                "details": [
                    ("Effective flow", f"{model['effective_flow_l_min']:.2f} L/min"),
                    ("ECMO flow / cardiac output", f"{model['ecmo_to_cardiac_output_ratio']:.2f}"),
                    ("Target set", f"{content.get('blood_flow_target_l_min')} L/min"),
                ],
            },
        )
    return views


def _split_errors(exc: ValidationError, form: DecisionForm, kind_form: KindForm) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    common: dict[str, Any] = {}
    for field, errors in exc.error_dict.items():
        if field.startswith("content."):
            name = field.removeprefix("content.")
            kind_form.add_error(name if name in kind_form.fields else None, errors)
        else:
            common[field] = errors
    if common:
        form.add_action_errors(ValidationError(common))


def _next_page(decision: Decision) -> str:
    from django.urls import reverse

    pages = {
        Kind.WEANING_TRIAL: "decision_trial",
        Kind.DECANNULATION: "decision_checklist",
        Kind.TRANSPORT: "decision_transport",
        Kind.AMBULATION: "decision_ambulation",
    }
    return reverse(pages.get(decision.kind, "decision_detail"), kwargs={"decision_id": decision.pk})


@login_required
def participant_row(request: HttpRequest, run_id: int) -> HttpResponse:
    """HTMX: one more participant row for the decision form."""
    run = _run(request, run_id, "decision.record")
    index = max(0, min(int(request.GET.get("index", "0") or 0), 40))
    form = DecisionForm(run=run, participant_rows=index + 1)
    row = form.participant_fields()[index]
    return render(request, "decisions/_participant_row.html", {"row": row, "index": index})


# --- Detail ----------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, decision: Decision, **forms: Any) -> dict[str, Any]:
    run = decision.run
    program = run.program
    can_record = can(request.user, "decision.record", decision)
    return {
        "program": program,
        "run": run,
        "decision": decision,
        "content_rows": content_rows(decision),
        "evaluations": evaluations(decision.content),
        "model": decision.content.get("model"),
        "can_record": can_record,
        "can_pathway": can(request.user, "pathway.record", decision),
        "decide_form": forms.get("decide_form")
        or (
            DecideForm(program=program, now=_now(), initial={"decided_by": str(request.user.pk)})
            if can_record and decision.is_open
            else None
        ),
        "participant_form": forms.get("participant_form")
        or (ParticipantForm(program=program, prefix="p") if can_record else None),
        "dissent_form": forms.get("dissent_form")
        or (DissentForm(program=program, prefix="d") if can_record else None),
        "resolve_form": ResolveForm(program=program, prefix="r") if can_record else None,
        "pathway_page": _pathway_page(decision),
        "superseded_by": getattr(decision, "superseded_by", None)
        if decision.status == "superseded"
        else None,
    }


def _pathway_page(decision: Decision) -> str | None:
    pages = {
        Kind.WEANING_TRIAL: "decision_trial",
        Kind.DECANNULATION: "decision_checklist",
        Kind.TRANSPORT: "decision_transport",
        Kind.AMBULATION: "decision_ambulation",
    }
    return pages.get(decision.kind)  # type: ignore[call-overload]


@login_required
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "run.view")
    return render(request, "decisions/detail.html", _detail_context(request, decision))


def _detail_error(request: HttpRequest, decision: Decision, **forms: Any) -> HttpResponse:
    return render(request, "decisions/detail.html", _detail_context(request, decision, **forms), status=400)


@login_required
@require_POST
def decision_decide(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "decision.record")
    form = DecideForm(request.POST, program=decision.run.program)
    if submit(
        form,
        lambda d: actions.decide(
            actor=request.user,
            decision=decision,
            decided_by=int(d["decided_by"]),
            decided_at=d["decided_at"],
            recommendation=d["recommendation"] or None,
        ),
    ):
        messages.success(request, "Decision recorded as decided.")
        return redirect("decision_detail", decision_id=decision.pk)
    return _detail_error(request, decision, decide_form=form)


@login_required
@require_POST
def decision_add_participant(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "decision.record")
    form = ParticipantForm(request.POST, program=decision.run.program, prefix="p")
    if submit(
        form,
        lambda d: actions.add_participant(
            actor=request.user,
            decision=decision,
            user=int(d["user"]),
            role=d["role"],
            contribution=d["contribution"],
        ),
    ):
        return redirect("decision_detail", decision_id=decision.pk)
    return _detail_error(request, decision, participant_form=form)


@login_required
@require_POST
def decision_add_dissent(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "decision.record")
    form = DissentForm(request.POST, program=decision.run.program, prefix="d")
    if submit(
        form,
        lambda d: actions.add_dissent(
            actor=request.user,
            decision=decision,
            user=int(d["user"]),
            reason=d["reason"],
            resolution=d["resolution"],
        ),
    ):
        return redirect("decision_detail", decision_id=decision.pk)
    return _detail_error(request, decision, dissent_form=form)


@login_required
@require_POST
def dissent_resolve(request: HttpRequest, dissent_id: int) -> HttpResponse:
    dissent = get_checked(
        Dissent.objects.select_related("decision__run__program"),
        request.user,
        "decision.record",
        pk=dissent_id,
    )
    form = ResolveForm(request.POST, program=dissent.decision.run.program, prefix="r")
    if form.is_valid():
        try:
            actions.resolve_dissent(
                actor=request.user, dissent=dissent, resolution=form.cleaned_data["resolution"]
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "Say how the dissent was resolved.")
    return redirect("decision_detail", decision_id=dissent.decision_id)


# --- Checklist (decannulation, transport) ----------------------------------------------------------------


def _checklist_context(request: HttpRequest, decision: Decision, **extra: Any) -> dict[str, Any]:
    program = decision.run.program
    status = actions.checklist_status(decision)
    groups: dict[str, list[ChecklistItem]] = {}
    for item in decision.checklist_items.all():
        groups.setdefault(item.group or "items", []).append(item)
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "groups": groups,
        "status": status,
        "can_pathway": can(request.user, "pathway.record", decision),
        "mark_form": ChecklistMarkForm(program=program, now=_now()),
        "complete_form": extra.get("complete_form") or CompleteForm(program=program, now=_now()),
        "item_errors": extra.get("item_errors", {}),
    }


@login_required
def decision_checklist(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "run.view")
    if decision.kind not in (Kind.DECANNULATION, Kind.TRANSPORT):
        return redirect("decision_detail", decision_id=decision.pk)
    return render(request, "decisions/checklist.html", _checklist_context(request, decision))


@login_required
@require_POST
def checklist_mark(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_checked(
        ChecklistItem.objects.select_related("decision__run__program"),
        request.user,
        "pathway.record",
        pk=item_id,
    )
    decision = _decision(request, item.decision_id, "run.view")
    form = ChecklistMarkForm(request.POST, program=decision.run.program)
    errors: list[str] = []
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.mark_checklist_item(
                actor=request.user,
                item=item,
                status=d["status"],
                waiver_reason=d["waiver_reason"],
                note=d["note"],
                done_at=d["done_at"],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            if request.htmx:  # type: ignore[attr-defined]
                return render(
                    request,
                    "decisions/_checklist_body.html",
                    _checklist_context(request, _decision(request, decision.pk, "run.view")),
                )
            return redirect("decision_checklist", decision_id=decision.pk)
    else:
        errors = [f"{k}: {' '.join(v)}" for k, v in form.errors.items()]
    context = _checklist_context(request, decision, item_errors={item.pk: errors})
    template = "decisions/_checklist_body.html" if request.htmx else "decisions/checklist.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400)


@login_required
@require_POST
def checklist_complete(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "pathway.record")
    form = CompleteForm(request.POST, program=decision.run.program)
    if submit(
        form,
        lambda d: actions.complete_checklist(
            actor=request.user, decision=decision, completed_at=d["completed_at"], end_run=d["end_run"]
        ),
    ):
        messages.success(request, "Checklist complete.")
        return redirect("decision_checklist", decision_id=decision.pk)
    return render(
        request,
        "decisions/checklist.html",
        _checklist_context(request, decision, complete_form=form),
        status=400,
    )


# --- Weaning trial ---------------------------------------------------------------------------------------


def _trial_rows(decision: Decision, result: pathways.PathwayResult) -> tuple[list[str], list[dict[str, Any]]]:
    """The observations as rows, each value cell marked against the criteria (so a failing value stands out)."""
    trial_type = decision.content.get("trial_type")
    criteria = criteria_for(
        decision.run.program_id,
        "va_flow_reduction" if trial_type == "va_flow_reduction" else "vv_sweep_off",
        dt.datetime.fromisoformat(decision.content["started_at"]),
    )
    observations = list(decision.observations.all())
    codes = [
        c
        for c in (VA_OBSERVATION if trial_type == "va_flow_reduction" else VV_OBSERVATION)
        if any(c in o.values for o in observations)
    ]
    base = observations[0].values if observations else {}
    rows = []
    for obs in observations:
        cells = []
        for code in codes:
            value = obs.values.get(code)
            tone = ""
            if value is not None:
                tone = _cell_tone(code, value, criteria, base, obs.values, trial_type)
            cells.append({"value": value, "tone": tone})
        rows.append({"obs": obs, "cells": cells})
    return [SHORT_LABELS.get(c, observation_label(c)) for c in codes], rows


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
    result = actions.evaluate_trial(decision)
    headers, rows = _trial_rows(decision, result)
    trial_type = decision.content.get("trial_type", "vv_sweep_off")
    criteria_name = "va_flow_reduction" if trial_type == "va_flow_reduction" else "vv_sweep_off"
    started = dt.datetime.fromisoformat(decision.content["started_at"])
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "trial_type": trial_type,
        "started_at": started,
        "steps": [s for s in str(decision.content.get("protocol_steps", "")).splitlines() if s.strip()],
        "evaluation": result_view("Against the criteria", result.as_dict()),
        "headers": headers,
        "rows": rows,
        "criteria_rows": pathways.criteria_table(criteria_for(program.pk, criteria_name, started)),
        "can_pathway": can(request.user, "pathway.record", decision),
        "can_record": can(request.user, "decision.record", decision),
        "observation_form": extra.get("observation_form")
        or ObservationForm(program=program, now=_now(), trial_type=trial_type),
        "conclude_form": extra.get("conclude_form") or ConcludeForm(program=program, now=_now()),
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
        started = dt.datetime.fromisoformat(decision.content["started_at"])
        try:
            minutes = max(0.0, (form.cleaned_data["at"] - started).total_seconds() / 60)
            draft = pathways.observation_from_mapping(form.values(), minutes=minutes)
        except InputError as err:
            context["draft_error"] = f"{observation_label(err.field)}: {err.message}"
        else:
            observations = [*actions.trial_observations(decision), draft]
            criteria_name = "va_flow_reduction" if trial_type == "va_flow_reduction" else "vv_sweep_off"
            criteria = criteria_for(decision.run.program_id, criteria_name, started)
            evaluate = (
                pathways.va_flow_reduction_trial
                if trial_type == "va_flow_reduction"
                else pathways.vv_sweep_off_trial
            )
            context["draft"] = result_view(
                "With this observation", evaluate(observations, criteria).as_dict()
            )
    elif not form.is_valid():
        context["draft_error"] = "; ".join(
            f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
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
        ),
    ):
        messages.success(request, "Trial concluded.")
        return redirect("decision_trial", decision_id=decision.pk)
    return render(
        request, "decisions/trial.html", _trial_context(request, decision, conclude_form=form), status=400
    )


# --- Transport -------------------------------------------------------------------------------------------


def _transport_context(request: HttpRequest, decision: Decision, **extra: Any) -> dict[str, Any]:
    program = decision.run.program
    supplies = actions.transport_supplies(decision)
    # transport_supplies lists O2 for the legs with planned minutes, in order: give each such leg its figure.
    per_leg = iter(supplies.oxygen_per_leg_l if supplies else ())
    legs = [
        {"leg": leg, "oxygen_l": next(per_leg, None) if leg.planned_minutes is not None else None}
        for leg in decision.legs.all()
    ]
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "supplies": supplies,
        "status": actions.checklist_status(decision),
        "legs": legs,
        "events": list(decision.transport_events.all()),
        "can_pathway": can(request.user, "pathway.record", decision),
        "leg_form": extra.get("leg_form") or LegForm(program=program, prefix="leg"),
        "times_form": LegTimesForm(program=program, prefix="t"),
        "event_form": extra.get("event_form") or TransportEventForm(program=program, now=_now(), prefix="ev"),
        "content_rows": content_rows(decision),
    }


@login_required
def decision_transport(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "run.view")
    if decision.kind != Kind.TRANSPORT:
        return redirect("decision_detail", decision_id=decision.pk)
    return render(request, "decisions/transport.html", _transport_context(request, decision))


@login_required
@require_POST
def transport_leg(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "pathway.record")
    form = LegForm(request.POST, program=decision.run.program, prefix="leg")
    if submit(form, lambda d: actions.add_transport_leg(actor=request.user, decision=decision, **d)):
        return redirect("decision_transport", decision_id=decision.pk)
    return render(
        request, "decisions/transport.html", _transport_context(request, decision, leg_form=form), status=400
    )


@login_required
@require_POST
def transport_leg_times(request: HttpRequest, leg_id: int) -> HttpResponse:
    leg = get_checked(
        TransportLeg.objects.select_related("decision__run__program"),
        request.user,
        "pathway.record",
        pk=leg_id,
    )
    form = LegTimesForm(request.POST, program=leg.decision.run.program, prefix="t")
    if form.is_valid():
        try:
            actions.record_leg_times(actor=request.user, leg=leg, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "Give a valid time.")
    return redirect("decision_transport", decision_id=leg.decision_id)


@login_required
@require_POST
def transport_event(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "pathway.record")
    form = TransportEventForm(request.POST, program=decision.run.program, prefix="ev")
    if submit(form, lambda d: actions.add_transport_event(actor=request.user, decision=decision, **d)):
        return redirect("decision_transport", decision_id=decision.pk)
    return render(
        request,
        "decisions/transport.html",
        _transport_context(request, decision, event_form=form),
        status=400,
    )


# --- Ambulation ------------------------------------------------------------------------------------------


def _ambulation_context(request: HttpRequest, decision: Decision, **extra: Any) -> dict[str, Any]:
    program = decision.run.program
    criteria = criteria_for(program.pk, "ambulation")
    sessions = list(decision.ambulation_sessions.all())
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "evaluations": evaluations(decision.content),
        "sessions": [
            {"s": s, "counts": pathways.counts_for_mobilisation_kpi(s.ims_level, criteria)} for s in sessions
        ],
        "kpi_requirement": criteria.ims_kpi_level.describe(),
        "can_pathway": can(request.user, "pathway.record", decision),
        "session_form": extra.get("session_form") or AmbulationSessionForm(program=program, now=_now()),
    }


@login_required
def decision_ambulation(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "run.view")
    if decision.kind != Kind.AMBULATION:
        return redirect("decision_detail", decision_id=decision.pk)
    return render(request, "decisions/ambulation.html", _ambulation_context(request, decision))


@login_required
@require_POST
def ambulation_session(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _decision(request, decision_id, "pathway.record")
    form = AmbulationSessionForm(request.POST, program=decision.run.program)
    if submit(form, lambda d: actions.record_ambulation_session(actor=request.user, decision=decision, **d)):
        return redirect("decision_ambulation", decision_id=decision.pk)
    return render(
        request,
        "decisions/ambulation.html",
        _ambulation_context(request, decision, session_form=form),
        status=400,
    )


# --- MCS device checks -----------------------------------------------------------------------------------


@login_required
def mcs_device(request: HttpRequest, device_id: int) -> HttpResponse:
    device = get_checked(
        McsDevice.objects.select_related("run__program", "run__patient").prefetch_related(
            "settings", Prefetch("checks", queryset=McsCheck.objects.select_related("checked_by"))
        ),
        request.user,
        "run.view",
        pk=device_id,
    )
    program = device.run.program
    form = McsCheckForm(request.POST or None, program=program, now=_now(), device_kind=device.kind)
    if request.method == "POST":
        get_checked(McsDevice.objects.all(), request.user, "mcs.edit", pk=device_id)
        if submit(
            form,
            lambda d: actions.record_mcs_check(
                actor=request.user,
                device=device,
                at=d["at"],
                readings=form.readings(),
                position_confirmed=d["position_confirmed"],
                position_note=d["position_note"],
                limb_perfusion_ok=d["limb_perfusion_ok"],
                alarms=d["alarms"],
                note=d["note"],
            ),
        ):
            messages.success(request, "Check recorded.")
            return redirect("mcs_device", device_id=device.pk)
    labels = {
        code: (label, unit) for code, (_lo, _hi, unit, label) in MCS_READINGS.get(device.kind, {}).items()
    }
    events = sorted(
        [("setting", s.at, s) for s in device.settings.all()]
        + [("check", c.at, c) for c in device.checks.all()],
        key=lambda e: e[1],
        reverse=True,
    )
    return render(
        request,
        "decisions/mcs_device.html",
        {
            "program": program,
            "run": device.run,
            "device": device,
            "form": form,
            "events": events,
            "labels": labels,
            "decisions": device.decisions.all(),
            "can_mcs": can(request.user, "mcs.edit", device),
        },
        status=400 if form.errors else 200,
    )


# --- Sessions --------------------------------------------------------------------------------------------


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


# --- Criteria --------------------------------------------------------------------------------------------


@login_required
def criteria_page(request: HttpRequest, program_id: int) -> HttpResponse:
    """The program's pathway criteria with their sources; settings.manage may change one set (with a reason)."""
    program = get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
    can_manage = can(request.user, "settings.manage", program)
    error = ""
    if request.method == "POST":
        get_checked(Program.objects.all(), request.user, "settings.manage", pk=program_id)
        import json

        try:
            overrides = json.loads(request.POST.get("overrides") or "{}")
            if not isinstance(overrides, dict):
                raise ValueError
        except ValueError:
            error = 'overrides: give a JSON object, e.g. {"lateral_s_prime_cm_s": {"op": ">", "value": 10}}'
        else:
            try:
                actions.set_criteria(
                    actor=request.user,
                    program=program,
                    criteria_set=request.POST.get("criteria_set", ""),
                    overrides=overrides,
                    reason=request.POST.get("reason", ""),
                )
            except ValidationError as exc:
                error = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            else:
                messages.success(request, "Criteria updated (the earlier settings are kept in the history).")
                return redirect("pathway_criteria", program_id=program.pk)
    sets = []
    for name in DEFAULTS:
        setting = setting_for(program, name)
        sets.append(
            {
                "name": name,
                "label": PathwayCriteria.CriteriaSetName(name).label,
                "setting": setting,
                "rows": pathways.criteria_table(criteria_for(program, name)),
            }
        )
    history = PathwayCriteria.objects.filter(program=program).select_related("set_by")[:20]
    return render(
        request,
        "decisions/criteria.html",
        {
            "program": program,
            "sets": sets,
            "history": history,
            "can_manage": can_manage,
            "error": error,
            "members": member_choices(program),
        },
        status=400 if error else 200,
    )
