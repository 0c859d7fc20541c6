"""Transport and retrieval: pre-departure checklist, O2 and battery calculation, legs with times, events in transit.

Spec checklist:
- a transport decision gets the pre-departure checklist (primary adds the cannulation kit)
- legs with planned minutes give O2 per leg and in total (demo Run 1: 165 + 990 + 165 = 1,320 L vs 4,360 L
  carried; battery 30 min vs 90 min) and whether supplies suffice with the reserve
- leg times are filled in as they happen, never overwritten; arrival before departure refused
- events in transit are logged with category and action; the page shows it all; 403/404
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def transport(personas: dict[str, Any], run: EcmoRun) -> Decision:
    return actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="transport",
        title="Retrieval by road",
        made_at=T0 - dt.timedelta(hours=3),
        content={
            "transport_type": "primary",
            "vehicle": "road",
            "origin": "District hospital",
            "destination": "ECMO centre",
            "team": "2 ECMO consultants, perfusionist, retrieval nurse",
            "sweep_gas_l_min": 3,
            "ventilator_o2_l_min": 5,
            "oxygen_carried_l": 4360,
            "battery_runtime_min": 90,
        },
        decided_by=personas["intensivist"],
    )


def test_it_computes_oxygen_and_battery_from_the_legs(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = transport(personas, run)
    assert "cannulation_kit" in decision.checklist_items.values_list("key", flat=True)
    actor = personas["perfusionist"]
    actions.add_transport_leg(
        actor=actor,
        decision=decision,
        route="Cannulation, stabilisation",
        uses_cylinder_oxygen=False,
        on_battery=False,
        oxygen_source="wall",
    )
    actions.add_transport_leg(
        actor=actor,
        decision=decision,
        route="ICU → ambulance",
        planned_minutes=15,
        oxygen_source="2 × 680 L portable",
    )
    actions.add_transport_leg(
        actor=actor,
        decision=decision,
        route="Road",
        planned_minutes=90,
        on_battery=False,
        oxygen_source="3,000 L vehicle",
    )
    actions.add_transport_leg(actor=actor, decision=decision, route="Ambulance → ICU", planned_minutes=15)
    supplies = actions.transport_supplies(decision)
    assert supplies is not None
    assert supplies.oxygen_per_leg_l == (165, 990, 165)
    assert supplies.oxygen_needed_l == 1320 and supplies.oxygen_sufficient
    assert supplies.battery_needed_min == 30 and supplies.battery_sufficient
    html = client_for(personas["auditor"]).get(f"/decisions/{decision.pk}/transport/").content.decode()
    assert "1320 L" in html and "4360 L" in html and "Road" in html and "enough" in html
    assert html.count(">990<") == 1 and html.count(">165<") == 2


def test_it_records_leg_times_and_events(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = transport(personas, run)
    client = client_for(personas["ecmo_specialist"])
    assert (
        client.post(
            f"/decisions/{decision.pk}/transport/legs/",
            {"leg-route": "Road", "leg-planned_minutes": "90", "leg-uses_cylinder_oxygen": "on"},
        ).status_code
        == 302
    )
    leg = decision.legs.get()
    assert (
        client.post(f"/transport-legs/{leg.pk}/times/", {"t-departed_at": "2026-11-20T07:05"}).status_code
        == 302
    )
    leg.refresh_from_db()
    assert leg.departed_at == dt.datetime(2026, 11, 20, 7, 5, tzinfo=dt.UTC) and leg.on_battery is False
    with pytest.raises(ValidationError):
        actions.record_leg_times(actor=personas["perfusionist"], leg=leg, departed_at=T0)
    with pytest.raises(ValidationError) as err:
        actions.record_leg_times(
            actor=personas["perfusionist"], leg=leg, arrived_at=dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)
        )
    assert "arrived_at" in err.value.message_dict
    assert (
        client.post(
            f"/decisions/{decision.pk}/transport/events/",
            {
                "ev-at": "2026-11-20T08:48",
                "ev-category": "vehicle",
                "ev-description": "inverter tripped",
                "ev-action_taken": "40 s on battery, flow unchanged",
            },
        ).status_code
        == 302
    )
    html = client.get(f"/decisions/{decision.pk}/transport/").content.decode()
    assert "inverter tripped" in html and "Vehicle" in html
    bad = client.post(f"/decisions/{decision.pk}/transport/events/", {"ev-at": "", "ev-category": "vehicle"})
    assert bad.status_code == 400


def test_it_checks_permissions(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = transport(personas, run)
    assert client_for(personas["outsider"]).get(f"/decisions/{decision.pk}/transport/").status_code == 404
    assert (
        client_for(personas["pharmacist"])
        .post(f"/decisions/{decision.pk}/transport/legs/", {"leg-route": "Road"})
        .status_code
        == 403
    )
