"""Concurrent MCS: device page with settings and checks beside ECMO; MCS decisions applying a setting.

Spec checklist:
- a check records position, limb perfusion, alarms and the device's own readings (named per kind, in range)
- a reading the device kind does not have, or out of range, is refused naming it; no check before insertion
- the device page lists settings and checks on one time line, with who checked in what role
- an MCS decision can apply a new setting (record_mcs_setting) when decided
- mcs.edit needed (403 for nurses), 404 outside the program; audit written
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions import actions
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun, McsDevice
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


@pytest.fixture
def impella(personas: dict[str, Any], run: EcmoRun) -> McsDevice:
    return run_actions.add_mcs_device(
        actor=personas["cardiologist"],
        run=run,
        kind="impella",
        model="Impella CP",
        inserted_at=T0 + dt.timedelta(hours=5),
        site="right femoral artery",
    )


def test_it_records_a_check_and_shows_it_beside_the_settings(
    personas: dict[str, Any], run: EcmoRun, impella: McsDevice, client_for: Any
) -> None:
    run_actions.record_mcs_setting(
        actor=personas["perfusionist"],
        device=impella,
        at=T0 + dt.timedelta(hours=6),
        impella_p_level=6,
        flow_l_min=2.1,
    )
    client = client_for(personas["perfusionist"])
    response = client.post(
        f"/mcs-devices/{impella.pk}/",
        {
            "at": "2026-11-20T18:00",
            "position_confirmed": "true",
            "position_note": "3.5 cm below the valve (TTE)",
            "limb_perfusion_ok": "true",
            "impella_p_level": "6",
            "purge_pressure_mmhg": "480",
            "purge_flow_ml_h": "12",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    check = impella.checks.get()
    assert check.readings == {"impella_p_level": 6.0, "purge_pressure_mmhg": 480.0, "purge_flow_ml_h": 12.0}
    assert check.checked_by_role == "perfusionist"
    html = client.get(f"/mcs-devices/{impella.pk}/").content.decode()
    assert "P6" in html and "Purge pressure 480 mmHg" in html and "position confirmed" in html
    assert "mcs.check_recorded" in set(AuditEvent.objects.values_list("action", flat=True))


def test_it_refuses_readings_of_another_kind_or_out_of_range(
    personas: dict[str, Any], impella: McsDevice
) -> None:
    at = T0 + dt.timedelta(hours=8)
    with pytest.raises(ValidationError) as err:
        actions.record_mcs_check(
            actor=personas["perfusionist"], device=impella, at=at, readings={"augmented_diastolic_mmhg": 90}
        )
    assert "readings.augmented_diastolic_mmhg" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.record_mcs_check(
            actor=personas["perfusionist"], device=impella, at=at, readings={"purge_flow_ml_h": 99}
        )
    assert "readings.purge_flow_ml_h" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.record_mcs_check(actor=personas["perfusionist"], device=impella, at=T0)
    assert "at" in err.value.message_dict


def test_it_applies_a_setting_from_an_mcs_decision(
    personas: dict[str, Any], run: EcmoRun, impella: McsDevice
) -> None:
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="mcs",
        title="Wean Impella to P3",
        made_at=T0 + dt.timedelta(days=1),
        content={"device": impella.pk, "change": "P4 → P3", "impella_p_level": 3, "apply_setting": True},
        decided_by=personas["cardiologist"],
    )
    assert decision.mcs_device == impella
    setting = impella.settings.get()
    assert setting.impella_p_level == 3 and setting.at == decision.decided_at


def test_it_checks_permissions(personas: dict[str, Any], impella: McsDevice, client_for: Any) -> None:
    assert (
        client_for(personas["bedside_nurse"])
        .post(f"/mcs-devices/{impella.pk}/", {"at": "2026-11-20T18:00"})
        .status_code
        == 403
    )
    assert client_for(personas["outsider"]).get(f"/mcs-devices/{impella.pk}/").status_code == 404
    assert client_for(personas["bedside_nurse"]).get(f"/mcs-devices/{impella.pk}/").status_code == 200
