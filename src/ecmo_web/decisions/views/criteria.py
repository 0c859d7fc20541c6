"""The program's pathway criteria page."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ecmo_core import pathways, units
from ecmo_web.accounts.models import Program
from ecmo_web.decisions import actions, criteria_words
from ecmo_web.decisions.criteria import DEFAULTS, criteria_for, setting_for
from ecmo_web.decisions.forms import CriteriaForm, member_choices
from ecmo_web.decisions.models import (
    PathwayCriteria,
)
from ecmo_web.permissions import can
from ecmo_web.shortcuts import get_checked


@login_required
def criteria_page(request: HttpRequest, program_id: int) -> HttpResponse:
    """The program's pathway criteria with their sources; settings.manage may change one set (with a reason)."""
    # Read by clinicians (run.view); kept by the director and the administrator (settings.manage).
    found = Program.objects.filter(pk=program_id).first()
    can_manage = found is not None and can(request.user, "settings.manage", found)
    program = get_checked(
        Program.objects.all(), request.user, "settings.manage" if can_manage else "run.view", pk=program_id
    )
    error = ""
    prefs = program.unit_preferences
    if request.method == "POST":
        get_checked(Program.objects.all(), request.user, "settings.manage", pk=program_id)
        form = CriteriaForm(request.POST, prefs=prefs)
        if not form.is_valid():
            error = form.error_text()
        else:
            try:
                actions.set_criteria(
                    actor=request.user,
                    program=program,
                    based_on=request.POST.get("based_on") or None,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                error = "; ".join(_error(k, " ".join(v), prefs) for k, v in exc.message_dict.items())
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
                "rows": criteria_words.rows(pathways.criteria_table(criteria_for(program, name)), prefs),
                "typed": _typed(setting.overrides, prefs) if setting is not None else "",
            }
        )
    history = [
        {"row": h, "typed": _typed(h.overrides, prefs)}
        for h in PathwayCriteria.objects.filter(program=program).select_related("set_by")[:20]
    ]
    gas = criteria_words.gas_unit(prefs)
    return render(
        request,
        "decisions/criteria.html",
        {
            "program": program,
            "sets": sets,
            "history": history,
            "based_on": PathwayCriteria.objects.filter(program=program)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0,
            "can_manage": can_manage,
            "error": error,
            "members": member_choices(program),
            "gas_unit": gas,
            # EOLIA's P/F < 80 mmHg as this program types it (80 mmHg = 10.67 kPa)
            "gas_example": json.dumps(
                {"pf_mmhg": {"op": "<", "value": criteria_words.local_number(80.0, prefs)}}
            ),
            "posted": request.POST if error else {},
        },
        status=400 if error else 200,
    )


def _typed(overrides: dict[str, Any], prefs: units.UnitPreferences) -> str:
    """Stored overrides as JSON the way this page's box takes them (gas criteria in the program's gas unit)."""
    return json.dumps(criteria_words.overrides_in_local(overrides, prefs), ensure_ascii=False)


def _error(field: str, message: str, prefs: units.UnitPreferences) -> str:
    """An action's refusal naming the criterion in clinical words and the key typed ("overrides.pf_mmhg")."""
    key = field.removeprefix("overrides.")
    return criteria_words.error_text(key, message, prefs) if key != field else f"{field}: {message}"
