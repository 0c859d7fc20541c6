"""The program's perfusion settings: each with a default, a unit, an accepted range and its source.

Selection margins and limits, blood-volume bands, priming and standby policy are clinical choices a program
may change (ARCHITECTURE: thresholds are data with a default and a source, editable per program, history kept).
``current(program)`` reads the newest ``PerfusionSettings`` row over these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecmo_core.circuit import BloodVolumeBands, SelectionLimits
from ecmo_web.accounts.models import Program


@dataclass(frozen=True)
class Setting:
    """One setting: ``default``, ``low`` and ``high`` in the canonical ``unit`` its key says. ``parameter`` names the
    registry parameter it reads and is typed like in a program's units (``ecmo_core.units``), where it has one."""

    key: str
    label: str
    default: float
    unit: str
    low: float
    high: float
    source: str
    group: str
    parameter: str = ""


# A cannula's pressure drop is a circuit pressure difference, shown in the program's circuit-pressure unit like the
# membrane ΔP (``units.CIRCUIT_PRESSURES``); stored in mmHg, as the makers' pressure–flow curves give it.
CIRCUIT_PRESSURE = "membrane_delta_p_mmhg"


_BV = (
    "Morgan & Mikhail's Clinical Anesthesiology, 'Average blood volumes' (premature neonate 95, full-term "
    "neonate 85, infant 80, adult man 75, woman 65 mL/kg); check against the local protocol"
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "oxygenator_margin_fraction",
        "Oxygenator rated flow above the target by at least",
        0.2,
        "fraction",
        0.0,
        1.0,
        "Local choice: 20 % room to raise flow without changing the membrane",
        "Selection",
    ),
    Setting(
        "pump_margin_fraction",
        "Pump maximum flow above the target by at least",
        0.2,
        "fraction",
        0.0,
        1.0,
        "Local choice",
        "Selection",
    ),
    Setting(
        "drainage_pressure_drop_max_mmhg",
        "Drainage cannula pressure drop at most",
        100.0,
        "mmHg",
        10.0,
        400.0,
        "Access pressure more negative than −100 mmHg is the common alert (site default; haemolysis seen from "
        "−50 to −100 mmHg in vitro)",
        "Selection",
        CIRCUIT_PRESSURE,
    ),
    Setting(
        "return_pressure_drop_max_mmhg",
        "Return cannula pressure drop at most",
        150.0,
        "mmHg",
        10.0,
        500.0,
        "Local choice; post-oxygenator pressure is typically 100–300 mmHg",
        "Selection",
        CIRCUIT_PRESSURE,
    ),
    Setting(
        "vv_min_tip_distance_cm",
        "V-V cannula tips at least this far apart",
        10.0,
        "cm",
        0.0,
        40.0,
        "Tip-to-tip distance under 10 cm is a recirculation risk (ELSO)",
        "Selection",
    ),
    Setting(
        "va_cardiac_index_l_min_m2",
        "V-A flow target: cardiac index",
        2.4,
        "L/min/m²",
        1.0,
        4.0,
        "A cardiac index of about 2.2–2.5 L/min/m² is the usual V-A flow goal",
        "Selection",
    ),
    Setting(
        "vv_target_arterial_so2",
        "V-V flow target: arterial saturation",
        0.88,
        "fraction",
        0.7,
        1.0,
        "SaO2 88–92 % is the usual V-V oxygenation goal (EOLIA protocol)",
        "Selection",
    ),
    Setting(
        "premature_neonate_ml_kg",
        "Blood volume, premature neonate",
        95.0,
        "mL/kg",
        40.0,
        120.0,
        _BV,
        "Blood volume",
    ),
    Setting(
        "neonate_ml_kg",
        "Blood volume, neonate (under 28 days)",
        85.0,
        "mL/kg",
        40.0,
        120.0,
        _BV,
        "Blood volume",
    ),
    Setting(
        "infant_ml_kg", "Blood volume, infant (under 1 year)", 80.0, "mL/kg", 40.0, 120.0, _BV, "Blood volume"
    ),
    Setting(
        "child_ml_kg",
        "Blood volume, child (1–12 years)",
        75.0,
        "mL/kg",
        40.0,
        120.0,
        "Commonly quoted in paediatric texts (70–75 mL/kg)",
        "Blood volume",
    ),
    Setting("adult_male_ml_kg", "Blood volume, adult man", 75.0, "mL/kg", 40.0, 120.0, _BV, "Blood volume"),
    Setting(
        "adult_female_ml_kg", "Blood volume, adult woman", 65.0, "mL/kg", 40.0, 120.0, _BV, "Blood volume"
    ),
    Setting(
        "adult_unknown_sex_ml_kg",
        "Blood volume, adult of unrecorded sex",
        70.0,
        "mL/kg",
        40.0,
        120.0,
        "Midway between the adult values",
        "Blood volume",
    ),
    Setting(
        "minimum_hematocrit",
        "Haematocrit after priming at least",
        0.25,
        "fraction",
        0.1,
        0.5,
        "Local choice; below it the plan gives the packed cells for a blood prime",
        "Priming",
    ),
    Setting(
        "packed_cells_hematocrit",
        "Haematocrit of packed red cells",
        0.6,
        "fraction",
        0.4,
        0.8,
        "Typical of stored units (0.55–0.65)",
        "Priming",
    ),
    Setting(
        "heparin_iu_per_ml_prime",
        "Heparin in the prime",
        1.0,
        "IU/mL",
        0.0,
        10.0,
        "Local practice; ELSO leaves it to the centre",
        "Priming",
    ),
    Setting(
        "standby_expiry_days",
        "A primed circuit on standby expires after",
        30.0,
        "days",
        1.0,
        90.0,
        "Local policy: centres keep crystalloid-primed circuits 14–30 days",
        "Standby",
    ),
    Setting(
        "standby_warning_days",
        "Flag standby circuits expiring within",
        3.0,
        "days",
        0.0,
        30.0,
        "Local choice",
        "Standby",
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, float]:
    return {s.key: s.default for s in SETTINGS}


def current(program: Program) -> dict[str, float]:
    """The program's values: the newest settings row over the defaults."""
    from ecmo_web.perfusion.models import PerfusionSettings

    row = PerfusionSettings.objects.filter(program=program).first()
    values = defaults()
    if row is not None:
        values.update({k: float(v) for k, v in row.values.items() if k in BY_KEY})
    return values


def limits(values: dict[str, Any]) -> SelectionLimits:
    return SelectionLimits(**{k: values[k] for k in SelectionLimits.__dataclass_fields__})


def bands(values: dict[str, Any]) -> BloodVolumeBands:
    return BloodVolumeBands(**{k: values[k] for k in BloodVolumeBands.__dataclass_fields__})
