"""The run's decisions, the new-decision form per kind, and a decision with its people and dissent."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_core.errors import InfeasibleError, InputError
from ecmo_web.decisions import actions
from ecmo_web.decisions.forms import (
    DecideForm,
    DecisionForm,
    DissentForm,
    ParticipantForm,
    ResolveForm,
)
from ecmo_web.decisions.kinds import KIND_FORMS, KindForm
from ecmo_web.decisions.models import (
    Decision,
    Dissent,
    Kind,
)
from ecmo_web.decisions.present import content_rows, evaluations
from ecmo_web.decisions.serialize import decision_queryset
from ecmo_web.decisions.views.common import _decision, _now, _run
from ecmo_web.forms import submit
from ecmo_web.permissions import can
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz


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
    return KIND_FORMS[kind](data, run=run, prefix="k", initial=initial, now=_now(), local_units=True)


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
    program = getattr(form, "program", None)
    views = evaluations(content, prefs=program.unit_preferences if program is not None else None)
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

    pages: dict[str, str] = {
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


def _detail_context(request: HttpRequest, decision: Decision, **forms: Any) -> dict[str, Any]:
    run = decision.run
    program = run.program
    can_record = can(request.user, "decision.record", decision)
    return {
        "program": program,
        "run": run,
        "decision": decision,
        "content_rows": content_rows(decision),
        # Saved calculator results in the program's units, under their clinical titles.
        "calculations": [
            {
                "calc": c,
                "title": c.calculator_title(program.unit_preferences),
                "summary": c.summary(program.unit_preferences),
                "inputs": c.input_rows(program.unit_preferences),
            }
            for c in decision.calculations.all()
        ],
        "evaluations": evaluations(decision.content, decision=decision),
        "model": decision.content.get("model"),
        "can_record": can_record,
        "can_pathway": can(request.user, "pathway.record", decision),
        "decide_form": forms.get("decide_form")
        or (
            DecideForm(
                program=program,
                now=_now(),
                initial={"decided_by": str(request.user.pk), "version": decision.version},
            )
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
    pages: dict[str, str] = {
        Kind.WEANING_TRIAL: "decision_trial",
        Kind.DECANNULATION: "decision_checklist",
        Kind.TRANSPORT: "decision_transport",
        Kind.AMBULATION: "decision_ambulation",
    }
    return pages.get(decision.kind)


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
            version=d["version"],
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
