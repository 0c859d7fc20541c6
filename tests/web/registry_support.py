"""A fully recorded run for the export tests: identifiers, configuration change, cannulas, a circuit with a
console, pump and oxygenator (one replaced), an Impella, pre-ECMO gases, labs, telemetry and a circuit check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import CatalogueItem, EcmoRun
from ecmo_web.surveillance import actions as surveillance_actions
from tests.web import audit_guard

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def build_run(
    program: Any,
    actor: Any,
    *,
    code: str = "TEST-0101",
    identifiers: dict[str, str] | None = None,
    birth_year: int | None = 1968,
    weight_kg: float | None = 82,
    pre_ecmo_gas: bool = True,
    end: bool = True,
    free_text: dict[str, str] | None = None,
    serials: tuple[str, str] = ("TEST-CON-77", "TEST-OXY-SN-1"),
) -> EcmoRun:
    text = free_text or {}
    run = run_actions.start_run(
        actor=actor,
        program=program,
        patient_code=code,
        sex="female",
        birth_year=birth_year,
        indication="cardiac",
        indication_detail=text.get("indication_detail", "Cardiogenic shock after myocardial infarction"),
        mode="va",
        started_at=T0,
        weight_kg=weight_kg,
        height_cm=165,
        location=text.get("location", "CICU bed 4"),
        console_serial=serials[0],
        identifiers=identifiers
        if identifiers is not None
        else {"name": "Test Person", "mrn": "TEST-MRN-0101"},
    )
    run_actions.change_configuration(
        actor=actor,
        run=run,
        mode="vav",
        started_at=hours(30),
        reason=text.get("reason", "Differential hypoxaemia"),
    )
    run_actions.add_cannula(
        actor=actor,
        run=run,
        purpose="drainage",
        site="right_femoral_vein",
        size_fr=25,
        inserted_at=T0,
        length_cm=55,
        tip_position=text.get("tip_position", "RA/IVC junction"),
        maker_model="TEST cannula 25",
    )
    run_actions.add_cannula(
        actor=actor,
        run=run,
        purpose="return",
        site="left_femoral_artery",
        size_fr=17,
        inserted_at=T0,
        length_cm=23,
    )
    oxygenator_item, _ = CatalogueItem.objects.get_or_create(
        kind="oxygenator", maker="Getinge", model="HLS 7.0"
    )
    run_actions.install_component(
        actor=actor,
        run=run,
        kind="console",
        maker="Getinge",
        model="Cardiohelp",
        installed_at=T0,
        serial=serials[0],
    )
    run_actions.install_component(
        actor=actor,
        run=run,
        kind="pump_head",
        maker="Getinge",
        model=text.get("pump_model", "HLS pump"),
        installed_at=T0,
        lot="TEST-LOT-P1",
    )
    run_actions.install_component(
        actor=actor,
        run=run,
        kind="oxygenator",
        maker="",
        model="",
        catalogue_item=oxygenator_item,
        installed_at=T0,
        lot="TEST-LOT-O1",
        serial=serials[1],
    )
    run_actions.install_component(
        actor=actor,
        run=run,
        kind="oxygenator",
        maker="",
        model="",
        catalogue_item=oxygenator_item,
        installed_at=hours(40),
        lot="TEST-LOT-O2",
        reason_replaced=text.get("reason_replaced", "Rising ΔP"),
    )
    run_actions.add_mcs_device(actor=actor, run=run, kind="impella", model="Impella CP", inserted_at=hours(2))
    samples: list[dict[str, Any]] = []
    if pre_ecmo_gas:
        samples += [
            {"observed_at": hours(-1), "parameter": "arterial_ph", "value": 7.18, "source": "lab"},
            {"observed_at": hours(-1), "parameter": "arterial_pco2_mmhg", "value": 52, "source": "lab"},
            {"observed_at": hours(-1), "parameter": "arterial_po2_mmhg", "value": 61, "source": "lab"},
            {"observed_at": hours(-1), "parameter": "lactate_mmol_l", "value": 8.2, "source": "lab"},
        ]
    samples += [{"observed_at": hours(6), "parameter": "anti_xa_iu_ml", "value": 0.31, "source": "lab"}]
    samples += [
        {
            "observed_at": hours(h / 2),
            "parameter": "blood_flow_l_min",
            "value": 4.0 + h / 100,
            "source": "console",
        }
        for h in range(0, 20)
    ]
    samples += [
        {"observed_at": hours(3), "parameter": "impella_flow_l_min", "value": 2.1, "source": "console"}
    ]
    with_now = hours(80)
    surveillance_actions.ingest_samples(
        actor_or_system=actor, run=run, samples=samples, now=with_now, evaluate=False
    )
    surveillance_actions.record_check(
        actor=actor,
        run=run,
        observed_at=hours(4),
        data={
            "pump_speed_rpm": 3200,
            "blood_flow_l_min": 4.1,
            "fdo2": 0.8,
            "notes": text.get("check_notes", ""),
        },
        now=hours(4),
    )
    if end:
        run_actions.end_run(actor=actor, run=run, ended_at=hours(72), outcome="weaned")
        run.survived_to_discharge = True
        with audit_guard.unaudited():  # no action records discharge yet (noted in the closing note)
            run.save(update_fields=["survived_to_discharge"])
    run.refresh_from_db()
    return run
