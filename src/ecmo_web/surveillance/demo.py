"""Demo step: telemetry, hourly checks and labs for the five demo runs (shared/clinical/demo-scenarios.md), then
the rules evaluated along each run, and the alerts acknowledged, escalated and resolved as the scenarios tell.

Telemetry: each table row's values are held until the next row, every 3 minutes from the start of the run to its
end (or now), with fixed-seed noise (flow ±0.05 L/min, access ±3 mmHg, rpm ±20, one shared ±3 mmHg on pre and
post so that ΔP moves only where a row moves it); the §9 artefacts are reproduced (disconnected probe, clock jump,
duplicate HL7 message, noisy chatter). Checks are hourly (source "check"), labs as listed (source "lab"); the
post-oxygenator PO2/PCO2 are blood gases (lab) at each row and every morning at 06:00.

Everything is written in bulk (one ingest batch and one audit event per run for the telemetry, one for the checks)
so that ``make demo`` stays fast; the alerts come from the same ``evaluate_run`` as live data.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecmo_core.surveillance import Sample
from ecmo_web.audit.chain import append
from ecmo_web.demo.seed import DemoContext
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import (
    CHECK_PARAMETERS,
    Alert,
    CircuitCheck,
    ClotFinding,
    IngestBatch,
)

# Three samples must fall in every 10-min median window (engine.min_window_samples) whenever the rules are
# evaluated, also between samples (a check, a lab, an acknowledgement): 3 min is the sparsest grid that ensures it.
GRID = dt.timedelta(minutes=3)
COLUMNS = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "pre_oxygenator_so2",
    "post_oxygenator_so2",
    "post_oxygenator_po2_mmhg",
    "post_oxygenator_pco2_mmhg",
)
GASES = ("post_oxygenator_po2_mmhg", "post_oxygenator_pco2_mmhg")  # blood gases: lab samples, not telemetry
LAB_KEYS = {
    "pfhb": "plasma_free_hb_mg_dl",
    "ldh": "ldh_u_l",
    "axa": "anti_xa_iu_ml",
    "aptt": "aptt_s",
    "act": "act_s",
    "fib": "fibrinogen_mg_dl",
    "plt": "platelets_10e3_ul",
    "hb": "hemoglobin_g_dl",
    "ddimer": "d_dimer_mg_l",
}


def row(
    stamp: str,
    q: float,
    rpm: float,
    pacc: float,
    ppre: float,
    ppost: float,
    sweep: float,
    fdo2: float,
    spre: float,
    spost: float,
    po2: float,
    pco2: float,
    **extra: float,
) -> tuple[str, dict[str, float]]:
    values = dict(zip(COLUMNS, (q, rpm, pacc, ppre, ppost, sweep, fdo2, spre, spost, po2, pco2), strict=True))
    values.update(extra)
    return stamp, values


def labs(stamp: str, **values: float) -> tuple[str, dict[str, float]]:
    return stamp, {LAB_KEYS.get(k, k): v for k, v in values.items()}


@dataclass
class Ack:
    """What happened to an alert in the story: who acknowledged (and when, with what comment), escalation,
    resolution (linked component: the kind fitted at that time)."""

    rule_id: str
    opened: str  # scenario time the alert is expected to open (the nearest alert within 3 h is taken)
    ack_by: str = ""
    ack_at: str = ""
    comment: str = ""
    resolve_by: str = ""
    resolve_at: str = ""
    resolution: str = ""
    component: str = ""  # kind of the component fitted at resolve_at
    escalate_at: str = ""
    escalate_to: str = "intensivist"


@dataclass
class Scenario:
    code: str
    rows: list[tuple[str, dict[str, float]]]
    labs: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    extra: list[tuple[str, str, float, str]] = field(default_factory=list)  # (stamp, code, value, source)
    first_checks: list[str] = field(default_factory=list)  # checks before the hourly rhythm starts
    skip_checks: tuple[str, str] | None = None  # no check in this span (transport)
    temperature: float = 36.8
    acks: list[Ack] = field(default_factory=list)


# --- the five runs (demo-scenarios §1–5) ------------------------------------------------------------------------

RUN1 = Scenario(
    "DEMO-0001",
    rows=[
        row("D0 14:00", 4.8, 3400, -60, 250, 234, 3.0, 1.0, 0.76, 1.00, 482, 36),
        row("D1 06:00", 4.8, 3400, -62, 252, 236, 4.0, 1.0, 0.80, 1.00, 476, 31),
        row("D1 10:00", 4.8, 3420, -64, 251, 235, 4.0, 1.0, 0.73, 1.00, 478, 31),
        row("D4 06:00", 4.8, 3400, -58, 251, 234, 5.0, 1.0, 0.71, 1.00, 445, 30),
        row("D5 06:00", 4.8, 3400, -59, 254, 234, 4.5, 1.0, 0.72, 1.00, 405, 33),
        row("D5 12:00", 4.4, 3250, -52, 228, 209, 4.5, 1.0, 0.70, 1.00, 392, 34),
        row("D6 00:00", 4.4, 3250, -53, 230, 209, 4.5, 1.0, 0.70, 1.00, 358, 35),
        row("D6 04:00", 4.4, 3250, -54, 232, 209, 4.5, 1.0, 0.70, 0.99, 331, 37),
        # Flow resumes on the new oxygenator at 14:22:20: its pressures from then on (the D6 16:00 row).
        row("D6 14:22:20", 4.4, 3250, -55, 223, 209, 4.0, 1.0, 0.70, 1.00, 505, 29),
        row("D6 16:00", 4.4, 3250, -55, 223, 209, 4.0, 1.0, 0.70, 1.00, 505, 29),
    ],
    labs=[
        labs("D0 14:00", ldh=520, fib=560, plt=210, hb=11.8, ddimer=2.1),
        labs("D0 20:00", axa=0.22),
        labs("D1 02:00", axa=0.33),
        labs("D1 06:00", pfhb=6, ldh=480, axa=0.36, fib=580, plt=195, hb=11.2, ddimer=2.4),
        labs("D4 06:00", pfhb=6, ldh=430, axa=0.38, fib=520, plt=165, hb=10.1, ddimer=4.2),
        labs("D5 06:00", pfhb=7, ldh=440, axa=0.35, fib=430, plt=130, hb=9.8, ddimer=7.8),
        labs("D6 06:00", pfhb=8, ldh=455, axa=0.33, fib=340, plt=108, hb=9.4, ddimer=12.6),
    ],
    # Mixed-venous SO2 cannot be sampled on V-V: an estimate for the recirculation calculation (§1 D1 06:00).
    extra=[("D1 06:00", "mixed_venous_so2", 0.66, "estimate")],
    first_checks=["D0 10:30", "D0 11:40", "D0 13:50"],
    skip_checks=("D0 10:31", "D0 14:59"),
    acks=[
        Ack(
            "anticoagulation.out_of_range",
            "D0 20:00",
            "intensivist",
            "D0 20:25",
            "anti-Xa 0.22 below 0.30–0.50: UFH up 2 U/kg/h, repeat at 02:00",
            "intensivist",
            "D1 02:15",
            "anti-Xa 0.33 in range after the dose change",
        ),
        Ack(
            "documentation.check_overdue",
            "D0 12:55",
            "ecmo_specialist",
            "D0 13:05",
            "on the road: circuit watched continuously, check documented on arrival",
            "perfusionist",
            "D0 13:55",
            "retrieval checks at 11:40 and 13:50; hourly checks resumed",
        ),
        Ack(
            "recirculation.high",
            "D1 06:00",
            "perfusionist",
            "D1 06:12",
            "Spre 0.80 with SpO2 84 %: recirculation 0.41; drainage cannula pulled back 4 cm under echo",
            "intensivist",
            "D1 10:20",
            "recirculation 0.21 after repositioning",
        ),
        Ack(
            "oxygenator.delta_p_rise",
            "D6 04:00",
            "perfusionist",
            "D6 04:09",
            "resistance +57 %, gas transfer adequate, pump quiet; elective change after rounds; spare primed",
            "perfusionist",
            "D6 14:22:20",
            "oxygenator changed 14:21–14:22 (70 s off flow), new lot DEMO-OXA-0587; new baseline forming",
            component=ComponentKind.OXYGENATOR,
        ),
    ],
)

RUN2 = Scenario(
    "DEMO-0002",
    rows=[
        row("D0 14:30", 4.4, 3500, -55, 282, 260, 3.0, 0.60, 0.58, 1.00, 188, 34, pulse_pressure_mmhg=12),
        row("D0 18:00", 4.4, 3500, -57, 286, 264, 3.0, 0.55, 0.60, 1.00, 162, 35, pulse_pressure_mmhg=6),
        row(
            "D0 20:00",
            4.0,
            3300,
            -50,
            262,
            242,
            3.0,
            0.55,
            0.62,
            1.00,
            158,
            35,
            pulse_pressure_mmhg=8,
            impella_p_level=6,
            impella_flow_l_min=2.1,
        ),
        row(
            "D1 06:00",
            3.8,
            3200,
            -48,
            248,
            229,
            2.5,
            0.50,
            0.66,
            1.00,
            150,
            36,
            pulse_pressure_mmhg=10,
            impella_p_level=5,
            impella_flow_l_min=1.9,
        ),
        row(
            "D2 06:00",
            3.5,
            3050,
            -44,
            230,
            213,
            2.5,
            0.50,
            0.70,
            0.99,
            142,
            37,
            pulse_pressure_mmhg=14,
            impella_p_level=4,
            impella_flow_l_min=1.6,
        ),
        row(
            "D3 06:00",
            3.2,
            2900,
            -40,
            214,
            198,
            2.5,
            0.55,
            0.72,
            1.00,
            168,
            36,
            pulse_pressure_mmhg=22,
            impella_p_level=4,
            impella_flow_l_min=1.8,
            right_radial_po2_mmhg=54,
            spo2=0.87,
        ),
        row(
            "D3 10:00",
            3.2,
            2900,
            -40,
            214,
            198,
            2.5,
            0.55,
            0.72,
            1.00,
            168,
            36,
            pulse_pressure_mmhg=22,
            impella_p_level=4,
            impella_flow_l_min=1.8,
            right_radial_po2_mmhg=82,
            spo2=0.95,
        ),
        row(
            "D4 06:00",
            3.0,
            2800,
            -36,
            204,
            189,
            2.0,
            0.50,
            0.74,
            1.00,
            152,
            37,
            pulse_pressure_mmhg=28,
            impella_p_level=3,
            impella_flow_l_min=1.4,
            right_radial_po2_mmhg=84,
            spo2=0.95,
        ),
    ],
    labs=[
        labs("D0 14:30", pfhb=14, ldh=1150, act=262, fib=310, plt=220, hb=13.2),
        labs("D1 06:00", pfhb=12, ldh=1420, axa=0.34, fib=380, plt=160, hb=10.8),
        labs("D2 06:00", pfhb=9, ldh=1260, axa=0.78, fib=420, plt=128, hb=10.1),
        labs("D2 12:00", axa=0.56),
        labs("D3 06:00", pfhb=8, ldh=980, fib=460, plt=115, hb=9.6),  # anti-Xa sample clotted: missing
        labs("D4 06:00", pfhb=7, ldh=820, axa=0.48, fib=480, plt=120, hb=9.8),
    ],
    first_checks=["D0 14:40"],
    acks=[
        Ack(
            "hemolysis.pfhb_high",
            "D0 14:30",
            "perfusionist",
            "D0 14:50",
            "pfHb 14 after cannulation in the cath lab; pressures and pump sound normal; repeat with morning labs",
            "perfusionist",
            "D2 06:20",
            "pfHb 9, below 10",
        ),
        Ack(
            "anticoagulation.out_of_range",
            "D2 06:00",
            "intensivist",
            "D2 06:30",
            "anti-Xa 0.78 above 0.30–0.70 (purge heparin counted): UFH down 1 U/kg/h, repeat at 12:00",
            "intensivist",
            "D2 12:20",
            "anti-Xa 0.56 in range",
        ),
    ],
)

RUN3 = Scenario(
    "DEMO-0003",
    rows=[
        row("D0 12:00", 3.8, 3300, -47, 246, 228, 2.5, 0.50, 0.62, 1.00, 156, 36, blood_temperature_c=36.0),
        row("D3 00:00", 3.8, 3300, -47, 246, 228, 2.5, 0.50, 0.66, 1.00, 152, 37, blood_temperature_c=36.6),
        row("D4 06:00", 3.4, 3100, -45, 226, 209, 2.5, 0.45, 0.71, 1.00, 147, 38, blood_temperature_c=36.8),
        row("D5 06:00", 3.2, 3300, -47, 218, 202, 2.5, 0.45, 0.70, 1.00, 148, 38, blood_temperature_c=36.8),
        row("D5 12:00", 3.1, 3400, -48, 216, 200, 2.5, 0.45, 0.69, 1.00, 145, 38, blood_temperature_c=36.9),
        # New pump head from 14:32 (flow resumes): the D5 15:00 values.
        row("D5 14:32", 3.8, 3300, -47, 246, 228, 2.5, 0.45, 0.70, 1.00, 152, 37, blood_temperature_c=36.8),
        row("D5 15:00", 3.8, 3300, -47, 246, 228, 2.5, 0.45, 0.70, 1.00, 152, 37, blood_temperature_c=36.8),
        row("D7 06:00", 3.4, 3000, -44, 226, 210, 2.0, 0.45, 0.73, 1.00, 150, 38, blood_temperature_c=36.9),
    ],
    labs=[
        labs("D1 06:00", pfhb=14, ldh=690, axa=0.36, fib=260, plt=120, hb=11.0),
        labs("D2 06:00", pfhb=8, ldh=610, axa=0.41, fib=340, plt=104, hb=10.4),
        labs("D4 06:00", pfhb=16, ldh=720, axa=0.39, fib=430, plt=101, hb=9.8),
        labs("D5 06:00", pfhb=48, ldh=1460, axa=0.33, fib=380, plt=86, hb=8.9),
        labs("D5 12:00", pfhb=62, ldh=1820, hb=8.6),
        labs("D5 20:00", pfhb=38, ldh=1900, axa=0.40, fib=360, plt=92, hb=8.3),
        labs("D7 06:00", pfhb=8, ldh=820, axa=0.45, fib=420, plt=110, hb=9.4),
    ],
    # Micro-air at the reconnection after the pump-head change (§3), minute-exact.
    extra=[
        ("D5 14:32:20", "bubble_detected", 1.0, "device"),
        ("D5 14:33:40", "bubble_detected", 0.0, "device"),
    ],
    first_checks=["D0 03:15"],
    acks=[
        Ack(
            "hemolysis.pfhb_high",
            "D1 06:00",
            "perfusionist",
            "D1 06:25",
            "pfHb 14 on day 1 after ECPR; no circuit cause seen; repeat tomorrow",
            "perfusionist",
            "D2 06:20",
            "pfHb 8",
        ),
        Ack(
            "hemolysis.pfhb_high",
            "D4 06:00",
            "perfusionist",
            "D4 06:30",
            "pfHb 16, LDH 720: listen to the pump head, torch inspection each check, repeat 06:00",
            "intensivist",
            "D7 06:30",
            "pfHb 8 after the pump-head change",
        ),
        Ack(
            "pump.flow_per_rpm_fall",
            "D5 12:00",
            "perfusionist",
            "D5 12:40",
            "flow per rpm −21 %, dark deposit at the pump inlet, new whine, pfHb 62: pump-head thrombus; "
            "access, membrane and afterload steady; change proposed",
            "perfusionist",
            "D5 14:32",
            "pump head changed 14:31–14:32 (55 s off flow), lot DEMO-PHB-0348; 4 mm thrombus on the pivot",
            component=ComponentKind.PUMP_HEAD,
            escalate_at="D5 12:35",
        ),
        Ack(
            "air.detected",
            "D5 14:32:20",
            "perfusionist",
            "D5 14:33",
            "micro-air at the reconnection, de-aired at the pre-pump port; no air reached the patient",
            "perfusionist",
            "D5 14:40",
            "de-aired; detector clear since 14:33:40",
        ),
    ],
)

RUN4 = Scenario(
    "DEMO-0004",
    rows=[
        row("D0 18:00", 4.3, 3500, -72, 296, 278, 4.0, 1.0, 0.68, 1.00, 488, 34),
        row("D3 03:40", 3.7, 3500, -125, 270, 254, 5.0, 1.0, 0.69, 1.00, 470, 32),
        row("D3 04:30", 3.9, 3250, -78, 276, 259, 5.0, 1.0, 0.70, 1.00, 474, 32),
        row("D5 14:20", 3.8, 3200, -66, 262, 246, 4.0, 1.0, 0.71, 0.98, 108, 33),
        row("D5 14:40", 3.8, 3200, -66, 262, 246, 4.0, 1.0, 0.72, 1.00, 472, 33),
        row("D12 06:00", 3.0, 2850, -46, 206, 194, 2.0, 1.0, 0.76, 1.00, 455, 38),
        row("D12 08:00", 3.0, 2850, -46, 206, 194, 2.0, 0.21, 0.76, 0.98, 130, 40),
        row("D12 10:00", 2.5, 2600, -37, 175, 165, 0.0, 0.21, 0.72, 0.72, 40, 50),
    ],
    labs=[
        labs("D0 18:00", pfhb=6, ldh=680, aptt=49, fib=620, plt=240, hb=11.0),
        labs("D3 06:00", pfhb=11, ldh=610, aptt=55, fib=560, plt=180, hb=9.8),
        labs("D5 06:00", pfhb=6, ldh=560, aptt=58, fib=500, plt=175, hb=9.2),
        labs("D8 06:00", pfhb=5, ldh=430, aptt=72, fib=450, plt=190, hb=8.8),
        labs("D8 12:00", aptt=61),
        labs("D12 06:00", pfhb=4, ldh=360, aptt=54, fib=400, plt=220, hb=9.1),
        labs("D12 22:00", aptt=56),
    ],
    first_checks=["D0 17:00"],
    acks=[
        Ack(
            "access.pressure_low",
            "D3 03:40",
            "ecmo_specialist",
            "D3 03:48",
            "chatter from hypovolaemia: rpm 3500 → 3250 and 500 mL of fluid",
            "perfusionist",
            "D3 04:45",
            "access −78 after fluid and less speed; no chatter",
        ),
        Ack(
            "hemolysis.pfhb_high",
            "D3 06:00",
            "perfusionist",
            "D3 06:30",
            "pfHb 11 after the chatter episode; expected to settle",
            "perfusionist",
            "D5 06:20",
            "pfHb 6",
        ),
        Ack(
            "oxygenator.post_po2_low",
            "D5 14:20",
            "perfusionist",
            "D5 14:22",
            "O2 hose out of the wall: blender blowing air while showing FdO2 1.0 (supply alarm muted); "
            "reconnected 14:26",
            "perfusionist",
            "D5 14:45",
            "post-oxygenator PO2 472 on oxygen; near-miss reported, supply alarm re-armed",
        ),
        Ack(
            "anticoagulation.out_of_range",
            "D8 06:00",
            "intensivist",
            "D8 06:40",
            "aPTT 72 above 45–65: bivalirudin 0.04 → 0.035 mg/kg/h",
            "intensivist",
            "D8 12:20",
            "aPTT 61",
        ),
    ],
)

RUN5 = Scenario(
    "DEMO-0005",
    rows=[
        row("D0 22:00", 4.0, 3600, -58, 300, 284, 2.5, 0.60, 0.52, 1.00, 171, 35),
        row("D1 06:00", 3.8, 3500, -55, 286, 271, 2.5, 0.55, 0.60, 1.00, 158, 36),
        row("D2 06:00", 3.6, 3400, -50, 272, 258, 2.5, 0.50, 0.66, 1.00, 149, 37),
        row("D4 06:00", 3.0, 3000, -40, 236, 224, 2.0, 0.45, 0.72, 1.00, 144, 38),
        row("D6 10:00", 2.5, 2700, -34, 210, 200, 1.5, 0.45, 0.75, 1.00, 150, 36),
        row("D6 10:40", 1.2, 1950, -12, 128, 123, 1.0, 0.45, 0.80, 1.00, 160, 34),
        row("D6 11:30", 2.0, 2400, -22, 170, 162, 1.5, 0.45, 0.78, 1.00, 158, 35),
    ],
    labs=[
        labs("D0 22:00", pfhb=9, ldh=890, fib=280, plt=190, hb=12.4),
        labs("D1 06:00", pfhb=7, ldh=760, aptt=84, fib=310, plt=150, hb=11.1),
        labs("D2 06:00", pfhb=6, ldh=600, aptt=68, fib=360, plt=128, hb=10.5),
        labs("D4 06:00", pfhb=5, ldh=480, aptt=72, fib=390, plt=122, hb=10.2),
        labs("D6 11:00", pfhb=6, ldh=420, aptt=75, fib=400, plt=140, hb=10.6),
    ],
    first_checks=["D0 21:45"],
    acks=[
        Ack(
            "anticoagulation.out_of_range",
            "D1 06:00",
            "intensivist",
            "D1 06:30",
            "aPTT 84 above 60–80: UFH reduced",
            "intensivist",
            "D2 06:30",
            "aPTT 68 in range",
        ),
    ],
)

SCENARIOS = (RUN1, RUN2, RUN3, RUN4, RUN5)

# Visual findings at the checks (demo-scenarios §6), by run: (from, until, finding) with the size at that time.
Finding = tuple[str, str, dict[str, Any]]
FINDINGS: dict[str, list[Finding]] = {
    "DEMO-0001": [
        (
            "D2 06:00",
            "D6 14:22",
            {
                "location": "Pump-inlet connector",
                "appearance": "fibrin ring",
                "size_mm": 0.5,
                "action": "observe",
            },
        ),
        (
            "D4 06:00",
            "D5 21:59",
            {
                "location": "Oxygenator inflow face, lower corner",
                "appearance": "white fibrin",
                "size_mm": 2,
                "action": "marked",
            },
        ),
        (
            "D5 22:00",
            "D6 14:22",
            {
                "location": "Oxygenator inflow face, lower corner",
                "appearance": "white fibrin",
                "size_mm": 4,
                "action": "marked",
                "first_change": "growing",
            },
        ),
    ],
    "DEMO-0003": [
        (
            "D5 06:00",
            "D5 14:31",
            {
                "location": "Pump head inlet",
                "appearance": "dark deposit, new whine",
                "size_mm": 3,
                "action": "escalate",
            },
        ),
    ],
}
NOTES = {
    (
        "DEMO-0001",
        "D5 22:00",
    ): "Q 4.41 steady; O2 and air hoses seated, blender alarm armed; heater water OK; "
    "battery 100 %, backup console on mains and self-tested; hand crank present, "
    "4 clamps; alarm limits Q < 3.8, Pacc < -100, Ppre > 350; cannula sites dry, "
    "sutures intact, skin mark unchanged; exhaust clear."
}


# --- generation -------------------------------------------------------------------------------------------------


def _grid(start: dt.datetime, end: dt.datetime, step: dt.timedelta = GRID) -> list[dt.datetime]:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    first = start + (-(start - epoch)) % step  # the first grid point at or after start
    times = []
    t = first
    while t <= end:
        times.append(t)
        t += step
    return times


def _row_at(rows: list[tuple[dt.datetime, dict[str, float]]], t: dt.datetime) -> dict[str, float]:
    current = rows[0][1]
    for at, values in rows:
        if at <= t:
            current = values
        else:
            break
    return current


def _noise(rng: random.Random, spread: float) -> float:
    return rng.triangular(-spread, spread, 0.0)


@dataclass
class Built:
    device: list[Sample]
    lab: list[Sample]
    checks: list[tuple[dt.datetime, dict[str, Any]]]


def build(ctx: DemoContext, sc: Scenario, run: EcmoRun) -> Built:
    code = sc.code
    at: Callable[[str], dt.datetime] = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    end = run.ended_at or ctx.now
    rows = sorted(((at(s), v) for s, v in sc.rows), key=lambda r: r[0])
    rng = random.Random(f"ecmo-steward-demo-{code}")
    device: list[Sample] = []
    jump = (at("D3 02:00"), at("D3 02:40")) if code == "DEMO-0003" else None
    chatter = (at("D3 03:40"), at("D3 04:05")) if code == "DEMO-0004" else None
    dropout = (at("D2 03:10"), at("D2 03:25")) if code == "DEMO-0002" else None
    for t in _grid(run.started_at, end):
        values = _row_at(rows, t)
        shared = _noise(rng, 3)
        noisy = {
            "blood_flow_l_min": values["blood_flow_l_min"] + _noise(rng, 0.05),
            "pump_speed_rpm": values["pump_speed_rpm"] + _noise(rng, 20),
            "access_pressure_mmhg": values["access_pressure_mmhg"] + _noise(rng, 3),
            "pre_oxygenator_pressure_mmhg": values["pre_oxygenator_pressure_mmhg"] + shared,
            "post_oxygenator_pressure_mmhg": values["post_oxygenator_pressure_mmhg"] + shared,
        }
        observed = t
        if jump and jump[0] <= t < jump[1]:
            observed = t + dt.timedelta(minutes=59, seconds=30)  # console clock 59 min fast (§9)
        if chatter and chatter[0] <= t < chatter[1]:
            continue  # the chatter window has its own 30-s samples below
        if dropout and dropout[0] <= t < dropout[1]:
            noisy["blood_flow_l_min"] = 0.0  # disconnected probe reads 0.0 (§9)
        for key, value in values.items():
            if key in GASES or key in LAB_KEYS.values():
                continue
            v = noisy.get(key, value)
            if key in ("blood_flow_l_min",):
                v = max(0.0, round(v, 2))
            elif key in ("pump_speed_rpm",):
                v = round(v / 10) * 10
            elif key.endswith("_mmhg"):
                v = round(v)
            device.append(Sample(observed, key, v, "device"))
        if "blood_temperature_c" not in values and t.minute == 0 and t.hour % 2 == 0:
            pass  # blood temperature comes from the hourly check on runs without a heater feed
    if chatter:
        t = chatter[0]
        values = _row_at(rows, t)
        while t < chatter[1]:
            device += [
                Sample(t, "blood_flow_l_min", round(rng.uniform(3.1, 4.3), 2), "device"),
                Sample(t, "access_pressure_mmhg", round(rng.uniform(-135, -95)), "device"),
                Sample(t, "pump_speed_rpm", values["pump_speed_rpm"], "device"),
            ]
            t += dt.timedelta(seconds=30)
    lab: list[Sample] = []
    for stamp, values in sc.labs:
        lab += [Sample(at(stamp), k, v, "lab") for k, v in values.items()]
    # Post-oxygenator blood gases at each table row and every morning at 06:00 (values of the row in effect).
    gas_times = {r[0] for r in rows} | {
        t for t in _grid(run.started_at, end, dt.timedelta(hours=1)) if t.astimezone(ctx.clock.tz).hour == 6
    }
    for t in sorted(gas_times):
        if not run.started_at <= t <= end:
            continue
        values = _row_at(rows, t)
        lab += [Sample(t, k, values[k], "lab") for k in GASES]
    for stamp, key, value, source in sc.extra:
        (device if source == "device" else lab).append(Sample(at(stamp), key, value, source))
    return Built(device, lab, _checks(ctx, sc, run, rows, end))


def _checks(
    ctx: DemoContext,
    sc: Scenario,
    run: EcmoRun,
    rows: list[tuple[dt.datetime, dict[str, float]]],
    end: dt.datetime,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    code = sc.code
    times = {ctx.at(code, s) for s in sc.first_checks}
    skip = (ctx.at(code, sc.skip_checks[0]), ctx.at(code, sc.skip_checks[1])) if sc.skip_checks else None
    first_hourly = max(times) if times else run.started_at
    # Run 2's latest check has not been recorded: its documentation.check_overdue alert is open (unacknowledged)
    # when the demo starts, so the run page, the run list and the alerts page show a live alert.
    last_due = end - dt.timedelta(minutes=95) if code == "DEMO-0002" and run.ended_at is None else end
    for t in _grid(first_hourly + dt.timedelta(minutes=1), last_due, dt.timedelta(hours=1)):
        if skip and skip[0] <= t <= skip[1]:
            continue
        times.add(t)
    findings = [(ctx.at(code, a), ctx.at(code, b), f) for a, b, f in FINDINGS.get(code, [])]
    seen: set[str] = set()
    checks = []
    for t in sorted(times):
        if not run.started_at <= t <= end:
            continue
        values = _row_at(rows, t)
        local = t.astimezone(ctx.clock.tz)
        data: dict[str, Any] = {k: values[k] for k in CHECK_PARAMETERS if k in values}
        data["blood_temperature_c"] = values.get(
            "blood_temperature_c", sc.temperature + (local.hour % 3 - 1) / 10
        )
        data["heater_set_temperature_c"] = (
            37.0 if code != "DEMO-0003" or t > ctx.at(code, "D3 00:00") else 36.0
        )
        sweep_off = values.get("sweep_gas_l_min", 1) == 0
        data["colour_difference"] = "not_applicable" if sweep_off else "present"
        clots = []
        for start, stop, finding in findings:
            if start <= t <= stop:
                key = f"{finding['location']}|{finding['size_mm']}"
                change = finding.get("first_change", "new") if key not in seen else "unchanged"
                seen.add(key)
                clots.append({k: v for k, v in finding.items() if k != "first_change"} | {"change": change})
        notes = NOTES.get((code, _stamp(ctx, code, t)), "")
        checks.append((t, {"data": data, "clots": clots, "notes": notes}))
    return checks


def _stamp(ctx: DemoContext, code: str, t: dt.datetime) -> str:
    day0 = ctx.clock.day_n - dt.timedelta(days=ctx.n_day[code])
    local = t.astimezone(ctx.clock.tz)
    return f"D{(local.date() - day0).days} {local:%H:%M}"


def _recorder(ctx: DemoContext, t: dt.datetime) -> Any:
    """Who did the hourly check: the second perfusionist by day, the ECMO specialist by night (the demo's first
    perfusionist — the account a newcomer signs in with — acknowledges and resolves in the stories instead)."""
    hour = t.astimezone(ctx.clock.tz).hour
    return ctx.users["perfusionist2"] if 8 <= hour < 20 else ctx.users["ecmo_specialist"]


def _store_checks(
    ctx: DemoContext,
    run: EcmoRun,
    checks: list[tuple[dt.datetime, dict[str, Any]]],
    device_times: list[dt.datetime],
) -> int:
    """Bulk-create the hourly checks with their clot findings and their samples (source "check")."""
    rows = []
    for t, spec in checks:
        data = spec["data"]
        prefilled = [k for k in CHECK_PARAMETERS if k in data and k != "blood_temperature_c"]
        i = bisect_right(device_times, t)
        console_at = (
            device_times[i - 1] if i and device_times[i - 1] >= t - dt.timedelta(minutes=10) else None
        )
        detail = (
            {}
            if console_at is None
            else {k: {"value": data[k], "at": console_at.isoformat(), "source": "device"} for k in prefilled}
        )
        rows.append(
            CircuitCheck(
                run=run,
                observed_at=t,
                recorded_by=_recorder(ctx, t),
                recorded_at=t + dt.timedelta(minutes=3),
                notes=spec["notes"],
                prefilled_fields=prefilled if console_at else [],
                prefill_detail=detail,
                **data,
            )
        )
    created = CircuitCheck.objects.bulk_create(rows)
    ClotFinding.objects.bulk_create(
        [
            ClotFinding(check_record=c, **clot)
            for c, (_, spec) in zip(created, checks, strict=True)
            for clot in spec["clots"]
        ]
    )
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref="demo-checks",
        actor_name="system:demo",
        received_at=ctx.now,
        created_count=0,
    )
    samples = []
    for check in created:
        for key in (*CHECK_PARAMETERS, "bubble_detected"):
            value = (
                (1.0 if check.air_in_circuit else 0.0) if key == "bubble_detected" else getattr(check, key)
            )
            if value is not None:
                samples.append(
                    (run.pk, key, check.observed_at, value, "check", check.recorded_at, batch.pk, check.pk)
                )
    actions.insert_sample_rows(samples)
    batch.created_count = len(samples)
    batch.save(update_fields=["created_count"])
    append(
        actor=ctx.users["perfusionist"],
        action="check.recorded",
        obj=run,
        after={
            "demo_bulk": True,
            "checks": len(created),
            "samples": len(samples),
            "from": created[0].observed_at if created else None,
            "to": created[-1].observed_at if created else None,
        },
        reason="demo seed: hourly checks of demo-scenarios §6",
    )
    return len(created)


def _find_alert(ctx: DemoContext, run: EcmoRun, ack: Ack) -> Alert | None:
    expected = ctx.at(run.patient.code, ack.opened)
    candidates = [
        a
        for a in Alert.objects.filter(run=run, rule_id=ack.rule_id)
        if abs((a.opened_at - expected).total_seconds()) <= 3 * 3600
    ]
    return min(candidates, key=lambda a: abs((a.opened_at - expected).total_seconds()), default=None)


def _play_story(ctx: DemoContext, sc: Scenario, run: EcmoRun) -> None:
    """Evaluate the run up to each resolution of the story, then play what people did with that alert
    (escalation, acknowledgement, resolution), so that a resolution ends its episode before the rule fires again —
    as it happened on the ward."""
    code = sc.code
    for ack in sorted(sc.acks, key=lambda a: ctx.at(code, a.resolve_at or a.ack_at)):
        until = ctx.at(code, ack.resolve_at or ack.ack_at)
        actions.evaluate_run(run, now=until, replay_from=run.started_at)
        alert = _find_alert(ctx, run, ack)
        if alert is None:
            ctx.say(f"  (demo) {code}: no {ack.rule_id} alert near {ack.opened}")
            continue
        if ack.escalate_at:
            actions.escalate_alert(
                actor_or_system=actions.WORKER,
                alert=alert,
                role=ack.escalate_to,
                at=max(ctx.at(code, ack.escalate_at), alert.opened_at),
                now=ctx.now,
                reason="unacknowledged warning for 30 min",
            )
        if ack.ack_by:
            actions.acknowledge_alert(
                actor=ctx.users[ack.ack_by],
                alert=alert,
                comment=ack.comment,
                at=max(ctx.at(code, ack.ack_at), alert.opened_at),
                now=ctx.now,
            )
        if ack.resolve_by:
            component = None
            if ack.component:
                component = (
                    Component.objects.filter(
                        circuit__run=run,
                        kind=ack.component,
                        installed_at__lte=until + dt.timedelta(minutes=1),
                    )
                    .order_by("-installed_at")
                    .first()
                )
            actions.resolve_alert(
                actor=ctx.users[ack.resolve_by],
                alert=alert,
                comment=ack.resolution,
                component=component,
                at=max(until, alert.opened_at),
                now=ctx.now,
            )
    actions.evaluate_run(run, now=ctx.now, replay_from=run.started_at)


def seed(ctx: DemoContext) -> None:
    director = ctx.users["director"]
    assert ctx.program is not None
    earliest = min(r.started_at for r in ctx.runs.values())
    actions.save_settings(
        actor=director,
        program=ctx.program,
        rules={},
        escalate_warning_after_min=30,
        escalate_critical_after_min=10,
        escalate_to_role="intensivist",
        effective_from=earliest - dt.timedelta(days=1),
        now=ctx.now,
        reason="Program defaults adopted: every threshold as in docs/rules (local protocol)",
    )
    for sc in SCENARIOS:
        run = ctx.runs[sc.code]
        built = build(ctx, sc, run)
        _store_checks(
            ctx,
            run,
            built.checks,
            sorted(s.observed_at for s in built.device if s.parameter == "blood_flow_l_min"),
        )
        actions.ingest_samples(
            actor_or_system=actions.DEMO,
            run=run,
            samples=[*built.device, *built.lab],
            kind=IngestBatch.Kind.DEMO,
            batch_ref="demo-telemetry",
            now=ctx.now,
            evaluate=False,
        )
        if sc.code == "DEMO-0001":
            _duplicate_hl7(ctx, run)
        _play_story(ctx, sc, run)
        if sc.code == "DEMO-0001":
            _amend_one_check(ctx, run)


def _duplicate_hl7(ctx: DemoContext, run: EcmoRun) -> None:
    """§9: the same HL7 ORU arrives twice at D5 10:00; the second adds nothing."""
    at = ctx.at("DEMO-0001", "D5 10:00") + dt.timedelta(seconds=30)
    message = [
        {"observed_at": at, "parameter": "blood_flow_l_min", "value": 4.79},
        {"observed_at": at, "parameter": "pump_speed_rpm", "value": 3400},
        {"observed_at": at, "parameter": "access_pressure_mmhg", "value": -59},
    ]
    for _ in range(2):
        actions.ingest_samples(
            actor_or_system=actions.MLLP,
            run=run,
            samples=message,
            source="hl7:DEMO-CON-04",
            batch_ref="DEMO_GW|SYN-D5-1000",
            kind=IngestBatch.Kind.HL7,
            now=ctx.now,
            evaluate=False,
        )


def _amend_one_check(ctx: DemoContext, run: EcmoRun) -> None:
    """An amendment with its reason; the original stays readable (check history)."""
    check = CircuitCheck.objects.filter(run=run, observed_at=ctx.at("DEMO-0001", "D5 21:00")).first()
    if check is None:
        return
    data = {f: getattr(check, f) for f in actions.CHECK_FIELDS}
    original_access = check.access_pressure_mmhg
    check.access_pressure_mmhg = -35  # the value first typed in, for the story
    check.save(update_fields=["access_pressure_mmhg"])
    data["access_pressure_mmhg"] = original_access
    actions.amend_check(
        actor=ctx.users["perfusionist"],
        check=check,
        data=data,
        now=ctx.now,
        reason="access pressure misread as −35 at the bedside; console and recheck −53",
    )
