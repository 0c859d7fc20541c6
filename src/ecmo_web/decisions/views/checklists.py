"""Checklist pages (decannulation, transport): ticking items and completing."""

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
    ChecklistMarkForm,
    CompleteForm,
)
from ecmo_web.decisions.models import (
    ChecklistItem,
    Decision,
    Kind,
)
from ecmo_web.decisions.views.common import _decision, _now
from ecmo_web.forms import submit
from ecmo_web.permissions import can
from ecmo_web.shortcuts import get_checked


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
        "complete_form": extra.get("complete_form")
        or CompleteForm(program=program, now=_now(), initial={"version": decision.version}),
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
        errors = [f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()]
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
            actor=request.user,
            decision=decision,
            completed_at=d["completed_at"],
            end_run=d["end_run"],
            version=d["version"],
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
