"""Template tags that show canonical values in a program's units (``ecmo_core.units``).

``{% measure program "arterial_po2_mmhg" value %}`` → ``10.0 kPa``; ``{% unit_for program "fdo2" %}`` → ``%``;
``{% label_for program "arterial_po2_mmhg" %}`` → ``Arterial PO2 (kPa)``; ``{{ code|clinical }}`` → ``Arterial PO2``
(labels from the parameter registry; a code the registry does not know is shown in words, never as a code);
``{{ age|ago }}`` → ``3 min ago``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template

from ecmo_core import units
from ecmo_core.surveillance.parameters import PARAMETERS

register = template.Library()


def _prefs(program: Any) -> units.UnitPreferences:
    return program.unit_preferences if hasattr(program, "unit_preferences") else units.US


@register.simple_tag
def measure(program: Any, parameter: str, value: Any, with_unit: bool = True) -> str:
    if value is None or value == "":
        return "—"
    if parameter not in PARAMETERS:
        return f"{float(value):g}"
    return units.format_local(parameter, float(value), _prefs(program), with_unit=with_unit)


def _words(code: str) -> str:
    """A code outside the registry in plain words: "ecmo_days" → "Ecmo days" (never the code itself)."""
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def clinical(code: str) -> str:
    """The clinical name of a parameter code ("anti_xa_iu_ml" → "Anti-Xa")."""
    return units.label(code) if code in PARAMETERS else _words(code)


_CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PARAMETERS), key=len, reverse=True)) + r")\b")


@register.filter
def clinical_text(text: str) -> str:
    """Free text (an error, a detail) with every parameter code replaced by its clinical name."""
    return _CODE.sub(lambda m: units.label(m.group(1)), str(text or ""))


@register.simple_tag
def alert_message(alert: Any, program: Any) -> str:
    """An alert's message in clinical words and the program's units ("… 16.0 kPa" in a kPa program)."""
    from ecmo_web.surveillance.present import local_message

    return local_message(alert, program)


@register.filter
def rule_title(rule_id: str) -> str:
    """A surveillance rule's clinical title ("Low post-oxygenator PO2 on pure oxygen"), never its id."""
    from ecmo_core.surveillance.rules import RULES

    rule = RULES.get(rule_id)
    return rule.title if rule is not None else str(rule_id).replace("_", " ").replace(".", ": ")


@register.simple_tag
def label_for(program: Any, parameter: str) -> str:
    """The clinical name with the program's unit ("Arterial PO2 (kPa)")."""
    if parameter not in PARAMETERS:
        return _words(parameter)
    return units.label_with_unit(parameter, _prefs(program))


@register.simple_tag
def unit_for(program: Any, parameter: str) -> str:
    return units.unit_of(parameter, _prefs(program)) if parameter in PARAMETERS else ""


@register.filter
def ago(age: dt.timedelta | None) -> str:
    """A short age: "just now", "40 s ago", "12 min ago", "3 h 05 min ago", "2 d ago"."""
    if age is None:
        return ""
    seconds = int(age.total_seconds())
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min ago"
    return f"{hours // 24} d ago"
