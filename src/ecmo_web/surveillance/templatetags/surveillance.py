"""Template helpers for the surveillance panels on pages owned by other apps (the run page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from ecmo_core.surveillance import PARAMETERS, RULES
from ecmo_web.permissions import can
from ecmo_web.surveillance import present, queries
from ecmo_web.surveillance.models import CircuitCheck, RuleState, is_device_source

register = template.Library()


@register.simple_tag(takes_context=True)
def run_surveillance(context: Any, run: Any) -> dict[str, Any]:
    """Everything the run page's surveillance panel shows, in a fixed number of queries."""
    request = context.get("request")
    user = getattr(request, "user", None)
    now = context.get("now") or timezone.now()
    alerts = queries.open_alerts([run])[run.pk]
    states = {s.rule_id: s for s in RuleState.objects.filter(run=run)}
    last_check = (
        CircuitCheck.objects.filter(run=run, is_current=True)
        .select_related("recorded_by")
        .order_by("-observed_at")
        .first()
    )
    life = queries.component_life(run, now=now, states=states)
    rules = [
        {"id": rule_id, "title": rule.title, "state": states.get(rule_id)}
        for rule_id, rule in RULES.items()
        if rule_id in states
    ]
    return {
        "alerts": alerts,
        "rules": rules,
        "last_check": last_check,
        "next_check_due": None if last_check is None else last_check.observed_at + dt.timedelta(hours=1),
        "life": life,
        "now": now,
        "can_ack": user is not None and can(user, "alert.acknowledge", run),
        "can_resolve": user is not None and can(user, "alert.resolve", run),
        "can_check": user is not None and can(user, "check.record", run),
        "can_ingest": user is not None and can(user, "sample.ingest", run),
    }


@register.filter
def unit_of(code: str) -> str:
    spec = PARAMETERS.get(code)
    return "" if spec is None else spec.unit


@register.filter
def source_label(source: str) -> str:
    return "console" if is_device_source(source or "") else (source or "")


@register.filter
def num(value: Any, places: int = 2) -> str:
    """A number as a perfusionist writes it (4.4, 331, -125), "—" for None."""
    if value is None or value == "":
        return "—"
    try:
        text = f"{float(value):.{int(places)}f}"
    except (TypeError, ValueError):
        return str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@register.filter
def pct(value: Any) -> str:
    try:
        return f"{float(value) * 100:+.0f} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def status_label(status: str) -> str:
    return present.status_label(status)
