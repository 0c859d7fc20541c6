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
from ecmo_web.surveillance.forms import SurveillanceSettingsForm, describe_rules, settings_rows
from ecmo_web.surveillance.models import (
    ESCALATION_ROLES,
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
    prefs = program.unit_preferences
    current = setting_at(program.pk, now)
    values = _flatten(current.rules if current else {})
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = SurveillanceSettingsForm(
            request.POST,
            current=values,
            vo2_ml_kg_min=(current or SurveillanceSetting()).estimated_vo2_ml_kg_min,
            prefs=prefs,
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
    rows = settings_rows(values, prefs)
    if request.method == "POST":  # what was typed, shown again as typed
        for row in rows:
            for s in row["settings"]:
                if not isinstance(s["default"], bool) and s["field"] in request.POST:
                    s["shown"] = request.POST[s["field"]]
    labels = {s["key"]: f"{row['title']} · {s['label']}" for row in rows for s in row["settings"]}
    labels.update(
        {
            "escalate_to_role": "Escalate to",
            "escalate_warning_after_min": "Warning: escalate after",
            "escalate_critical_after_min": "Critical: escalate after",
            "estimated_vo2_ml_kg_min": "Estimated VO2",
            "reason": "Reason for the change",
        }
    )
    for h in history:
        h.changes = describe_rules(h.rules, prefs)  # type: ignore[attr-defined]
    return render(
        request,
        "surveillance/settings.html",
        {
            "program": program,
            "based_on": program.surveillance_settings.order_by("-pk").values_list("pk", flat=True).first()
            or 0,
            "rows": rows,
            "errors": errors,
            "error_lines": [(labels.get(k, k.replace("_", " ")), v) for k, v in errors.items()],
            "current": current,
            "history": history,
            "roles": [(r, label) for r, label in Role.choices if r in ESCALATION_ROLES],
            "escalation": escalation,
            "reason": post.get("reason", ""),
        },
        status=400 if errors else 200,
    )
