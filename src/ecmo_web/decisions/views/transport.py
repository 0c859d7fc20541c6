"""The transport page: legs, leg times and events."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ecmo_web.decisions import actions
from ecmo_web.decisions.forms import (
    LegForm,
    LegTimesForm,
    TransportEventForm,
)
from ecmo_web.decisions.models import (
    Decision,
    Kind,
    TransportLeg,
)
from ecmo_web.decisions.present import content_rows
from ecmo_web.decisions.views.common import _decision, _now
from ecmo_web.forms import submit
from ecmo_web.permissions import can
from ecmo_web.shortcuts import get_checked


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
