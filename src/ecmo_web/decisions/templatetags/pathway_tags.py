"""Template helpers for decisions, rounds and calculators."""

from __future__ import annotations

from typing import Any

from django import template

from ecmo_web.decisions.models import Decision, Status

register = template.Library()


@register.simple_tag
def run_decisions(run: Any) -> dict[str, Any]:
    """Open decisions and the latest decided ones of a run, for the run-page panel (two queries)."""
    qs = Decision.objects.filter(run=run).select_related("decided_by").order_by("-made_at")
    open_ = [d for d in qs.filter(status=Status.OPEN)]
    recent = list(qs.exclude(status=Status.OPEN)[:6])
    return {"open": open_, "recent": recent}


@register.filter
def person(user: Any) -> str:
    if user is None:
        return "—"
    return str(user.get_full_name() or user.get_username())


@register.filter
def pct(value: Any) -> str:
    """A fraction 0–1 as a percentage ("0.95" → "95 %")."""
    try:
        return f"{float(value) * 100:.0f} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def num(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = f"{number:.{int(digits)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def isodt(value: Any) -> Any:
    """An ISO 8601 string from stored JSON back to a datetime (for the ``local`` filter)."""
    import datetime as dt

    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return value


@register.filter
def criterion_label(key: str) -> str:
    """A pathway criterion's clinical name (``decisions.criteria_words``)."""
    from ecmo_web.decisions import criteria_words

    return criteria_words.label(str(key))


@register.filter
def criterion_source(text: str) -> str:
    """A pathway criterion's source without internal section numbers (``decisions.criteria_words``)."""
    from ecmo_web.decisions import criteria_words

    return criteria_words.source(str(text))
