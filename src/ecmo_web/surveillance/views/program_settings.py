"""The program's surveillance settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ecmo_core.surveillance import SECTIONS
from ecmo_web.accounts.models import Program, Role
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.evaluation import setting_at
from ecmo_web.surveillance.forms import SurveillanceSettingsForm, settings_rows
from ecmo_web.surveillance.models import (
    SurveillanceSetting,
)


def _flatten(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    flat: dict[str, dict[str, Any]] = {}
    for key, value in (rules or {}).items():
        if key in SECTIONS:
            flat.setdefault(key, {}).update(value)
        elif isinstance(value, dict):
            for sub, table in value.items():
                flat.setdefault(f"{key}.{sub}", {}).update(table)
    return flat


@login_required
def settings_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "settings.manage", pk=program_id)
    now = timezone.now()
    current = setting_at(program.pk, now)
    values = _flatten(current.rules if current else {})
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = SurveillanceSettingsForm(
            request.POST,
            current=values,
            vo2_ml_kg_min=(current or SurveillanceSetting()).estimated_vo2_ml_kg_min,
        )
        valid = form.is_valid()
        values = form.cleaned_data["rules"]  # what was typed, shown again if refused
        if valid:
            try:
                actions.save_settings(
                    actor=request.user,
                    program=program,
                    now=now,
                    based_on=request.POST.get("based_on") or None,
                    **form.action_kwargs(),
                )
            except ValidationError as exc:
                errors = {key: " ".join(errs) for key, errs in exc.message_dict.items()}
            else:
                messages.success(
                    request, "Surveillance settings saved; earlier settings are kept in the history."
                )
                return redirect("surveillance_settings", program_id=program.pk)
        else:
            errors = form.error_list()
    history = list(
        program.surveillance_settings.select_related("set_by").order_by("-effective_from", "-pk")[:20]
    )
    base = current or SurveillanceSetting()
    post = request.POST if request.method == "POST" else {}
    escalation = {
        "warning": post.get("escalate_warning_after_min") or base.escalate_warning_after_min,
        "critical": post.get("escalate_critical_after_min") or base.escalate_critical_after_min,
        "role": post.get("escalate_to_role") or base.escalate_to_role,
        "vo2": post.get("estimated_vo2_ml_kg_min") or base.estimated_vo2_ml_kg_min,
    }
    return render(
        request,
        "surveillance/settings.html",
        {
            "program": program,
            "based_on": program.surveillance_settings.order_by("-pk").values_list("pk", flat=True).first()
            or 0,
            "rows": settings_rows(values),
            "errors": errors,
            "current": current,
            "history": history,
            "roles": Role.choices,
            "escalation": escalation,
            "reason": post.get("reason", ""),
        },
        status=400 if errors else 200,
    )
