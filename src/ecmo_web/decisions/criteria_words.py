"""Pathway criteria in clinical words, for the pages that list them (issue 11 §3).

``label(key, prefs)``: a criterion's name ("pf_severe_mmhg" → "P/F ratio, severe (mmHg)", "(kPa)" where the
program reads gases in kPa); parameter codes take the parameter registry's label. ``source(text)``: a criterion's
source in citations a clinician can look up, the reference notes' section numbers taken out ("ref §5.1 Pplat < 30
[S29]" → "Pplat < 30 (VV ECMO weaning, textbook chapter)") and the evidence mark "[○]" in words. ``gas_text`` and
``localise`` put the numbers of gas criteria (stored and judged in mmHg, as ``ecmo_core.pathways`` has them) in the
program's gas unit; blood pressure criteria (MAP, pulse pressure) stay mmHg.

A program's overrides (the JSON typed on the pathway criteria page) carry gas criteria in the program's gas unit:
``overrides_from_local`` converts them to the canonical mmHg that is stored (refusing a value outside the criterion's
range, stated in the unit it was typed in), ``overrides_in_local`` writes stored ones back as the box takes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecmo_core import citations, pathways, units
from ecmo_core.errors import InputError
from ecmo_core.surveillance import PARAMETERS

_LABELS: dict[str, str] = {
    "age_years": "Age (years)",
    "aortic_vti_cm": "Aortic VTI (cm)",
    "arrest_to_flow_min": "Arrest to ECMO flow (min)",
    "duration_min": "Trial duration (min)",
    "etco2_mmhg": "End-tidal CO2 (mmHg)",
    "exclusion_etco2_mmhg": "Exclusion: end-tidal CO2 (mmHg)",
    "exclusion_lactate_mmol_l": "Exclusion: lactate (mmol/L)",
    "exclusion_min_count": "Exclusion: findings needed",
    "exclusion_pao2_mmhg": "Exclusion: PaO2 (mmHg)",
    "exclusion_spo2": "Exclusion: SpO2",
    "failed_cpr_min": "Failed CPR before the call (min)",
    "fio2": "Ventilator FiO2",
    "hypercapnia_hours": "Hypercapnia for (h)",
    "ims_kpi_level": "ICU mobility scale level",
    "low_flow_favourable_min": "Favourable low-flow time (min)",
    "lvef_pct": "LVEF (%)",
    "no_flow_min": "No-flow time (min)",
    "paco2_mmhg": "PaCO2 (mmHg)",
    "paco2_rise_mmhg": "PaCO2 rise (mmHg)",
    "pao2_mmhg": "PaO2 (mmHg)",
    "pf_hours": "P/F ratio for (h)",
    "pf_mmhg": "P/F ratio (mmHg)",
    "pf_severe_hours": "P/F ratio, severe, for (h)",
    "pf_severe_mmhg": "P/F ratio, severe (mmHg)",
    "plateau_cmh2o": "Plateau pressure (cmH2O)",
    "rass_max": "RASS, highest",
    "rass_min": "RASS, lowest",
    "require_no_acute_cor_pulmonale": "No acute cor pulmonale on echo",
    "right_radial_po2_mmhg": "Right radial PO2 (mmHg)",
    "right_radial_spo2": "Right-hand SpO2",
    "rr_rise_per_min": "Respiratory rate rise (/min)",
    "sao2": "SaO2",
    "tapse_mm": "TAPSE (mm)",
    "team_size": "Team size (people)",
    "lateral_s_prime_cm_s": "Lateral S′ (cm/s)",
    "sweep_factor": "Sweep reserve factor",
    "oxygen_reserve_factor": "Oxygen reserve factor",
    "battery_reserve_factor": "Battery reserve factor",
}

# Criteria (settings and judged results) and candidacy items whose every "mmHg" is a blood-gas partial pressure, so
# that they read in the program's gas unit (``units.UnitPreferences.pressure``). A P/F ratio is PaO2 over a
# fraction, so it is in the unit of PaO2.
GAS_KEYS = frozenset(
    {
        "pf_severe_mmhg",
        "pf_mmhg",
        "pf_ratio_mmhg",
        "paco2_mmhg",
        "pao2_mmhg",
        "paco2_rise_mmhg",
        "etco2_mmhg",
        "exclusion_etco2_mmhg",
        "exclusion_pao2_mmhg",
        "right_radial_po2_mmhg",
        "pf_below_50_over_3h",
        "pf_below_80_over_6h",
        "hypercapnic_acidosis_over_6h",
        "eolia_pf_50_3h",
        "eolia_pf_80_6h",
        "eolia_hypercapnia",
    }
)
_GAS = "arterial_po2_mmhg"  # converts like every blood-gas partial pressure


def label(key: str, prefs: units.UnitPreferences = units.US) -> str:
    """The clinical name of a criterion key, a gas criterion's unit in the program's gas unit."""
    if key in _LABELS:
        text = _LABELS[key]
        return text.replace("(mmHg)", f"({units.unit_of(_GAS, prefs)})") if key in GAS_KEYS else text
    if key in PARAMETERS:
        return units.label(key)
    return key.replace("_", " ").capitalize()


def gas_text(text: str, prefs: units.UnitPreferences) -> str:
    """Every "N mmHg" of a text about blood gases in the program's gas unit: "P/F < 80 mmHg for > 6 h" →
    "P/F < 10.67 kPa for > 6 h" (two decimals in kPa, so that a threshold is not misread at its edge)."""
    return units.local_text(text, _GAS, prefs)


def gas_number(key: str, value: float, prefs: units.UnitPreferences) -> str | None:
    """A gas criterion's judged value (stored in mmHg) as a number in the program's gas unit ("8.67"), or None
    when the criterion is not a gas or the program reads gases in mmHg."""
    if key not in GAS_KEYS or units.unit_of(_GAS, prefs) == "mmHg":
        return None
    return units.entry_text(_GAS, value, prefs)


def localise(key: str, text: str, prefs: units.UnitPreferences) -> str:
    """A criterion's or a candidacy item's text (label, requirement) in the program's units: gas criteria
    (``GAS_KEYS``) in its gas unit, every other text as it is."""
    return gas_text(text, prefs) if key in GAS_KEYS else text


def rows(table: list[dict[str, Any]], prefs: units.UnitPreferences) -> list[dict[str, Any]]:
    """``pathways.criteria_table`` rows with ``label`` and ``requirement`` in clinical words and program units."""
    return [
        {
            **row,
            "label": label(str(row["key"]), prefs),
            "requirement": localise(str(row["key"]), str(row["requirement"]), prefs),
        }
        for row in table
    ]


def source(text: str) -> str:
    """A criterion's source as citations, without the notes' section numbers (``ecmo_core.citations``)."""
    return citations.in_words(text)


def gas_unit(prefs: units.UnitPreferences) -> str:
    """The unit gas criteria are read and typed in for ``prefs``: "mmHg" or "kPa"."""
    return units.unit_of(_GAS, prefs)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_mmhg(key: str, value: float, unit: str, prefs: units.UnitPreferences) -> float:
    """A gas criterion's value typed in ``unit`` → mmHg, refused outside the criterion's range stated in ``unit``."""
    typed = prefs._replace(pressure=unit)
    limits = pathways.SETTING_RANGES.get(key)
    bounds = (limits[0], limits[1]) if limits is not None else None
    if bounds is None:  # not a setting of any criteria set: the action names it
        return units.from_local(_GAS, float(value), typed)
    return units.check_local(_GAS, float(value), typed, field=key, bounds=bounds)


def overrides_from_local(overrides: Mapping[str, Any], prefs: units.UnitPreferences) -> dict[str, Any]:
    """Overrides typed on the criteria page → the canonical overrides stored (``pathways.with_overrides``).

    The value of a gas criterion (``GAS_KEYS``: P/F, PaO2, PaCO2, its rise, EtCO2) is read in the program's gas unit
    (10.67 kPa → 80.03 mmHg), or in the unit its threshold names (``"unit": "mmHg"`` or ``"kPa"``); any other unit
    on a gas criterion, or a value outside its range, raises :class:`InputError` naming the criterion and the
    accepted range in the unit typed. Every other setting is passed as typed: it is stored in the unit its name says
    (blood pressure in mmHg, fractions 0–1), and the action checks it.
    """
    local = gas_unit(prefs)
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in GAS_KEYS:
            out[key] = value
        elif _number(value):
            out[key] = _to_mmhg(key, value, local, prefs)
        elif isinstance(value, Mapping) and _number(value.get("value")):
            unit = value.get("unit", local)
            if unit not in units.PRESSURE_UNITS:
                raise InputError(
                    key,
                    f"is a gas pressure: give its value in {local} (the program's gas unit), or say "
                    f'"unit": "mmHg" (got {unit!r})',
                )
            out[key] = {**value, "value": _to_mmhg(key, value["value"], unit, prefs)}
            if "unit" in value:
                out[key]["unit"] = "mmHg"
        else:  # switched off (null), or not a number: the action says what is wrong
            out[key] = value
    return out


def local_number(value: float, prefs: units.UnitPreferences) -> float | int:
    """A gas criterion's canonical value (mmHg) as the number typed in the program's gas unit: 80 → 10.67 (kPa)."""
    text = units.entry_text(_GAS, value, prefs)
    return float(text) if "." in text else int(text)


def overrides_in_local(overrides: Mapping[str, Any], prefs: units.UnitPreferences) -> dict[str, Any]:
    """Stored (canonical) overrides as the criteria page's box takes them: gas criteria in the program's gas unit,
    with the unit said (``{"value": 10.67, "unit": "kPa"}``); unchanged where gases are read in mmHg."""
    local = gas_unit(prefs)
    if local == "mmHg":
        return dict(overrides)
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in GAS_KEYS and _number(value):
            out[key] = {"value": local_number(float(value), prefs), "unit": local}
        elif key in GAS_KEYS and isinstance(value, Mapping) and _number(value.get("value")):
            out[key] = {**value, "value": local_number(float(value["value"]), prefs), "unit": local}
        else:
            out[key] = value
    return out


def error_text(key: str, message: str, prefs: units.UnitPreferences) -> str:
    """A refused override in clinical words, naming the key typed: "P/F ratio (kPa), pf_mmhg: 9 kPa is outside the
    accepted range 1.34 to 93.32 kPa"."""
    return f"{label(key, prefs)}, {key}: {message}"
