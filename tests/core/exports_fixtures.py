"""Plain records for the export mapping tests (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ecmo_core.exports.records import (
    CannulaRecord,
    CheckRecord,
    CircuitRecord,
    Complication,
    ComponentRecord,
    ConfigurationRecord,
    McsRecord,
    Measurement,
    PatientRecord,
    RunRecord,
    TelemetrySummary,
)

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def h(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def full_run(**changes: object) -> RunRecord:
    console = ComponentRecord(1, "console", "Getinge", "Cardiohelp", T0, h(72), serial="TEST-CON-1")
    pump = ComponentRecord(2, "pump_head", "Getinge", "HLS pump", T0, h(72), lot="TEST-LOT-P")
    lung1 = ComponentRecord(
        3,
        "oxygenator",
        "Getinge",
        "HLS 7.0",
        T0,
        h(40),
        lot="TEST-LOT-O1",
        serial="TEST-OXY-1",
        reason_removed="Rising ΔP",
        catalogued=True,
    )
    lung2 = ComponentRecord(4, "oxygenator", "Getinge", "HLS 7.0", h(40), h(72), catalogued=True)
    heater = ComponentRecord(5, "heater", "Maquet", "HU 35", T0, h(72))
    tubing = ComponentRecord(6, "tubing_pack", "Getinge", "3/8 pack", T0, h(72))
    run = RunRecord(
        id=7,
        patient=PatientRecord(
            "TEST-0007",
            "female",
            1968,
            (("name", "Test Person"), ("mrn", "TEST-MRN-7"), ("national", "TEST-NAT-7")),
        ),
        indication="cardiac",
        started_at=T0,
        ended_at=h(72),
        outcome="weaned",
        survived_to_discharge=True,
        weight_kg=82.0,
        height_cm=165.0,
        indication_detail="Cardiogenic shock",
        configurations=(
            ConfigurationRecord("vav", h(30), "Differential hypoxaemia"),
            ConfigurationRecord("va", T0),
        ),
        cannulas=(
            CannulaRecord(11, "drainage", "right_femoral_vein", 25, T0, h(72), 55, "RA", "TEST cannula"),
            CannulaRecord(12, "return", "left_femoral_artery", 17, T0, h(72), 23),
            CannulaRecord(13, "return", "right_internal_jugular", 17, h(30), h(72)),
        ),
        circuits=(CircuitRecord(21, T0, h(72), "run ended", (console, pump, lung1, lung2, heater, tubing)),),
        mcs_devices=(McsRecord(31, "impella", "Impella CP", h(2), h(60), "left femoral"),),
        complications=(
            Complication(
                41,
                "mechanical",
                "mech.oxygenator_failure",
                "severe",
                h(39),
                "Oxygenator failure",
                3,
                "clot on the inflow face",
            ),
            Complication(42, "hemorrhagic", "hem.gi", "moderate", h(50)),
        ),
        measurements=(
            Measurement("arterial_ph", h(-8), 7.30, "lab"),  # outside the 6 h window
            Measurement("arterial_ph", h(-1), 7.18, "lab"),
            Measurement("arterial_pco2_mmhg", h(-1), 52.0, "lab"),
            Measurement("arterial_po2_mmhg", h(-2), 61.0, "lab"),
            Measurement("anti_xa_iu_ml", h(6), 0.31, "lab"),
            Measurement("blood_flow_l_min", h(1), 4.1, "device"),
        ),
        summaries=(
            TelemetrySummary("blood_flow_l_min", T0, h(24), 48, 4.1, 3.9, 4.4),
            TelemetrySummary("post_oxygenator_pressure_mmhg", T0, h(24), 48, 210.0, 190.0, 230.0),
            TelemetrySummary("impella_flow_l_min", T0, h(24), 10, 2.1, 1.9, 2.5),
            TelemetrySummary("vad_flow_l_min", T0, h(24), 1, 3.0, 3.0, 3.0),
            TelemetrySummary("spo2", T0, h(24), 10, 0.93, 0.88, 0.97),
            TelemetrySummary("new_code_x", T0, h(24), 1, 1.0, 1.0, 1.0),
        ),
        checks=(
            CheckRecord(
                51, h(4), "alice", (("blood_flow_l_min", 4.1),), (("connectors_secure", True),), "ok"
            ),
            CheckRecord(52, h(5)),
        ),
    )
    return replace(run, **changes)  # type: ignore[arg-type]


def bare_run(**changes: object) -> RunRecord:
    run = RunRecord(id=8, patient=PatientRecord("TEST-0008"), indication="respiratory", started_at=T0)
    return replace(run, **changes)  # type: ignore[arg-type]
