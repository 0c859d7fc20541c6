"""Values a calculator form can start from: the run's own facts and the latest telemetry.

Telemetry comes from the surveillance app's query helper (``surveillance.queries.latest_values``) when that app is
installed; without it nothing is prefilled from telemetry (never invented). Every prefilled value says where it came
from, so the person can check it before computing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ecmo_core import units
from ecmo_web.runs.models import EcmoRun

# Calculator keyword → telemetry parameter code (core-api §4). Platelets in 10⁹/L and 10³/µL are the same number.
TELEMETRY: dict[str, str] = {
    "hb_g_dl": "hemoglobin_g_dl",
    "lactate_mmol_l": "lactate_mmol_l",
    "paco2_mmhg": "arterial_pco2_mmhg",
    "pao2_mmhg": "arterial_po2_mmhg",
    "arterial_ph": "arterial_ph",
    "mean_arterial_pressure_mmhg": "mean_arterial_pressure_mmhg",
    "pulse_pressure_mmhg": "pulse_pressure_mmhg",
    "platelets_10e3_ul": "platelets_10e3_ul",
    "platelets_10e9_l": "platelets_10e3_ul",
    "recirculation_fraction": "recirculation_fraction",
    "post_oxygenator_so2": "post_oxygenator_so2",
    # The VV models count the O2 dissolved in the return when given its PO2 (the latest post-oxygenator gas).
    "post_oxygenator_po2_mmhg": "post_oxygenator_po2_mmhg",
    "pre_oxygenator_so2": "pre_oxygenator_so2",
    "mixed_venous_so2": "mixed_venous_so2",
    "blood_flow_l_min": "blood_flow_l_min",
    "ecmo_blood_flow_l_min": "blood_flow_l_min",
    "ecmo_flow_l_min": "blood_flow_l_min",
    "sweep_gas_l_min": "sweep_gas_l_min",
    "exhaust_pco2_mmhg": "exhaust_pco2_mmhg",
}
# Telemetry older than this is not offered (a day-old gas is not "the latest value" for a calculation).
MAX_AGE = dt.timedelta(hours=30)


def latest(
    run: EcmoRun, codes: list[str], *, now: dt.datetime | None = None
) -> dict[str, tuple[float, Any, str]]:
    """``{code: (value, observed_at, source)}`` from surveillance, or ``{}`` when that app is not installed."""
    try:
        from ecmo_web.surveillance.queries import latest_values
    except ImportError:  # pragma: no cover - the surveillance app is optional
        return {}
    moment = now or timezone.now()
    if run.ended_at is not None:
        moment = min(moment, run.ended_at)
    return dict(latest_values(run, codes, now=moment, max_age=MAX_AGE))


def run_facts(run: EcmoRun) -> dict[str, tuple[Any, str]]:
    """Prefills from the run and patient: ``{keyword: (value, where from)}``."""
    out: dict[str, tuple[Any, str]] = {}
    patient = run.patient
    weight = float(run.weight_kg) if run.weight_kg is not None else None
    height = float(run.height_cm) if run.height_cm is not None else None
    if weight is not None:
        out["weight_kg"] = (weight, "run: weight")
    if height is not None:
        out["height_cm"] = (height, "run: height")
    if weight is not None and height is not None:
        out["bmi_kg_m2"] = (round(weight / (height / 100) ** 2, 1), "run: weight and height")
    if patient.sex in ("male", "female"):
        out["sex"] = (patient.sex, "patient: sex")
        out["female"] = (patient.sex == "female", "patient: sex")
    if patient.birth_year:
        out["age_years"] = (
            run.started_at.year - patient.birth_year,
            "patient: birth year (age at cannulation, ±1)",
        )
    if weight is not None:
        out["vo2_ml_min"] = (round(weight * 3), "3 mL/kg/min × weight (adult estimate)")
    return out


# Outcome scores take pre-ECMO values: on-ECMO telemetry would give a wrong score, so they are never prefilled from
# it (only from the run's own facts). A clinical-safety choice: see docs/calculators/web.md.
PRE_ECMO_SCORES = frozenset({"resp", "save", "preserve", "preset", "encourage", "murray_lung_injury", "sofa"})


def prefill(
    run: EcmoRun, keywords: list[str], *, now: dt.datetime | None = None, calculator: str = ""
) -> dict[str, tuple[Any, str]]:
    """Values for the calculator's ``keywords`` with their provenance, from the run first, then telemetry."""
    facts = run_facts(run)
    out = {k: facts[k] for k in keywords if k in facts}
    if calculator in PRE_ECMO_SCORES:
        return out
    wanted = {k: TELEMETRY[k] for k in keywords if k in TELEMETRY and k not in out}
    if wanted:
        values = latest(run, sorted(set(wanted.values())), now=now)
        for keyword, code in wanted.items():
            if code in values:
                value, at, source = values[code]
                when = timezone.localtime(at, _tz(run))
                out[keyword] = (value, f"{units.label(code)} at {when:%d %b %H:%M} ({source})")
    return out


def _tz(run: EcmoRun) -> Any:
    from ecmo_web.timezones import program_tz

    return program_tz(run.program)
