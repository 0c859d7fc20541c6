"""The program's surveillance settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ecmo_core.surveillance import SECTIONS, SurveillanceConfig
from ecmo_web.accounts.models import Program, Role
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.evaluation import setting_at
from ecmo_web.surveillance.models import (
    SurveillanceSetting,
)


def _settings_rows(current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    defaults = SurveillanceConfig()
    rows = []
    for section in SECTIONS:
        described = type(defaults.section(section)).describe()
        rows.append(
            {
                "section": section,
                "settings": [
                    {
                        **d,
                        "value": current.get(section, {}).get(d["name"], d["default"]),
                        "field": f"{section}__{d['name']}",
                        "key": f"{section}.{d['name']}",
                    }
                    for d in described
                ],
            }
        )
    return rows


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
    form_error = ""
    if request.method == "POST":
        rules: dict[str, dict[str, Any]] = {}
        for row in _settings_rows(values):
            for s in row["settings"]:
                raw = request.POST.get(s["field"])
                if isinstance(s["default"], bool):
                    # An unticked box posts nothing: the hidden marker says the box was on the form.
                    value: Any = raw == "on" if request.POST.get(f"{s['field']}__shown") else s["value"]
                else:
                    try:
                        value = float(raw) if raw not in (None, "") else s["value"]
                        if (
                            isinstance(s["default"], int)
                            and not isinstance(s["default"], bool)
                            and float(value).is_integer()
                        ):
                            value = int(value)
                    except ValueError:
                        errors[f"{row['section']}.{s['name']}"] = f"{raw!r} is not a number"
                        continue
                if value != s["default"]:
                    rules.setdefault(row["section"], {})[s["name"]] = value
        values = rules
        if not errors:
            try:
                actions.save_settings(
                    actor=request.user,
                    program=program,
                    rules=rules,
                    reason=request.POST.get("reason", ""),
                    escalate_warning_after_min=int(request.POST.get("escalate_warning_after_min") or 30),
                    escalate_critical_after_min=int(request.POST.get("escalate_critical_after_min") or 10),
                    escalate_to_role=request.POST.get("escalate_to_role") or "intensivist",
                    now=now,
                )
            except (ValidationError, ValueError) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    for key, errs in exc.message_dict.items():
                        errors[key] = " ".join(errs)
                else:
                    form_error = str(exc)
            else:
                messages.success(
                    request, "Surveillance settings saved; earlier settings are kept in the history."
                )
                return redirect("surveillance_settings", program_id=program.pk)
    history = list(
        program.surveillance_settings.select_related("set_by").order_by("-effective_from", "-pk")[:20]
    )
    base = current or SurveillanceSetting()
    post = request.POST if request.method == "POST" else {}
    escalation = {
        "warning": post.get("escalate_warning_after_min") or base.escalate_warning_after_min,
        "critical": post.get("escalate_critical_after_min") or base.escalate_critical_after_min,
        "role": post.get("escalate_to_role") or base.escalate_to_role,
    }
    return render(
        request,
        "surveillance/settings.html",
        {
            "program": program,
            "rows": _settings_rows(values),
            "errors": errors,
            "form_error": form_error,
            "current": current,
            "history": history,
            "roles": Role.choices,
            "escalation": escalation,
            "reason": post.get("reason", ""),
        },
        status=400 if errors or form_error else 200,
    )
