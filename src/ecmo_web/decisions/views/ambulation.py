"""The ambulation page: sessions on ECMO."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ecmo_core import pathways
from ecmo_web.decisions import actions
from ecmo_web.decisions.criteria import criteria_for
from ecmo_web.decisions.forms import (
    AmbulationSessionForm,
)
from ecmo_web.decisions.models import (
    Decision,
    Kind,
)
from ecmo_web.decisions.present import evaluations
from ecmo_web.decisions.views.common import _decision, _now
from ecmo_web.forms import submit
from ecmo_web.permissions import can


def _ambulation_context(request: HttpRequest, decision: Decision, **extra: Any) -> dict[str, Any]:
    program = decision.run.program
    criteria = criteria_for(program.pk, "ambulation")
    sessions = list(decision.ambulation_sessions.all())
    return {
        "program": program,
        "run": decision.run,
        "decision": decision,
        "evaluations": evaluations(decision.content, decision=decision),
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
