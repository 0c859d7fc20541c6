"""Pathway criteria in clinical words, for the pages that list them (issue 11 §3).

``label(key)``: a criterion's name ("pf_severe_mmhg" → "P/F ratio, severe (mmHg)"); parameter codes take the
parameter registry's label. ``source(text)``: a criterion's source in citations a clinician can look up, the
reference notes' section numbers taken out ("ref §5.1 Pplat < 30 [S29]" → "Pplat < 30 (VV ECMO weaning, textbook
chapter)") and the evidence mark "[○]" in words.
"""

from __future__ import annotations

from ecmo_core import citations, units
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


def label(key: str) -> str:
    """The clinical name of a criterion key."""
    if key in _LABELS:
        return _LABELS[key]
    if key in PARAMETERS:
        return units.label(key)
    return key.replace("_", " ").capitalize()


def source(text: str) -> str:
    """A criterion's source as citations, without the notes' section numbers (``ecmo_core.citations``)."""
    return citations.in_words(text)
