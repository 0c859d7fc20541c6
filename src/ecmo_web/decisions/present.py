"""How decisions read on screen: the kind's content as labelled rows and the pathway evaluations it holds, in the
program's units (gas pressures and Hb are stored canonical, in the units their names say)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from ecmo_core import units
from ecmo_web.decisions import criteria_words, observed
from ecmo_web.decisions.kinds import KIND_FORMS
from ecmo_web.decisions.models import Decision
from ecmo_web.forms import MeasureField
from ecmo_web.timezones import to_local

EVALUATIONS: dict[str, str] = {
    "eolia": "VV entry criteria (EOLIA)",
    "ecpr": "ECPR selection",
    "lv_distension": "LV distension triggers",
    "differential_hypoxia": "Differential hypoxia",
    "readiness": "Ambulation readiness screen",
    "evaluation": "Trial evaluation at conclusion",
    "catalogue_check": "Chosen parts against the catalogue checks",  # circuit_selection (perfusion app)
}

# Evaluations whose texts (requirements, verdicts) quote one kind of pressure in mmHg, and the registry parameter
# whose unit they read in: a cannula's pressure drop is a circuit pressure (``units.CIRCUIT_PRESSURES``).
TEXT_PRESSURES: dict[str, str] = {"catalogue_check": "membrane_delta_p_mmhg"}

STATUS_TONE: dict[str, str] = {
    "met": "ok",
    "not_met": "critical",
    "missing": "muted",
    "pass": "ok",
    "ready": "ok",
    "criteria_met": "ok",
    "absent": "ok",
    "no_trigger": "ok",
    "fail": "critical",
    "not_ready": "critical",
    "criteria_not_met": "critical",
    "excluded": "critical",
    "present": "warning",
    "unloading_indicated": "warning",
    "in_progress": "info",
    "incomplete": "info",
}

DETAIL_LABELS: dict[str, str] = {
    "no_flow_min": "No-flow",
    "cpr_before_call_min": "CPR before the ECPR call",
    "collapse_to_call_min": "Collapse to call",
    "low_flow_min": "Low-flow (CPR to flow)",
    "arrest_to_flow_min": "Arrest to flow",
    "call_to_flow_min": "Call to flow",
    "puncture_to_flow_min": "Puncture to flow",
    "predicted_upper_body_so2": "Watershed model: upper-body SO2",
}


def _display(field: forms.Field, value: Any, program: Any, prefs: units.UnitPreferences = units.US) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(field, MeasureField) and isinstance(value, int | float):
        return units.entry_text(field.code, float(value), prefs)
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        return "yes" if value else "no"
    if isinstance(field, forms.DateTimeField) and isinstance(value, str):
        shown = to_local(dt.datetime.fromisoformat(value), program)
        return shown.strftime("%Y-%m-%d %H:%M:%S").removesuffix(":00") if shown else value
    choices = _flat_choices(getattr(field, "choices", []) or [])
    if isinstance(value, list):
        return "; ".join(criteria_words.localise(str(v), str(choices.get(v, v)), prefs) for v in value)
    if isinstance(field, forms.ModelChoiceField):  # stored as the id: show the object's name
        queryset = field.queryset
        found = queryset.filter(pk=value).first() if isinstance(value, int) and queryset is not None else None
        return str(found) if found is not None else str(value)
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _flat_choices(choices: Any) -> dict[Any, Any]:
    """``{value: label}`` of a field's choices, grouped ones (``(group, [(value, label)…])``) flattened, so an
    indication reads "P/F < 80 mmHg for > 6 h", not its code."""
    flat: dict[Any, Any] = {}
    for value, label in choices:
        if isinstance(label, list | tuple):
            flat.update({v: lab for v, lab in label})
        else:
            flat[value] = label
    return flat


def content_rows(decision: Decision) -> list[tuple[str, str]]:
    """The kind's fields in form order with their labels, leaving out empty ones; gas pressures and Hb in the
    program's units ("P/F ratio (kPa)", "9.1")."""
    form_class = KIND_FORMS.get(decision.kind)
    if form_class is None:
        return []
    program = decision.run.program
    prefs = program.unit_preferences
    rows = []
    for name, field in form_class.base_fields.items():
        if name in decision.content:
            text = _display(field, decision.content[name], program, prefs)
            label = field.label_for(prefs) if isinstance(field, MeasureField) else field.label
            if text:
                rows.append((str(label or name.replace("_", " ").capitalize()), text))
    return rows


def evaluations(
    content: dict[str, Any], *, decision: Decision | None = None, prefs: units.UnitPreferences | None = None
) -> list[dict[str, Any]]:
    """The pathway evaluations stored in a decision's content, ready for ``decisions/_result.html``.

    With ``decision``, each criterion also shows the values entered with it and the run's record near its time
    (``decisions.observed``; one query for all the tables).
    """
    found = [
        (key, title, result)
        for key, title in EVALUATIONS.items()
        if isinstance(result := content.get(key), dict) and "status" in result
    ]
    record = None
    if decision is not None and found:
        keys = {c.get("key", "") for _, _, result in found for c in result.get("criteria", [])}
        record = observed.Record(decision.run, decision.made_at, keys)
    views = []
    for key, title, result in found:
        view = result_view(title, result, content=content, record=record, prefs=prefs)
        if key in TEXT_PRESSURES:
            local = prefs or (record.prefs if record is not None else units.US)
            for c in view["criteria"]:
                for field in ("requirement", "observed_text"):
                    c[field] = units.local_text(str(c[field]), TEXT_PRESSURES[key], local)
        views.append(view)
    return views


def result_view(
    title: str,
    result: dict[str, Any],
    *,
    content: dict[str, Any] | None = None,
    record: observed.Record | None = None,
    prefs: units.UnitPreferences | None = None,
) -> dict[str, Any]:
    prefs = prefs or (record.prefs if record is not None else units.US)
    details = []
    for key, value in (result.get("details") or {}).items():
        if key in DETAIL_LABELS and value is not None:
            if key.endswith("_min"):
                minutes, seconds = divmod(round(float(value) * 60), 60)
                details.append((DETAIL_LABELS[key], f"{minutes}:{seconds:02d} min"))
            else:
                details.append((DETAIL_LABELS[key], f"{float(value):.2f}"))
    return {
        "title": title,
        "status": result["status"],
        "status_label": result["status"].replace("_", " "),
        "tone": STATUS_TONE.get(result["status"], "info"),
        "criteria": [
            {
                **c,
                # gas criteria (stored and judged in mmHg) read in the program's gas unit
                "label": criteria_words.localise(c.get("key", ""), str(c.get("label", "")), prefs),
                "requirement": criteria_words.localise(
                    c.get("key", ""), str(c.get("requirement", "")), prefs
                ),
                "tone": STATUS_TONE.get(c["status"], "muted"),
                "observed_text": _observed(c.get("observed"), c.get("key", ""), prefs),
                "entered_text": observed.entered_text(c.get("key", ""), content or {}, prefs)
                if c.get("observed") is None
                else "",
                "record_lines": record.lines(c.get("key", "")) if record is not None else [],
                # Judged on what was typed with the decision (not a trial observation at a minute).
                "entered": content is not None and c.get("at_minutes") is None,
            }
            for c in result.get("criteria", [])
        ],
        "details": details,
    }


def _observed(value: Any, key: str = "", prefs: units.UnitPreferences = units.US) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and (local := criteria_words.gas_number(key, value, prefs)) is not None:
        return local
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}".removesuffix(".0")
    return str(value)
