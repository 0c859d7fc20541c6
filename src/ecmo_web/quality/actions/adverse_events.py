"""Recording an adverse event: coded from the complication list, on a run, with its component, lot and the alert
that preceded it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web import kernel
from ecmo_web.audit.chain import snapshot
from ecmo_web.quality.codes import code_list
from ecmo_web.quality.models import AdverseEvent, EventSeverity
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance.models import Alert


@transaction.atomic
def record_adverse_event(
    *,
    actor: Any,
    run: EcmoRun,
    code: str,
    severity: str,
    onset_at: dt.datetime,
    category: str = "",
    component: Component | None = None,
    lot: str = "",
    alert: Alert | None = None,
    action_taken: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> AdverseEvent:
    """Record a complication. ``category`` follows from ``code`` (if given, it must agree); ``lot`` defaults to
    the component's lot. The component and the alert must belong to the run."""
    kernel.require(actor, "adverse_event.record", run)
    now = now or timezone.now()
    codes = code_list()
    found = codes.get(code)
    if found is None:
        raise ValidationError({"code": "choose a complication from the list"})
    if category and category != found.category:
        label = codes.category(found.category)
        raise ValidationError(
            {"category": f"{found.label} belongs to {label.label if label else found.category}"}
        )
    if severity not in EventSeverity.values:
        raise ValidationError({"severity": f"use one of {', '.join(EventSeverity.values)}"})
    onset_at = kernel.not_in_future(kernel.aware(onset_at, field="onset_at"), field="onset_at", now=now)
    if onset_at < run.started_at:
        raise ValidationError({"onset_at": "must be on or after the start of the run"})
    if component is not None and component.circuit.run_id != run.pk:
        raise ValidationError({"component": "that component is not on this run"})
    if alert is not None and alert.run_id != run.pk:
        raise ValidationError({"alert": "that alert is not on this run"})
    lot = lot.strip() or (component.lot if component is not None else "")
    if len(lot) > 60:
        raise ValidationError({"lot": "at most 60 characters"})
    event = AdverseEvent.objects.create(
        run=run,
        category=found.category,
        code=found.code,
        severity=severity,
        onset_at=onset_at,
        component=component,
        lot=lot,
        alert=alert,
        action_taken=action_taken.strip(),
        description=description.strip(),
        recorded_by=kernel.user_of(actor),
        recorded_at=now,
    )
    kernel.audit(actor, "adverse_event.recorded", event, after=snapshot(event))
    return event
