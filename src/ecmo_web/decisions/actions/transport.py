"""Transport: legs, leg times, supplies and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ecmo_core import pathways
from ecmo_core.errors import InputError
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save, _when
from ecmo_web.decisions.models import (
    Decision,
    Kind,
    TransportEvent,
    TransportLeg,
)
from ecmo_web.kernel import audit, require, user_of


@transaction.atomic
def add_transport_leg(
    *,
    actor: Any,
    decision: Decision,
    route: str,
    planned_minutes: int | None = None,
    uses_cylinder_oxygen: bool = True,
    on_battery: bool = True,
    oxygen_source: str = "",
    departed_at: dt.datetime | None = None,
    arrived_at: dt.datetime | None = None,
    note: str = "",
) -> TransportLeg:
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.TRANSPORT:
        raise ValidationError({"decision": "legs belong to transport decisions"})
    if not route.strip():
        raise ValidationError({"route": "describe the leg"})
    run = decision.run
    dep = _when(run, "departed_at", departed_at) if departed_at else None
    arr = _when(run, "arrived_at", arrived_at) if arrived_at else None
    if dep and arr and arr < dep:
        raise ValidationError({"arrived_at": "cannot be before the departure"})
    if planned_minutes is not None and not 0 <= planned_minutes <= 24 * 60:
        raise ValidationError({"planned_minutes": "must be between 0 and 1440 minutes"})
    position = decision.legs.count() + 1
    leg = TransportLeg(
        decision=decision,
        position=position,
        route=route.strip(),
        planned_minutes=planned_minutes,
        uses_cylinder_oxygen=uses_cylinder_oxygen,
        on_battery=on_battery,
        oxygen_source=oxygen_source.strip(),
        departed_at=dep,
        arrived_at=arr,
        note=note.strip(),
    )
    _save(leg)
    audit(actor=actor, action="decision.transport_leg_added", obj=leg, after=snapshot(leg))
    return leg


@transaction.atomic
def record_leg_times(
    *,
    actor: Any,
    leg: TransportLeg,
    departed_at: dt.datetime | None = None,
    arrived_at: dt.datetime | None = None,
) -> TransportLeg:
    """Fill in a leg's departure or arrival as it happens (a time already recorded is not overwritten)."""
    require(actor, "pathway.record", leg)
    before = snapshot(leg)
    run = leg.decision.run
    if departed_at is not None:
        if leg.departed_at is not None:
            raise ValidationError({"departed_at": "already recorded"})
        leg.departed_at = _when(run, "departed_at", departed_at)
    if arrived_at is not None:
        if leg.arrived_at is not None:
            raise ValidationError({"arrived_at": "already recorded"})
        leg.arrived_at = _when(run, "arrived_at", arrived_at)
    if leg.departed_at and leg.arrived_at and leg.arrived_at < leg.departed_at:
        raise ValidationError({"arrived_at": "cannot be before the departure"})
    leg.save(update_fields=["departed_at", "arrived_at"])
    audit(actor=actor, action="decision.transport_leg_timed", obj=leg, before=before, after=snapshot(leg))
    return leg


def transport_supplies(decision: Decision) -> pathways.TransportSupplies | None:
    c = decision.content
    legs = [
        pathways.TransportLegPlan(leg.route, leg.planned_minutes, leg.uses_cylinder_oxygen, leg.on_battery)
        for leg in decision.legs.all()
        if leg.planned_minutes is not None
    ]
    try:
        return pathways.transport_supplies(
            legs=legs,
            sweep_gas_l_min=c["sweep_gas_l_min"],
            ventilator_o2_l_min=c["ventilator_o2_l_min"],
            oxygen_carried_l=c["oxygen_carried_l"],
            battery_runtime_min=c["battery_runtime_min"],
        )
    except (KeyError, InputError):
        return None


@transaction.atomic
def add_transport_event(
    *,
    actor: Any,
    decision: Decision,
    at: dt.datetime,
    category: str,
    description: str,
    action_taken: str = "",
) -> TransportEvent:
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.TRANSPORT:
        raise ValidationError({"decision": "in-transit events belong to transport decisions"})
    event = TransportEvent(
        decision=decision,
        at=_when(decision.run, "at", at),
        category=category,
        description=description.strip(),
        action_taken=action_taken.strip(),
        recorded_by=user_of(actor),
    )
    _save(event)
    audit(actor=actor, action="decision.transport_event_recorded", obj=event, after=snapshot(event))
    return event
