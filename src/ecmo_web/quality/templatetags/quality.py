from __future__ import annotations

from typing import Any

from django import template

from ecmo_web.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: Any, action: str, obj: Any) -> bool:
    """``{% may "adverse_event.record" run as allowed %}``: may the current user do ``action`` on ``obj``?"""
    request = context.get("request")
    return request is not None and obj is not None and can(request.user, action, obj)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


@register.filter
def kpi_value(value: float | None, unit: str) -> str:
    """A KPI value as a clinician reads it: fractions as per cent, counts whole, the rest to one decimal."""
    if value is None:
        return "—"
    if unit == "fraction":
        return f"{value * 100:.0f} %"
    if unit == "runs":
        return f"{value:.0f}"
    return f"{value:.1f}"


@register.filter
def kpi_unit(unit: str) -> str:
    return {"fraction": "", "runs": "runs"}.get(unit, unit)
