"""The circuit now: the newest value of each circuit number with its age, target band and stale mark.

Values come from ``surveillance.queries.latest_values`` (two queries, whatever the run's length); target bands
from the run's targets (prefetched by the run page) or, for the fragment, one query. Staleness is a site
setting with a default and a reason (``stale_after``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from ecmo_core import units
from ecmo_web.runs.models import EcmoRun, RunTarget
from ecmo_web.surveillance.models import is_device_source
from ecmo_web.surveillance.queries import LAB_MAX_AGE, latest_values

# What a perfusionist reads first, in the order of the circuit: pump, pressures along the blood path, gas, blood.
CIRCUIT_NOW = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "membrane_delta_p_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "pre_oxygenator_so2",
    "post_oxygenator_so2",
    "hemoglobin_g_dl",
    "hematocrit",
    "blood_temperature_c",
)
# Patient vitals shown beside the circuit when a monitor sends them.
PATIENT_NOW = (
    "mean_arterial_pressure_mmhg",
    "heart_rate_per_min",
    "spo2",
    "arterial_po2_mmhg",
    "arterial_pco2_mmhg",
)
OPTIONAL = {"hemoglobin_g_dl", "hematocrit", "blood_temperature_c", *PATIENT_NOW}
LABELS = {
    "blood_flow_l_min": "Flow",
    "pump_speed_rpm": "Pump speed",
    "access_pressure_mmhg": "Access pressure",
    "pre_oxygenator_pressure_mmhg": "Pre-oxygenator",
    "post_oxygenator_pressure_mmhg": "Post-oxygenator",
    "membrane_delta_p_mmhg": "Membrane ΔP",
    "sweep_gas_l_min": "Sweep",
    "fdo2": "FdO2",
    "pre_oxygenator_so2": "Pre-oxygenator SO2",
    "post_oxygenator_so2": "Post-oxygenator SO2",
    "hemoglobin_g_dl": "Hb",
    "hematocrit": "Hct",
    "blood_temperature_c": "Blood temperature",
    "mean_arterial_pressure_mmhg": "MAP",
    "heart_rate_per_min": "Heart rate",
    "spo2": "SpO2",
    "arterial_po2_mmhg": "PaO2",
    "arterial_pco2_mmhg": "PaCO2",
}


def stale_after(source: str) -> dt.timedelta:
    """When a value stops being "now". Console telemetry arrives every minute or so (device-data.md), so five
    minutes without one means the feed stopped (``ECMO_STALE_DEVICE_MINUTES``, default 5). Hand-entered values
    come with the hourly check, so they are stale once a check is missed (``ECMO_STALE_MANUAL_MINUTES``,
    default 90). Lab results are stale after 30 h (a daily draw plus a late one)."""
    if is_device_source(source) or source == "computed":
        return dt.timedelta(minutes=float(getattr(settings, "ECMO_STALE_DEVICE_MINUTES", 5)))
    if source == "lab":
        # A daily lab plus a late draw, as the rounds summary counts it (surveillance.queries.LAB_MAX_AGE).
        return LAB_MAX_AGE
    return dt.timedelta(minutes=float(getattr(settings, "ECMO_STALE_MANUAL_MINUTES", 90)))


@dataclass(frozen=True)
class Reading:
    parameter: str
    label: str
    unit: str
    text: str | None  # the value in local units, without its unit; None when nothing was sent
    observed_at: dt.datetime | None
    age: dt.timedelta | None
    stale: bool
    band: str  # "low–high unit" in local units, or ""
    out_of_band: bool
    source: str


def _band(
    target: RunTarget | None, parameter: str, prefs: units.UnitPreferences
) -> tuple[str, float | None, float | None]:
    if target is None or (target.low is None and target.high is None):
        return "", None, None
    low = "" if target.low is None else units.format_local(parameter, target.low, prefs, with_unit=False)
    high = "" if target.high is None else units.format_local(parameter, target.high, prefs, with_unit=False)
    return f"{low}–{high}", target.low, target.high


def targets_now(
    run: EcmoRun, now: dt.datetime, targets: list[RunTarget] | None = None
) -> dict[str, RunTarget]:
    """The target in force for each parameter at ``now`` (the newest ``effective_from`` not after ``now``)."""
    rows = list(run.targets.all()) if targets is None else targets
    result: dict[str, RunTarget] = {}
    for t in sorted(rows, key=lambda t: t.effective_from):
        if t.effective_from <= now:
            result[t.parameter] = t
    return result


def readings(
    run: EcmoRun, now: dt.datetime, prefs: units.UnitPreferences
) -> tuple[list[Reading], list[Reading]]:
    """(circuit readings, patient readings) at ``now``. Patient readings only for parameters that were sent."""
    values = latest_values(run, (*CIRCUIT_NOW, *PATIENT_NOW), now=now, max_age=dt.timedelta(hours=24))
    delta_p = "membrane_delta_p_mmhg"
    pre, post = values.get("pre_oxygenator_pressure_mmhg"), values.get("post_oxygenator_pressure_mmhg")
    if delta_p not in values and pre is not None and post is not None:
        # Most consoles send pre and post, not ΔP: ΔP = pre − post, as old as the older of the two.
        values[delta_p] = (pre[0] - post[0], min(pre[1], post[1]), "computed")
    targets = targets_now(run, now)

    def one(code: str) -> Reading:
        band, low, high = _band(targets.get(code), code, prefs)
        unit = units.unit_of(code, prefs)
        if code not in values:
            return Reading(code, LABELS[code], unit, None, None, None, False, band, False, "")
        value, at, source = values[code]
        out = (low is not None and value < low) or (high is not None and value > high)
        age = now - at
        return Reading(
            code,
            LABELS[code],
            unit,
            units.format_local(code, value, prefs, with_unit=False),
            at,
            age,
            age > stale_after(source),
            band,
            out,
            source,
        )

    circuit = [one(c) for c in CIRCUIT_NOW if c in values or c not in OPTIONAL]
    patient = [one(c) for c in PATIENT_NOW if c in values]
    return circuit, patient
