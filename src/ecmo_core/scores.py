"""Outcome and severity scores used around ECMO candidacy: RESP, SAVE, PRESERVE, PRESET, ENCOURAGE,
the Murray lung injury score and SOFA.

Every function takes keyword-only arguments, validates each one (``InputError`` naming the keyword and
the accepted range; nothing is clamped) and returns a frozen :class:`ScoreResult`.

Point tables are copied from ``shared/clinical/scores-and-models.md`` §1–10 (the project's clinical
source of truth, with its confidence marks A/B/C) and live below as named module-level tables. Where the
sources disagree or are silent, the reading chosen is written into ``ScoreResult.notes`` for the case at
hand and into ``docs/calculators/<score>.md``. Three rules hold throughout:

1. **Printed bands.** A value that falls between two printed bands (e.g. PEEP 8.5 between "6–8" and
   "9–11", MAP 90.5 between "81–90" and "91–100") is scored with the lower-valued band: a value must
   reach a band's printed lower bound to enter it. A note says so.
2. **Classes only where the sources agree.** ``risk_class`` and ``predicted_survival_pct`` are published
   only when every reading the sources allow gives the same class; otherwise both are ``None`` and a note
   lists the candidates (SAVE at 65 kg, PRESERVE item weights, PRESET always). Settled readings: a SAVE
   total of exactly 5 is class II; ENCOURAGE lactate exactly 8 mmol/L scores 8.
3. **Adults only.** The scores were derived in adults; ages are whole years from 18 to 100.

No Django, no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple

from ecmo_core.errors import InputError
from ecmo_core.validate import boolean, choice, integer, number

CALCULATORS: Final[tuple[str, ...]] = (
    "resp",
    "save",
    "preserve",
    "preset",
    "encourage",
    "murray_lung_injury",
    "sofa",
)

__all__ = [
    "CALCULATORS",
    "Band",
    "RiskClass",
    "ScoreResult",
    "encourage",
    "murray_lung_injury",
    "preserve",
    "preset",
    "resp",
    "save",
    "sofa",
]


# ---------------------------------------------------------------------------------------------------
# Result type
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    """The result of one score.

    Attributes
    ----------
    name : str
        Short name of the score, e.g. ``"RESP"``.
    points : int or float
        The total (a float only for the Murray score, which is a mean).
    risk_class : str or None
        The published risk class, or ``None`` where the sources define none or disagree (see ``notes``).
    predicted_survival_pct : float or None
        Survival (per cent) observed in the derivation cohort for ``risk_class``; ``None`` with it.
    outcome : str
        What ``predicted_survival_pct`` refers to, e.g. ``"hospital survival"``, ``"6-month survival"``.
    components : Mapping[str, int]
        Read-only mapping item → points, in the order of the function's keywords. For every score but
        Murray (a mean) the values add up to ``points``.
    reference : str
        Citation of the source, with DOI.
    notes : tuple of str
        Every convention applied where the sources are ambiguous, disagree or are silent.

    Notes
    -----
    ``components`` is a ``types.MappingProxyType``, which ``copy.deepcopy`` (and so
    ``dataclasses.asdict``) cannot copy: use :meth:`as_dict` for JSON.
    """

    name: str
    points: int | float
    risk_class: str | None
    predicted_survival_pct: float | None
    outcome: str
    components: Mapping[str, int]
    reference: str
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Copy, then freeze: a caller's dict must not be able to change a result after the fact.
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))
        object.__setattr__(self, "notes", tuple(self.notes))

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready ``dict`` (plain ``dict`` for components, ``list`` for notes)."""
        return {
            "name": self.name,
            "points": self.points,
            "risk_class": self.risk_class,
            "predicted_survival_pct": self.predicted_survival_pct,
            "outcome": self.outcome,
            "components": dict(self.components),
            "reference": self.reference,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------------
# Table machinery
# ---------------------------------------------------------------------------------------------------


class Band(NamedTuple):
    """One row of a banded point table.

    A value belongs to the first band (tables run from the top down) whose lower bound it reaches:
    ``value >= low``, or ``value > low`` when ``low_open``. The last row of every table is the open
    bottom band (``low = -inf``). ``label`` is the band as printed in the source; ``printed_high`` is the
    largest value the printed label covers, so that a value above it (but below the next band) is known
    to sit between two printed bands.
    """

    points: int
    low: float
    label: str
    printed_high: float | None = None
    low_open: bool = False


class RiskClass(NamedTuple):
    """A published risk class: totals ``>= low`` (first match, from the top) and its survival."""

    label: str
    low: float
    survival_pct: float


_BOTTOM: Final = -math.inf


def _band(bands: Sequence[Band], value: float) -> Band:
    for band in bands[:-1]:
        if value > band.low or (value == band.low and not band.low_open):
            return band
    return bands[-1]


def _classify(classes: Sequence[RiskClass], total: float) -> RiskClass:
    for risk_class in classes[:-1]:
        if total >= risk_class.low:
            return risk_class
    return classes[-1]


def _fmt(value: float) -> str:
    return f"{value:g}"


def _banded(field_name: str, value: float, bands: Sequence[Band], unit: str, notes: list[str]) -> int:
    """Score ``value`` against ``bands`` and note it when it sits between two printed bands."""
    band = _band(bands, value)
    if band.printed_high is not None and value > band.printed_high:
        notes.append(
            f"{field_name} = {_fmt(value)} {unit} lies between two printed bands; scored with the "
            f"lower-valued band '{band.label}' ({band.points:+d}): a value must reach a band's printed lower "
            "bound to enter it."
        )
    return band.points


def _publish(readings: Sequence[tuple[str, RiskClass]], notes: list[str]) -> tuple[str | None, float | None]:
    """Return (class, survival) if every reading agrees; otherwise (None, None) and a note."""
    labels = {risk_class.label for _, risk_class in readings}
    if len(labels) == 1:
        chosen = readings[0][1]
        return chosen.label, chosen.survival_pct
    candidates = "; ".join(f"{how}: class {rc.label} ({_fmt(rc.survival_pct)} %)" for how, rc in readings)
    notes.append(f"Risk class and survival withheld because the source readings disagree — {candidates}.")
    return None, None


# ---------------------------------------------------------------------------------------------------
# Plausibility bounds
# ---------------------------------------------------------------------------------------------------
# Source: project choice, not the score papers. They catch typing errors and the grosser unit slips
# (µmol/L for mg/dL, µg/min for µg/kg/min, mmHg for kPa), and are wide enough not to refuse any value
# seen in an adult ECMO candidate. They change no score.

AGE_YEARS: Final = (18, 100)  # all seven scores were derived in adults (≥ 18 y); 100 catches typos
WEIGHT_KG: Final = (20.0, 400.0)
BMI_KG_M2: Final = (10.0, 100.0)
VENTILATION_HOURS: Final = (0.0, 8760.0)  # one year
VENTILATION_DAYS: Final = (0.0, 365.0)
HOSPITAL_DAYS: Final = (0.0, 365.0)
PACO2_MMHG: Final = (5.0, 300.0)
AIRWAY_PRESSURE_CMH2O: Final = (0.0, 100.0)  # peak and plateau pressure
PEEP_CMH2O: Final = (0.0, 50.0)
BLOOD_PRESSURE_MMHG: Final = (0.0, 300.0)  # diastolic, pulse and mean pressure (0: non-pulsatile on VA)
BICARBONATE_MMOL_L: Final = (0.0, 60.0)
LACTATE_MMOL_L: Final = (0.0, 50.0)
ARTERIAL_PH: Final = (6.0, 8.0)
PLATELETS: Final = (0.0, 2000.0)  # ×10⁹/L and ×10³/µL are the same number
GLASGOW_COMA_SCALE: Final = (3, 15)
CREATININE_UMOL_L: Final = (0.0, 3000.0)
CREATININE_MG_DL: Final = (0.0, 35.0)
BILIRUBIN_MG_DL: Final = (0.0, 70.0)
PROTHROMBIN_ACTIVITY_PCT: Final = (0.0, 200.0)  # Quick value; above 100 % happens
SOFA_POINTS: Final = (0, 24)
CHEST_XRAY_QUADRANTS: Final = (0, 4)
PF_RATIO_MMHG: Final = (0.0, 800.0)  # exclusive of 0: PaO2/FiO2 cannot be 0
COMPLIANCE_ML_CMH2O: Final = (0.0, 300.0)  # exclusive of 0
URINE_OUTPUT_ML_DAY: Final = (0.0, 20000.0)
DOPAMINE_UG_KG_MIN: Final = (0.0, 50.0)
DOBUTAMINE_UG_KG_MIN: Final = (0.0, 50.0)
EPINEPHRINE_UG_KG_MIN: Final = (0.0, 5.0)
NOREPINEPHRINE_UG_KG_MIN: Final = (0.0, 5.0)


def _age(value: object) -> int:
    return integer("age_years", value, minimum=AGE_YEARS[0], maximum=AGE_YEARS[1], unit="years")


def _num(
    field_name: str, value: object, bounds: tuple[float, float], unit: str, *, above_zero: bool = False
) -> float:
    return number(
        field_name, value, minimum=bounds[0], maximum=bounds[1], min_exclusive=above_zero, unit=unit
    )


def _opt_num(
    field_name: str, value: object, bounds: tuple[float, float], unit: str, *, above_zero: bool = False
) -> float | None:
    return None if value is None else _num(field_name, value, bounds, unit, above_zero=above_zero)


# ---------------------------------------------------------------------------------------------------
# 1. RESP — Schmidt M et al. Am J Respir Crit Care Med 2014;189(11):1374–82 (scores-and-models.md §1,
#    confidence A: two implementations agree and the published range −22…+15 is reproduced).
# ---------------------------------------------------------------------------------------------------

RESP_REFERENCE: Final = (
    "Schmidt M, Bailey M, Sheldrake J, et al. Predicting survival after extracorporeal membrane oxygenation "
    "for severe acute respiratory failure: the Respiratory ECMO Survival Prediction (RESP) score. "
    "Am J Respir Crit Care Med 2014;189(11):1374-82. doi:10.1164/rccm.201311-2023OC"
)
RESP_AGE_POINTS: Final = (
    Band(-3, 60, "≥60"),
    Band(-2, 50, "50–59"),
    Band(0, _BOTTOM, "18–49"),
)
RESP_VENTILATION_HOURS_POINTS: Final = (
    Band(0, 168, ">7 days", low_open=True),  # "> 7 days" is strictly more than 168 h
    Band(1, 48, "48 h–7 days"),  # exactly 48 h and exactly 168 h both land here
    Band(3, _BOTTOM, "<48 h"),
)
RESP_DIAGNOSIS_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "viral_pneumonia": 3,
        "bacterial_pneumonia": 3,
        "asthma": 11,
        "trauma_burn": 3,
        "aspiration_pneumonitis": 5,  # cliot 1.0.0 documents +3: wrong (§15.2; range check needs +5)
        "other_acute_respiratory": 1,
        "nonrespiratory_or_chronic": 0,
    }
)
RESP_YES_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "immunocompromised": -2,
        "cns_dysfunction": -7,
        "nonpulmonary_infection": -3,
        "neuromuscular_blockade": 1,
        "inhaled_nitric_oxide": -1,
        "bicarbonate_infusion": -2,
        "cardiac_arrest": -2,
    }
)
RESP_PACO2_HIGH_MMHG: Final = 75.0  # PaCO2 ≥ 75 mmHg (≥ 10 kPa) scores
RESP_PACO2_HIGH_POINTS: Final = -1
RESP_PIP_HIGH_CMH2O: Final = 42.0  # PIP ≥ 42 cmH2O scores
RESP_PIP_HIGH_POINTS: Final = -1
RESP_CLASSES: Final = (
    RiskClass("I", 6, 92.0),
    RiskClass("II", 3, 76.0),
    RiskClass("III", -1, 57.0),
    RiskClass("IV", -5, 33.0),
    RiskClass("V", _BOTTOM, 18.0),
)


def resp(
    *,
    age_years: int,
    immunocompromised: bool,
    ventilation_hours_before_ecmo: float,
    diagnosis: str,
    cns_dysfunction: bool,
    nonpulmonary_infection: bool,
    neuromuscular_blockade: bool,
    inhaled_nitric_oxide: bool,
    bicarbonate_infusion: bool,
    cardiac_arrest: bool,
    paco2_mmhg: float,
    peak_inspiratory_pressure_cmh2o: float,
) -> ScoreResult:
    """Respiratory ECMO Survival Prediction (RESP) score for VV ECMO in acute respiratory failure.

    All values are the pre-ECMO ones.

    Parameters
    ----------
    age_years : int
        Completed years, 18–100.
    immunocompromised : bool
        Haematological malignancy, solid tumour, solid-organ transplant, HIV or cirrhosis.
    ventilation_hours_before_ecmo : float
        Hours of mechanical ventilation before ECMO, 0–8760. ``<48`` +3, ``48–168`` +1, ``>168`` 0.
    diagnosis : str
        One of ``viral_pneumonia``, ``bacterial_pneumonia``, ``asthma``, ``trauma_burn``,
        ``aspiration_pneumonitis``, ``other_acute_respiratory``, ``nonrespiratory_or_chronic``.
    cns_dysfunction : bool
        Neurotrauma, stroke, encephalopathy, cerebral embolism, seizure.
    nonpulmonary_infection : bool
        Acute infection outside the lung. Bacteraemia secondary to the pneumonia is counted with the
        pneumonia, not here (project convention).
    neuromuscular_blockade, inhaled_nitric_oxide, bicarbonate_infusion, cardiac_arrest : bool
        Before ECMO.
    paco2_mmhg : float
        5–300 mmHg; ``>= 75`` scores −1.
    peak_inspiratory_pressure_cmh2o : float
        0–100 cmH2O; ``>= 42`` scores −1.

    Returns
    -------
    ScoreResult
        Total −22…+15; classes ``I``…``V``; hospital survival in the derivation cohort.

    Raises
    ------
    InputError
        For any missing, mistyped or out-of-range value.

    References
    ----------
    Schmidt M et al. Am J Respir Crit Care Med 2014;189:1374–82. doi:10.1164/rccm.201311-2023OC
    """
    age = _age(age_years)
    yes = {"immunocompromised": boolean("immunocompromised", immunocompromised)}
    hours = _num("ventilation_hours_before_ecmo", ventilation_hours_before_ecmo, VENTILATION_HOURS, "h")
    dx = choice("diagnosis", diagnosis, RESP_DIAGNOSIS_POINTS)
    for name, value in (
        ("cns_dysfunction", cns_dysfunction),
        ("nonpulmonary_infection", nonpulmonary_infection),
        ("neuromuscular_blockade", neuromuscular_blockade),
        ("inhaled_nitric_oxide", inhaled_nitric_oxide),
        ("bicarbonate_infusion", bicarbonate_infusion),
        ("cardiac_arrest", cardiac_arrest),
    ):
        yes[name] = boolean(name, value)
    paco2 = _num("paco2_mmhg", paco2_mmhg, PACO2_MMHG, "mmHg")
    pip = _num(
        "peak_inspiratory_pressure_cmh2o", peak_inspiratory_pressure_cmh2o, AIRWAY_PRESSURE_CMH2O, "cmH2O"
    )

    notes = [
        "Survival is hospital survival in the derivation cohort (ELSO 2000–2012); observed survival by class "
        "was lower in COVID-19 (Joshi 2022), and these figures are not re-labelled for it.",
        "nonpulmonary_infection means an acute infection outside the lung; bacteraemia secondary to the "
        "pneumonia is counted with the pneumonia, not as a non-pulmonary infection (project convention).",
    ]
    if hours == 48:
        notes.append("Ventilation of exactly 48 h scored in the '48 h–7 days' band (+1).")
    if hours == 168:
        notes.append(
            "Ventilation of exactly 7 days (168 h) scored in the '48 h–7 days' band (+1): '>7 days' "
            "is read as strictly more."
        )

    components = {"age_years": _band(RESP_AGE_POINTS, age).points}
    components["immunocompromised"] = RESP_YES_POINTS["immunocompromised"] if yes["immunocompromised"] else 0
    components["ventilation_hours_before_ecmo"] = _band(RESP_VENTILATION_HOURS_POINTS, hours).points
    components["diagnosis"] = RESP_DIAGNOSIS_POINTS[dx]
    for name in (
        "cns_dysfunction",
        "nonpulmonary_infection",
        "neuromuscular_blockade",
        "inhaled_nitric_oxide",
        "bicarbonate_infusion",
        "cardiac_arrest",
    ):
        components[name] = RESP_YES_POINTS[name] if yes[name] else 0
    components["paco2_mmhg"] = RESP_PACO2_HIGH_POINTS if paco2 >= RESP_PACO2_HIGH_MMHG else 0
    components["peak_inspiratory_pressure_cmh2o"] = RESP_PIP_HIGH_POINTS if pip >= RESP_PIP_HIGH_CMH2O else 0

    total = sum(components.values())
    risk_class = _classify(RESP_CLASSES, total)
    return ScoreResult(
        name="RESP",
        points=total,
        risk_class=risk_class.label,
        predicted_survival_pct=risk_class.survival_pct,
        outcome="hospital survival",
        components=components,
        reference=RESP_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 2. SAVE — Schmidt M et al. Eur Heart J 2015;36(33):2246–56 (scores-and-models.md §2, confidence A for
#    the items: the published range −35…+17 is reproduced only with additive diagnoses and the −6
#    constant; class boundary at 5: B, sources disagree).
# ---------------------------------------------------------------------------------------------------

SAVE_REFERENCE: Final = (
    "Schmidt M, Burrell A, Roberts L, et al. Predicting survival after ECMO for refractory cardiogenic "
    "shock: the survival after veno-arterial-ECMO (SAVE)-score. Eur Heart J 2015;36(33):2246-56. "
    "doi:10.1093/eurheartj/ehv194"
)
SAVE_DIAGNOSIS_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "myocarditis": 3,
        "refractory_vt_vf": 2,
        "post_heart_or_lung_transplant": 3,
        "congenital_heart_disease": -3,
        "other": 0,
    }
)
SAVE_AGE_POINTS: Final = (
    Band(0, 63, "≥63"),
    Band(3, 53, "53–62"),
    Band(4, 39, "39–52"),
    Band(7, _BOTTOM, "18–38"),
)
# The printed table overlaps at 65 kg ("≤65" +1, "65–89" +2). Chosen: 65 kg → +1 (the explicit "≤");
# the other reading (+2) is carried as an alternative so that a class it would change is withheld.
SAVE_WEIGHT_KG_POINTS: Final = (
    Band(0, 90, "≥90"),
    Band(2, 65, "65–89", printed_high=89, low_open=True),
    Band(1, _BOTTOM, "≤65"),
)
SAVE_WEIGHT_OVERLAP_KG: Final = 65.0
SAVE_WEIGHT_OVERLAP_ALTERNATIVE_POINTS: Final = 2
SAVE_INTUBATION_HOURS_POINTS: Final = (
    Band(-4, 30, "≥30"),
    Band(-2, 11, "11–29", printed_high=29),
    Band(0, _BOTTOM, "≤10", printed_high=10),
)
SAVE_YES_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "liver_failure": -3,  # bilirubin ≥ 33 µmol/L (1.9 mg/dL) or ALT/AST > 70 U/L
        "cns_dysfunction": -3,
        "acute_renal_failure": -3,  # e.g. creatinine > 1.5 mg/dL, with or without RRT
        "chronic_renal_failure": -6,  # kidney damage or GFR < 60 mL/min/1.73 m² for ≥ 3 months
        "cardiac_arrest": -2,
    }
)
SAVE_PIP_LOW_CMH2O: Final = 20.0  # PIP ≤ 20 cmH2O: +3
SAVE_PIP_LOW_POINTS: Final = 3
SAVE_DIASTOLIC_HIGH_MMHG: Final = 40.0  # DBP ≥ 40 mmHg: +3
SAVE_DIASTOLIC_HIGH_POINTS: Final = 3
SAVE_PULSE_PRESSURE_LOW_MMHG: Final = 20.0  # pulse pressure ≤ 20 mmHg: −2
SAVE_PULSE_PRESSURE_LOW_POINTS: Final = -2
SAVE_BICARBONATE_LOW_MMOL_L: Final = 15.0  # HCO3 ≤ 15 mmol/L: −3
SAVE_BICARBONATE_LOW_POINTS: Final = -3
SAVE_CONSTANT: Final = -6  # added to every patient (omitted by one public tool, §15.1)
# Class I "> 5", class II "1 to 5" (paper wording; scores-and-models.md §2, settled B 2026-12): a total of
# exactly 5 is class II (58 %). Two independent implementations that follow the paper's Table 4 test "> 5";
# the "≥ 5" readings (Evidencio model 1001, one mobile app) are the outliers and are not offered.
SAVE_CLASSES: Final = (
    RiskClass("I", 6, 75.0),
    RiskClass("II", 1, 58.0),
    RiskClass("III", -4, 42.0),
    RiskClass("IV", -9, 30.0),
    RiskClass("V", _BOTTOM, 18.0),
)
SAVE_CLASS_I_ABOVE: Final = 5  # class I is a total above 5; exactly 5 is class II (noted on the result)
# Kept under its former name for callers that imported it.
SAVE_CLASSES_PAPER: Final = SAVE_CLASSES


def _save_diagnoses(value: object) -> tuple[str, ...]:
    options = ", ".join(SAVE_DIAGNOSIS_POINTS)
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InputError("diagnoses", f"must be a list of one or more of {options}; got {value!r}")
    chosen: list[str] = []
    for item in value:
        dx = choice("diagnoses", item, SAVE_DIAGNOSIS_POINTS)
        if dx in chosen:
            raise InputError("diagnoses", f"lists {dx!r} more than once")
        chosen.append(dx)
    if not chosen:
        raise InputError("diagnoses", f"must list at least one of {options} (use 'other' if none applies)")
    return tuple(chosen)


def save(
    *,
    age_years: int,
    weight_kg: float,
    diagnoses: Iterable[str],
    liver_failure: bool,
    cns_dysfunction: bool,
    acute_renal_failure: bool,
    chronic_renal_failure: bool,
    intubation_hours_before_ecmo: float,
    peak_inspiratory_pressure_cmh2o: float,
    cardiac_arrest: bool,
    diastolic_bp_mmhg: float,
    pulse_pressure_mmhg: float,
    bicarbonate_mmol_l: float,
) -> ScoreResult:
    """Survival After Veno-arterial ECMO (SAVE) score for refractory cardiogenic shock.

    Blood pressures and bicarbonate are the worst values within 6 h before cannulation.

    Parameters
    ----------
    age_years : int
        Completed years, 18–100: 18–38 +7, 39–52 +4, 53–62 +3, ≥63 0.
    weight_kg : float
        20–400 kg: ≤65 +1 (65 exactly: see notes), >65 to <90 +2, ≥90 0.
    diagnoses : iterable of str
        One or more of ``myocarditis`` (+3), ``refractory_vt_vf`` (+2), ``post_heart_or_lung_transplant``
        (+3), ``congenital_heart_disease`` (−3), ``other`` (0); points add. Duplicates, unknown names, an
        empty list and a bare string are refused.
    liver_failure, cns_dysfunction, acute_renal_failure : bool
        Acute pre-ECMO organ failures, −3 each.
    chronic_renal_failure : bool
        −6.
    intubation_hours_before_ecmo : float
        0–8760 h: ≤10 0, 11–29 −2, ≥30 −4.
    peak_inspiratory_pressure_cmh2o : float
        0–100 cmH2O; ≤20 scores +3.
    cardiac_arrest : bool
        Pre-ECMO cardiac arrest, −2.
    diastolic_bp_mmhg : float
        0–300 mmHg; ≥40 scores +3.
    pulse_pressure_mmhg : float
        0–300 mmHg; ≤20 scores −2.
    bicarbonate_mmol_l : float
        0–60 mmol/L; ≤15 scores −3.

    Returns
    -------
    ScoreResult
        Total −35…+17 including the constant −6; classes ``I``…``V``; hospital survival.

    Raises
    ------
    InputError
        For any missing, mistyped or out-of-range value.

    References
    ----------
    Schmidt M et al. Eur Heart J 2015;36:2246–56. doi:10.1093/eurheartj/ehv194
    """
    age = _age(age_years)
    weight = _num("weight_kg", weight_kg, WEIGHT_KG, "kg")
    dxs = _save_diagnoses(diagnoses)
    yes = {
        name: boolean(name, value)
        for name, value in (
            ("liver_failure", liver_failure),
            ("cns_dysfunction", cns_dysfunction),
            ("acute_renal_failure", acute_renal_failure),
            ("chronic_renal_failure", chronic_renal_failure),
        )
    }
    hours = _num("intubation_hours_before_ecmo", intubation_hours_before_ecmo, VENTILATION_HOURS, "h")
    pip = _num(
        "peak_inspiratory_pressure_cmh2o", peak_inspiratory_pressure_cmh2o, AIRWAY_PRESSURE_CMH2O, "cmH2O"
    )
    yes["cardiac_arrest"] = boolean("cardiac_arrest", cardiac_arrest)
    dbp = _num("diastolic_bp_mmhg", diastolic_bp_mmhg, BLOOD_PRESSURE_MMHG, "mmHg")
    pulse = _num("pulse_pressure_mmhg", pulse_pressure_mmhg, BLOOD_PRESSURE_MMHG, "mmHg")
    hco3 = _num("bicarbonate_mmol_l", bicarbonate_mmol_l, BICARBONATE_MMOL_L, "mmol/L")

    notes = ["Survival is hospital survival in the derivation cohort (ELSO 2003–2013)."]
    components = {"age_years": _band(SAVE_AGE_POINTS, age).points}
    components["weight_kg"] = _banded("weight_kg", weight, SAVE_WEIGHT_KG_POINTS, "kg", notes)
    components["diagnoses"] = sum(SAVE_DIAGNOSIS_POINTS[dx] for dx in dxs)
    for name in ("liver_failure", "cns_dysfunction", "acute_renal_failure", "chronic_renal_failure"):
        components[name] = SAVE_YES_POINTS[name] if yes[name] else 0
    components["intubation_hours_before_ecmo"] = _banded(
        "intubation_hours_before_ecmo", hours, SAVE_INTUBATION_HOURS_POINTS, "h", notes
    )
    components["peak_inspiratory_pressure_cmh2o"] = SAVE_PIP_LOW_POINTS if pip <= SAVE_PIP_LOW_CMH2O else 0
    components["cardiac_arrest"] = SAVE_YES_POINTS["cardiac_arrest"] if yes["cardiac_arrest"] else 0
    components["diastolic_bp_mmhg"] = SAVE_DIASTOLIC_HIGH_POINTS if dbp >= SAVE_DIASTOLIC_HIGH_MMHG else 0
    components["pulse_pressure_mmhg"] = (
        SAVE_PULSE_PRESSURE_LOW_POINTS if pulse <= SAVE_PULSE_PRESSURE_LOW_MMHG else 0
    )
    components["bicarbonate_mmol_l"] = (
        SAVE_BICARBONATE_LOW_POINTS if hco3 <= SAVE_BICARBONATE_LOW_MMOL_L else 0
    )
    components["constant"] = SAVE_CONSTANT
    total = sum(components.values())

    totals = [("", total)]
    if weight == SAVE_WEIGHT_OVERLAP_KG:
        alternative = total - components["weight_kg"] + SAVE_WEIGHT_OVERLAP_ALTERNATIVE_POINTS
        notes.append(
            "Weight exactly 65 kg: the source table overlaps ('≤65' +1, '65–89' +2); scored +1 (the explicit "
            f"'≤65' row). Read as +2 the total would be {alternative}."
        )
        totals = [("65 kg as +1, ", total), ("65 kg as +2, ", alternative)]
    readings = [
        (f"{weight_reading}total {points}", _classify(SAVE_CLASSES, points))
        for weight_reading, points in totals
    ]
    if total == SAVE_CLASS_I_ABOVE:
        notes.append(
            "A total of exactly 5 is class II (58 %): the paper's '> 5' for class I, as two implementations "
            "that follow it read it; calculators that read '≥ 5' as class I are outliers."
        )
    risk_class, survival = _publish(readings, notes)
    return ScoreResult(
        name="SAVE",
        points=total,
        risk_class=risk_class,
        predicted_survival_pct=survival,
        outcome="hospital survival",
        components=components,
        reference=SAVE_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 3. PRESERVE — Schmidt M et al. Intensive Care Med 2013;39(10):1704–13 (scores-and-models.md §3:
#    items, classes and survival A; item weights B from Klinzing 2015 Table 1, alternative weights C).
# ---------------------------------------------------------------------------------------------------

PRESERVE_REFERENCE: Final = (
    "Schmidt M, Zogheib E, Rozé H, et al. The PRESERVE mortality risk score and analysis of long-term "
    "outcomes after extracorporeal membrane oxygenation for severe acute respiratory distress syndrome. "
    "Intensive Care Med 2013;39(10):1704-13. doi:10.1007/s00134-013-3037-2; item weights as tabulated by "
    "Klinzing S, et al. Crit Care 2015;19:142. doi:10.1186/s13054-015-0875-z"
)
PRESERVE_AGE_POINTS: Final = (
    Band(3, 55, ">55", low_open=True),
    Band(2, 45, "45–55"),
    Band(0, _BOTTOM, "<45"),
)
PRESERVE_BMI_HIGH_KG_M2: Final = 30.0  # BMI > 30: −2 (both weightings)
PRESERVE_BMI_HIGH_POINTS: Final = -2
PRESERVE_IMMUNOCOMPROMISED_POINTS: Final = 2  # both weightings
PRESERVE_SOFA_HIGH: Final = 12  # SOFA > 12: +1 (both weightings)
PRESERVE_SOFA_HIGH_POINTS: Final = 1
PRESERVE_NO_PRONE_POINTS: Final = 1  # no prone positioning before ECMO (both weightings)
PRESERVE_PEEP_LOW_CMH2O: Final = 10.0  # PEEP < 10
PRESERVE_PLATEAU_HIGH_CMH2O: Final = 30.0  # plateau > 30


class PreserveWeights(NamedTuple):
    """The items whose weight differs between the two renderings of the PRESERVE table."""

    ventilation_days: tuple[Band, ...]
    peep_low: int
    plateau_high: int


# Klinzing 2015 Table 1 (B) — used for points and components. Sums to at most 10, not the 14 the
# original abstract states.
PRESERVE_WEIGHTS_KLINZING: Final = PreserveWeights(
    ventilation_days=(Band(1, 6, ">6 days", low_open=True), Band(0, _BOTTOM, "≤6 days")),
    peep_low=1,
    plateau_high=1,
)
# Alternative recollection (C) — only used to decide whether a class can be published.
PRESERVE_WEIGHTS_ALTERNATIVE: Final = PreserveWeights(
    ventilation_days=(
        Band(2, 7, "≥7 days"),
        Band(1, 2, "2–6 days", printed_high=6),
        Band(0, _BOTTOM, "<2 days"),
    ),
    peep_low=2,
    plateau_high=2,
)
PRESERVE_CLASSES: Final = (
    RiskClass(">=7", 7, 16.0),
    RiskClass("5-6", 5, 54.0),
    RiskClass("3-4", 3, 79.0),
    RiskClass("0-2", _BOTTOM, 97.0),  # a negative total (possible with BMI > 30) falls here: see notes
)


def preserve(
    *,
    age_years: int,
    bmi_kg_m2: float,
    immunocompromised: bool,
    ventilation_days_before_ecmo: float,
    sofa_points: int,
    prone_before_ecmo: bool,
    peep_cmh2o: float,
    plateau_pressure_cmh2o: float,
) -> ScoreResult:
    """PRESERVE score (VV ECMO for ARDS; 6-month survival).

    Points follow the Klinzing 2015 rendering of the item table (confidence B). The class is published
    only when the alternative weighting (C) gives the same class.

    Parameters
    ----------
    age_years : int
        Completed years, 18–100: <45 0, 45–55 +2, >55 +3.
    bmi_kg_m2 : float
        10–100 kg/m²; >30 scores −2.
    immunocompromised : bool
        Haematological malignancy, solid tumour, solid-organ transplant, high-dose or long-term steroids or
        immunosuppressants, HIV: +2.
    ventilation_days_before_ecmo : float
        0–365 days; >6 scores +1 (alternative: 2–6 +1, ≥7 +2).
    sofa_points : int
        0–24; >12 scores +1.
    prone_before_ecmo : bool
        ``False`` (not proned) scores +1.
    peep_cmh2o : float
        0–50 cmH2O; <10 scores +1 (alternative +2).
    plateau_pressure_cmh2o : float
        0–100 cmH2O; >30 scores +1 (alternative +2).

    Returns
    -------
    ScoreResult
        Classes ``0-2``, ``3-4``, ``5-6``, ``>=7``; 6-month survival.

    Raises
    ------
    InputError
        For any missing, mistyped or out-of-range value.

    References
    ----------
    Schmidt M et al. Intensive Care Med 2013;39:1704–13. doi:10.1007/s00134-013-3037-2
    Klinzing S et al. Crit Care 2015;19:142. doi:10.1186/s13054-015-0875-z
    """
    age = _age(age_years)
    bmi = _num("bmi_kg_m2", bmi_kg_m2, BMI_KG_M2, "kg/m²")
    immuno = boolean("immunocompromised", immunocompromised)
    days = _num("ventilation_days_before_ecmo", ventilation_days_before_ecmo, VENTILATION_DAYS, "days")
    sofa_total = integer("sofa_points", sofa_points, minimum=SOFA_POINTS[0], maximum=SOFA_POINTS[1])
    proned = boolean("prone_before_ecmo", prone_before_ecmo)
    peep = _num("peep_cmh2o", peep_cmh2o, PEEP_CMH2O, "cmH2O")
    plateau = _num("plateau_pressure_cmh2o", plateau_pressure_cmh2o, AIRWAY_PRESSURE_CMH2O, "cmH2O")

    def score(weights: PreserveWeights) -> dict[str, int]:
        return {
            "age_years": _band(PRESERVE_AGE_POINTS, age).points,
            "bmi_kg_m2": PRESERVE_BMI_HIGH_POINTS if bmi > PRESERVE_BMI_HIGH_KG_M2 else 0,
            "immunocompromised": PRESERVE_IMMUNOCOMPROMISED_POINTS if immuno else 0,
            "ventilation_days_before_ecmo": _band(weights.ventilation_days, days).points,
            "sofa_points": PRESERVE_SOFA_HIGH_POINTS if sofa_total > PRESERVE_SOFA_HIGH else 0,
            "prone_before_ecmo": 0 if proned else PRESERVE_NO_PRONE_POINTS,
            "peep_cmh2o": weights.peep_low if peep < PRESERVE_PEEP_LOW_CMH2O else 0,
            "plateau_pressure_cmh2o": weights.plateau_high if plateau > PRESERVE_PLATEAU_HIGH_CMH2O else 0,
        }

    components = score(PRESERVE_WEIGHTS_KLINZING)
    total = sum(components.values())
    alternative = sum(score(PRESERVE_WEIGHTS_ALTERNATIVE).values())
    notes = [
        "Item weights follow the Klinzing 2015 rendering (confidence B; at most 10 points, whereas the "
        "original abstract states 0–14). The alternative recollection (C: ventilation 2–6 d +1 / ≥7 d +2, "
        f"PEEP <10 +2, plateau >30 +2) gives {alternative}; a class is published only when both weightings "
        "agree.",
        "Survival is 6-month survival in the derivation cohort (n = 140, three French ICUs, 2008–2012).",
    ]
    if total < 0:  # the alternative weights never subtract more, so it is at most 0 too
        notes.append(
            "Total below 0, though the paper states a 0–14 range: the total is reported as is (not floored) "
            "and falls in class 0–2, which flooring at 0 would give as well."
        )
    risk_class, survival = _publish(
        [
            (f"Klinzing weights, total {total}", _classify(PRESERVE_CLASSES, total)),
            (f"alternative weights, total {alternative}", _classify(PRESERVE_CLASSES, alternative)),
        ],
        notes,
    )
    return ScoreResult(
        name="PRESERVE",
        points=total,
        risk_class=risk_class,
        predicted_survival_pct=survival,
        outcome="6-month survival",
        components=components,
        reference=PRESERVE_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 4. PRESET — Hilder M et al. Crit Care 2017;21:301 (scores-and-models.md §4: predictors and the 0–15
#    range A; cut-offs B, identical in two third-party calculators; classes unresolved → not published).
# ---------------------------------------------------------------------------------------------------

PRESET_REFERENCE: Final = (
    "Hilder M, Herbstreit F, Adamzik M, et al. Comparison of mortality prediction models in acute "
    "respiratory distress syndrome undergoing extracorporeal membrane oxygenation and development of a "
    "novel prediction score: the PREdiction of Survival on ECMO Therapy-Score (PRESET-Score). "
    "Crit Care 2017;21:301. "
    "doi:10.1186/s13054-017-1888-6"
)
PRESET_MAP_MMHG_POINTS: Final = (
    Band(0, 100, ">100", low_open=True),
    Band(1, 91, "91–100", printed_high=100),
    Band(2, 81, "81–90", printed_high=90),
    Band(3, 71, "71–80", printed_high=80),
    Band(4, _BOTTOM, "≤70", printed_high=70),
)
PRESET_LACTATE_MMOL_L_POINTS: Final = (
    Band(4, 10.0, ">10.0", low_open=True),
    Band(3, 6.01, "6.01–10.0", printed_high=10.0),
    Band(2, 3.01, "3.01–6.0", printed_high=6.0),
    Band(1, 1.51, "1.51–3.0", printed_high=3.0),
    Band(0, _BOTTOM, "≤1.5", printed_high=1.5),
)
PRESET_PH_POINTS: Final = (
    Band(0, 7.30, ">7.30", low_open=True),
    Band(1, 7.201, "7.201–7.30", printed_high=7.30),
    Band(2, 7.101, "7.101–7.20", printed_high=7.20),
    Band(3, _BOTTOM, "≤7.10", printed_high=7.10),
)
PRESET_PLATELETS_POINTS: Final = (
    Band(0, 200, ">200", low_open=True),
    Band(1, 101, "101–200", printed_high=200),
    Band(2, _BOTTOM, "≤100", printed_high=100),
)
PRESET_HOSPITAL_DAYS_POINTS: Final = (
    Band(2, 7, ">7", low_open=True),
    Band(1, 3, "3–7", printed_high=7),
    Band(0, _BOTTOM, "≤2", printed_high=2),
)


def preset(
    *,
    mean_arterial_pressure_mmhg: float,
    lactate_mmol_l: float,
    arterial_ph: float,
    platelets_10e9_l: float,
    hospital_days_before_ecmo: float,
) -> ScoreResult:
    """PREdiction of Survival on ECMO Therapy (PRESET) score (VV ECMO for ARDS).

    Risk class and mortality are never published: the secondary sources disagree on the class cut-offs
    and the paper's table could not be checked.

    Parameters
    ----------
    mean_arterial_pressure_mmhg : float
        0–300 mmHg: >100 0, 91–100 1, 81–90 2, 71–80 3, ≤70 4.
    lactate_mmol_l : float
        0–50 mmol/L: ≤1.5 0, 1.51–3.0 1, 3.01–6.0 2, 6.01–10.0 3, >10.0 4.
    arterial_ph : float
        6.0–8.0: >7.30 0, 7.201–7.30 1, 7.101–7.20 2, ≤7.10 3.
    platelets_10e9_l : float
        0–2000 ×10⁹/L: >200 0, 101–200 1, ≤100 2.
    hospital_days_before_ecmo : float
        0–365 days: ≤2 0, 3–7 1, >7 2.

    Returns
    -------
    ScoreResult
        Total 0–15; ``risk_class`` and ``predicted_survival_pct`` always ``None``.

    Raises
    ------
    InputError
        For any missing, mistyped or out-of-range value.

    References
    ----------
    Hilder M et al. Crit Care 2017;21:301. doi:10.1186/s13054-017-1888-6
    """
    mean_ap = _num("mean_arterial_pressure_mmhg", mean_arterial_pressure_mmhg, BLOOD_PRESSURE_MMHG, "mmHg")
    lactate = _num("lactate_mmol_l", lactate_mmol_l, LACTATE_MMOL_L, "mmol/L")
    ph = _num("arterial_ph", arterial_ph, ARTERIAL_PH, "")
    platelets = _num("platelets_10e9_l", platelets_10e9_l, PLATELETS, "×10⁹/L")
    days = _num("hospital_days_before_ecmo", hospital_days_before_ecmo, HOSPITAL_DAYS, "days")

    notes = [
        "Point cut-offs come from two third-party calculators that agree (confidence B); they were not "
        "checked against the Hilder 2017 table.",
        "Risk class and mortality not published: the secondary sources disagree on the class cut-offs "
        "(I 0–5 / II 6–9 / III 10–15 versus I 0–3 / II 4–5 / III ≥6).",
    ]
    components = {
        "mean_arterial_pressure_mmhg": _banded(
            "mean_arterial_pressure_mmhg", mean_ap, PRESET_MAP_MMHG_POINTS, "mmHg", notes
        ),
        "lactate_mmol_l": _banded("lactate_mmol_l", lactate, PRESET_LACTATE_MMOL_L_POINTS, "mmol/L", notes),
        "arterial_ph": _banded("arterial_ph", ph, PRESET_PH_POINTS, "", notes),
        "platelets_10e9_l": _banded("platelets_10e9_l", platelets, PRESET_PLATELETS_POINTS, "×10⁹/L", notes),
        "hospital_days_before_ecmo": _banded(
            "hospital_days_before_ecmo", days, PRESET_HOSPITAL_DAYS_POINTS, "days", notes
        ),
    }
    return ScoreResult(
        name="PRESET",
        points=sum(components.values()),
        risk_class=None,
        predicted_survival_pct=None,
        outcome="ICU mortality",
        components=components,
        reference=PRESET_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 5. ENCOURAGE — Muller G et al. Intensive Care Med 2016;42(3):370–8 (scores-and-models.md §8: six items
#    and the classes A; prothrombin weight C; lactate exactly 8 disputed).
# ---------------------------------------------------------------------------------------------------

ENCOURAGE_REFERENCE: Final = (
    "Muller G, Flecher E, Lebreton G, et al. The ENCOURAGE mortality risk score and analysis of long-term "
    "outcomes after VA-ECMO for acute myocardial infarction with cardiogenic shock. Intensive Care Med "
    "2016;42(3):370-8. doi:10.1007/s00134-016-4223-9"
)
ENCOURAGE_AGE_OVER_YEARS: Final = 60  # age > 60: +5
ENCOURAGE_AGE_POINTS: Final = 5
ENCOURAGE_FEMALE_POINTS: Final = 7
ENCOURAGE_BMI_OVER_KG_M2: Final = 25.0  # BMI > 25: +6
ENCOURAGE_BMI_POINTS: Final = 6
ENCOURAGE_GCS_BELOW: Final = 6  # GCS < 6: +6
ENCOURAGE_GCS_POINTS: Final = 6
ENCOURAGE_CREATININE_OVER_UMOL_L: Final = 150.0  # creatinine > 150 µmol/L: +5
ENCOURAGE_CREATININE_POINTS: Final = 5
# Published labels "< 2 / 2–8 / > 8" (A, settled): lactate 8.0 scores 8. An R implementation uses "< 8" (→ 11).
ENCOURAGE_LACTATE_MMOL_L_POINTS: Final = (
    Band(11, 8.0, ">8", low_open=True),
    Band(8, 2.0, "2–8"),
    Band(0, _BOTTOM, "<2"),
)
ENCOURAGE_LACTATE_DISPUTED_MMOL_L: Final = 8.0
ENCOURAGE_LACTATE_DISPUTED_ALTERNATIVE_POINTS: Final = 11
ENCOURAGE_PROTHROMBIN_BELOW_PCT: Final = 50.0  # prothrombin activity < 50 %: +5 (weight confidence C)
ENCOURAGE_PROTHROMBIN_POINTS: Final = 5
ENCOURAGE_CLASSES: Final = (
    RiskClass(">=28", 28, 7.0),
    RiskClass("23-27", 23, 20.0),
    RiskClass("19-22", 19, 25.0),
    RiskClass("13-18", 13, 58.0),
    RiskClass("0-12", _BOTTOM, 80.0),
)


def encourage(
    *,
    age_years: int,
    female: bool,
    bmi_kg_m2: float,
    glasgow_coma_scale: int,
    creatinine_umol_l: float,
    lactate_mmol_l: float,
    prothrombin_activity_pct: float,
) -> ScoreResult:
    """ENCOURAGE score (VA ECMO for acute myocardial infarction with cardiogenic shock).

    Parameters
    ----------
    age_years : int
        Completed years, 18–100; >60 scores +5.
    female : bool
        +7.
    bmi_kg_m2 : float
        10–100 kg/m²; >25 scores +6.
    glasgow_coma_scale : int
        3–15; <6 scores +6.
    creatinine_umol_l : float
        0–3000 µmol/L; >150 scores +5.
    lactate_mmol_l : float
        0–50 mmol/L: <2 0, 2–8 +8, >8 +11 (8.0 exactly: see notes).
    prothrombin_activity_pct : float
        Prothrombin (Quick) activity, 0–200 %; <50 scores +5 (weight unverified, confidence C).

    Returns
    -------
    ScoreResult
        Classes ``0-12``, ``13-18``, ``19-22``, ``23-27``, ``>=28``; 6-month survival.

    Raises
    ------
    InputError
        For any missing, mistyped or out-of-range value.

    References
    ----------
    Muller G et al. Intensive Care Med 2016;42:370–8. doi:10.1007/s00134-016-4223-9
    """
    age = _age(age_years)
    is_female = boolean("female", female)
    bmi = _num("bmi_kg_m2", bmi_kg_m2, BMI_KG_M2, "kg/m²")
    gcs = integer(
        "glasgow_coma_scale", glasgow_coma_scale, minimum=GLASGOW_COMA_SCALE[0], maximum=GLASGOW_COMA_SCALE[1]
    )
    creatinine = _num("creatinine_umol_l", creatinine_umol_l, CREATININE_UMOL_L, "µmol/L")
    lactate = _num("lactate_mmol_l", lactate_mmol_l, LACTATE_MMOL_L, "mmol/L")
    prothrombin = _num("prothrombin_activity_pct", prothrombin_activity_pct, PROTHROMBIN_ACTIVITY_PCT, "%")

    components = {
        "age_years": ENCOURAGE_AGE_POINTS if age > ENCOURAGE_AGE_OVER_YEARS else 0,
        "female": ENCOURAGE_FEMALE_POINTS if is_female else 0,
        "bmi_kg_m2": ENCOURAGE_BMI_POINTS if bmi > ENCOURAGE_BMI_OVER_KG_M2 else 0,
        "glasgow_coma_scale": ENCOURAGE_GCS_POINTS if gcs < ENCOURAGE_GCS_BELOW else 0,
        "creatinine_umol_l": (
            ENCOURAGE_CREATININE_POINTS if creatinine > ENCOURAGE_CREATININE_OVER_UMOL_L else 0
        ),
        "lactate_mmol_l": _band(ENCOURAGE_LACTATE_MMOL_L_POINTS, lactate).points,
        "prothrombin_activity_pct": (
            ENCOURAGE_PROTHROMBIN_POINTS if prothrombin < ENCOURAGE_PROTHROMBIN_BELOW_PCT else 0
        ),
    }
    total = sum(components.values())
    notes = ["Survival is 6-month survival in the derivation cohort (n = 138, AMI shock on VA-ECMO)."]
    notes.append(
        "The prothrombin activity weight (+5 below 50 %) has one source only (one implementation, confidence "
        "C)"
        + (
            "; it scored here, so check it against Muller 2016 before relying on the total or class."
            if components["prothrombin_activity_pct"]
            else "; it did not score here."
        )
    )
    if lactate == ENCOURAGE_LACTATE_DISPUTED_MMOL_L:
        alternative = total - components["lactate_mmol_l"] + ENCOURAGE_LACTATE_DISPUTED_ALTERNATIVE_POINTS
        notes.append(
            "Lactate exactly 8 mmol/L scored 8 (the published labels '< 2, 2–8, > 8'); one implementation "
            f"using '< 8' would score 11, a total of {alternative}, which departs from the labels."
        )
    readings = [(f"total {total}", _classify(ENCOURAGE_CLASSES, total))]
    risk_class, survival = _publish(readings, notes)
    return ScoreResult(
        name="ENCOURAGE",
        points=total,
        risk_class=risk_class,
        predicted_survival_pct=survival,
        outcome="6-month survival",
        components=components,
        reference=ENCOURAGE_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 6. Murray lung injury score — Murray JF et al. Am Rev Respir Dis 1988;138(3):720–3
#    (scores-and-models.md §7, confidence A; the TypeScript runMurrayLIS bands are wrong, §15.3).
# ---------------------------------------------------------------------------------------------------

MURRAY_REFERENCE: Final = (
    "Murray JF, Matthay MA, Luce JM, Flick MR. An expanded definition of the adult respiratory distress "
    "syndrome. Am Rev Respir Dis 1988;138(3):720-3. doi:10.1164/ajrccm/138.3.720"
)
MURRAY_CHEST_XRAY_POINTS: Final[Mapping[int, int]] = MappingProxyType({0: 0, 1: 1, 2: 2, 3: 3, 4: 4})
MURRAY_PF_RATIO_MMHG_POINTS: Final = (
    Band(0, 300, "≥300"),
    Band(1, 225, "225–299", printed_high=299),
    Band(2, 175, "175–224", printed_high=224),
    Band(3, 100, "100–174", printed_high=174),
    Band(4, _BOTTOM, "<100"),
)
MURRAY_PEEP_CMH2O_POINTS: Final = (
    Band(4, 15, "≥15"),
    Band(3, 12, "12–14", printed_high=14),
    Band(2, 9, "9–11", printed_high=11),
    Band(1, 6, "6–8", printed_high=8),
    Band(0, _BOTTOM, "≤5", printed_high=5),
)
MURRAY_COMPLIANCE_ML_CMH2O_POINTS: Final = (
    Band(0, 80, "≥80"),
    Band(1, 60, "60–79", printed_high=79),
    Band(2, 40, "40–59", printed_high=59),
    Band(3, 20, "20–39", printed_high=39),
    Band(4, _BOTTOM, "≤19", printed_high=19),
)
MURRAY_SEVERE_ABOVE: Final = 2.5  # > 2.5 severe; 0.1–2.5 mild–moderate; 0 none


def murray_lung_injury(
    *,
    chest_xray_quadrants: int,
    pf_ratio_mmhg: float,
    peep_cmh2o: float | None = None,
    static_compliance_ml_cmh2o: float | None = None,
) -> ScoreResult:
    """Murray lung injury score (LIS): the mean of the component points given.

    Parameters
    ----------
    chest_xray_quadrants : int
        Quadrants with alveolar consolidation, 0–4 (points = quadrants).
    pf_ratio_mmhg : float
        PaO2/FiO2 (FiO2 as a fraction), above 0 to 800 mmHg: ≥300 0, 225–299 1, 175–224 2, 100–174 3,
        <100 4.
    peep_cmh2o : float or None
        If ventilated, 0–50 cmH2O: ≤5 0, 6–8 1, 9–11 2, 12–14 3, ≥15 4. ``None`` leaves it out.
    static_compliance_ml_cmh2o : float or None
        If available, above 0 to 300 mL/cmH2O: ≥80 0, 60–79 1, 40–59 2, 20–39 3, ≤19 4.

    Returns
    -------
    ScoreResult
        ``points`` a float 0–4; classes ``none`` (0), ``mild_moderate`` (above 0 to 2.5), ``severe``
        (>2.5); no survival.

    Raises
    ------
    InputError
        For any mistyped or out-of-range value.

    References
    ----------
    Murray JF et al. Am Rev Respir Dis 1988;138:720–3. doi:10.1164/ajrccm/138.3.720
    """
    quadrants = integer(
        "chest_xray_quadrants",
        chest_xray_quadrants,
        minimum=CHEST_XRAY_QUADRANTS[0],
        maximum=CHEST_XRAY_QUADRANTS[1],
    )
    pf = _num("pf_ratio_mmhg", pf_ratio_mmhg, PF_RATIO_MMHG, "mmHg", above_zero=True)
    peep = _opt_num("peep_cmh2o", peep_cmh2o, PEEP_CMH2O, "cmH2O")
    compliance = _opt_num(
        "static_compliance_ml_cmh2o",
        static_compliance_ml_cmh2o,
        COMPLIANCE_ML_CMH2O,
        "mL/cmH2O",
        above_zero=True,
    )

    notes: list[str] = []
    components = {
        "chest_xray_quadrants": MURRAY_CHEST_XRAY_POINTS[quadrants],
        "pf_ratio_mmhg": _banded("pf_ratio_mmhg", pf, MURRAY_PF_RATIO_MMHG_POINTS, "mmHg", notes),
    }
    if peep is not None:
        components["peep_cmh2o"] = _banded("peep_cmh2o", peep, MURRAY_PEEP_CMH2O_POINTS, "cmH2O", notes)
    if compliance is not None:
        components["static_compliance_ml_cmh2o"] = _banded(
            "static_compliance_ml_cmh2o", compliance, MURRAY_COMPLIANCE_ML_CMH2O_POINTS, "mL/cmH2O", notes
        )
    if len(components) < 4:
        missing = [name for name in ("peep_cmh2o", "static_compliance_ml_cmh2o") if name not in components]
        notes.append(
            f"Mean of {len(components)} of 4 components ({', '.join(missing)} not given), as Murray 1988 "
            "allows (sum divided by the number of components used); not directly comparable with a "
            "4-component score."
        )
    points = sum(components.values()) / len(components)
    if points > MURRAY_SEVERE_ABOVE:
        risk_class = "severe"
    elif points > 0:
        risk_class = "mild_moderate"  # printed "0.1–2.5"; the smallest non-zero mean is 0.25
    else:
        risk_class = "none"
    return ScoreResult(
        name="Murray LIS",
        points=points,
        risk_class=risk_class,
        predicted_survival_pct=None,
        outcome="lung injury severity",
        components=components,
        reference=MURRAY_REFERENCE,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------------
# 7. SOFA — Vincent JL et al. Intensive Care Med 1996;22(7):707–10 (scores-and-models.md §10, A;
#    table as in PMC4968574).
# ---------------------------------------------------------------------------------------------------

SOFA_REFERENCE: Final = (
    "Vincent JL, Moreno R, Takala J, et al. The SOFA (Sepsis-related Organ Failure Assessment) score to "
    "describe organ dysfunction/failure. Intensive Care Med 1996;22(7):707-10. doi:10.1007/BF01709751"
)
SOFA_RESPIRATION_PF_MMHG_POINTS: Final = (
    Band(0, 400, "≥400"),
    Band(1, 300, "<400"),
    Band(2, 200, "<300"),
    Band(3, 100, "<200 with respiratory support"),
    Band(4, _BOTTOM, "<100 with respiratory support"),
)
SOFA_RESPIRATION_WITHOUT_SUPPORT_MAX: Final = 2  # points 3–4 require respiratory (ventilatory) support
SOFA_COAGULATION_PLATELETS_POINTS: Final = (
    Band(0, 150, "≥150"),
    Band(1, 100, "<150"),
    Band(2, 50, "<100"),
    Band(3, 20, "<50"),
    Band(4, _BOTTOM, "<20"),
)
# Printed ">12.0 (>204 µmol/L)" is read as ≥ 12.0 mg/dL: 12.0 mg/dL = 205 µmol/L, which the µmol/L column
# scores 4, and the mg/dL bands otherwise run on without gaps at 0.1 resolution.
SOFA_LIVER_BILIRUBIN_MG_DL_POINTS: Final = (
    Band(4, 12.0, ">12.0 (read as ≥12.0)"),
    Band(3, 6.0, "6.0–11.9", printed_high=11.9),
    Band(2, 2.0, "2.0–5.9", printed_high=5.9),
    Band(1, 1.2, "1.2–1.9", printed_high=1.9),
    Band(0, _BOTTOM, "<1.2"),
)
SOFA_LIVER_PRINTED_STRICT_MG_DL: Final = 12.0
SOFA_CNS_GCS_POINTS: Final = (
    Band(0, 15, "15"),
    Band(1, 13, "13–14"),
    Band(2, 10, "10–12"),
    Band(3, 6, "6–9"),
    Band(4, _BOTTOM, "<6"),
)
# Printed ">5.0 (>440 µmol/L)" is read as ≥ 5.0 mg/dL: 5.0 mg/dL = 442 µmol/L, which the µmol/L column
# scores 4.
SOFA_RENAL_CREATININE_MG_DL_POINTS: Final = (
    Band(4, 5.0, ">5.0 (read as ≥5.0)"),
    Band(3, 3.5, "3.5–4.9", printed_high=4.9),
    Band(2, 2.0, "2.0–3.4", printed_high=3.4),
    Band(1, 1.2, "1.2–1.9", printed_high=1.9),
    Band(0, _BOTTOM, "<1.2"),
)
SOFA_RENAL_PRINTED_STRICT_MG_DL: Final = 5.0
SOFA_RENAL_URINE_ML_DAY_POINTS: Final = (
    Band(0, 500, "≥500"),
    Band(3, 200, "<500"),
    Band(4, _BOTTOM, "<200"),
)
SOFA_MAP_LOW_MMHG: Final = 70.0  # MAP < 70: 1
SOFA_DOPAMINE_HIGH_UG_KG_MIN: Final = 15.0  # dopamine > 15: 4
SOFA_DOPAMINE_MID_UG_KG_MIN: Final = 5.0  # dopamine > 5: 3; dopamine ≤ 5 (any dose above 0): 2
SOFA_EPI_NOREPI_HIGH_UG_KG_MIN: Final = 0.1  # epinephrine or norepinephrine > 0.1: 4; ≤ 0.1: 3
SOFA_ORGANS: Final = ("respiration", "coagulation", "liver", "cardiovascular", "cns", "renal")


def _sofa_cardiovascular(
    mean_ap: float | None, dopamine: float, dobutamine: float, epinephrine: float, norepinephrine: float
) -> int:
    if (
        dopamine > SOFA_DOPAMINE_HIGH_UG_KG_MIN
        or epinephrine > SOFA_EPI_NOREPI_HIGH_UG_KG_MIN
        or norepinephrine > SOFA_EPI_NOREPI_HIGH_UG_KG_MIN
    ):
        return 4
    if dopamine > SOFA_DOPAMINE_MID_UG_KG_MIN or epinephrine > 0 or norepinephrine > 0:
        return 3
    if dopamine > 0 or dobutamine > 0:
        return 2
    return 1 if mean_ap is not None and mean_ap < SOFA_MAP_LOW_MMHG else 0


def sofa(
    *,
    pf_ratio_mmhg: float | None = None,
    respiratory_support: bool = False,
    platelets_10e3_ul: float | None = None,
    bilirubin_mg_dl: float | None = None,
    mean_arterial_pressure_mmhg: float | None = None,
    dopamine_ug_kg_min: float = 0.0,
    dobutamine_ug_kg_min: float = 0.0,
    epinephrine_ug_kg_min: float = 0.0,
    norepinephrine_ug_kg_min: float = 0.0,
    glasgow_coma_scale: int | None = None,
    creatinine_mg_dl: float | None = None,
    urine_output_ml_day: float | None = None,
) -> ScoreResult:
    """Sequential (sepsis-related) Organ Failure Assessment (SOFA) over the organs given.

    Parameters
    ----------
    pf_ratio_mmhg : float or None
        PaO2/FiO2 (FiO2 a fraction), above 0 to 800 mmHg: ≥400 0, <400 1, <300 2, <200 3, <100 4; 3 and 4
        only with ``respiratory_support``, otherwise at most 2. On ECMO the ratio reflects the membrane lung
        too: store that context with the score.
    respiratory_support : bool
        Mechanical ventilation (invasive or non-invasive).
    platelets_10e3_ul : float or None
        0–2000 ×10³/µL: ≥150 0, <150 1, <100 2, <50 3, <20 4.
    bilirubin_mg_dl : float or None
        0–70 mg/dL: <1.2 0, 1.2–1.9 1, 2.0–5.9 2, 6.0–11.9 3, ≥12.0 4.
    mean_arterial_pressure_mmhg : float or None
        0–300 mmHg; <70 scores 1.
    dopamine_ug_kg_min, dobutamine_ug_kg_min, epinephrine_ug_kg_min, norepinephrine_ug_kg_min : float
        µg/kg/min given for at least 1 h; 0–50 (dopamine, dobutamine), 0–5 (epinephrine, norepinephrine).
        Dopamine ≤5 or any dobutamine 2; dopamine >5 or epinephrine/norepinephrine ≤0.1 3; dopamine >15 or
        epinephrine/norepinephrine >0.1 4. Other vasoactive drugs are not part of the 1996 table.
    glasgow_coma_scale : int or None
        3–15: 15 0, 13–14 1, 10–12 2, 6–9 3, <6 4.
    creatinine_mg_dl : float or None
        0–35 mg/dL: <1.2 0, 1.2–1.9 1, 2.0–3.4 2, 3.5–4.9 3, ≥5.0 4.
    urine_output_ml_day : float or None
        0–20000 mL/day: <500 3, <200 4. Renal points are the worse of creatinine and urine output.

    Returns
    -------
    ScoreResult
        ``components`` keyed ``respiration``, ``coagulation``, ``liver``, ``cardiovascular``, ``cns``,
        ``renal`` for the organs given; ``points`` their sum; no class or survival.

    Raises
    ------
    InputError
        For any mistyped or out-of-range value, and (``field == "__all__"``) when no organ is given.

    References
    ----------
    Vincent JL et al. Intensive Care Med 1996;22:707–10. doi:10.1007/BF01709751
    """
    pf = _opt_num("pf_ratio_mmhg", pf_ratio_mmhg, PF_RATIO_MMHG, "mmHg", above_zero=True)
    support = boolean("respiratory_support", respiratory_support)
    platelets = _opt_num("platelets_10e3_ul", platelets_10e3_ul, PLATELETS, "×10³/µL")
    bilirubin = _opt_num("bilirubin_mg_dl", bilirubin_mg_dl, BILIRUBIN_MG_DL, "mg/dL")
    mean_ap = _opt_num(
        "mean_arterial_pressure_mmhg", mean_arterial_pressure_mmhg, BLOOD_PRESSURE_MMHG, "mmHg"
    )
    dopamine = _num("dopamine_ug_kg_min", dopamine_ug_kg_min, DOPAMINE_UG_KG_MIN, "µg/kg/min")
    dobutamine = _num("dobutamine_ug_kg_min", dobutamine_ug_kg_min, DOBUTAMINE_UG_KG_MIN, "µg/kg/min")
    epinephrine = _num("epinephrine_ug_kg_min", epinephrine_ug_kg_min, EPINEPHRINE_UG_KG_MIN, "µg/kg/min")
    norepinephrine = _num(
        "norepinephrine_ug_kg_min", norepinephrine_ug_kg_min, NOREPINEPHRINE_UG_KG_MIN, "µg/kg/min"
    )
    gcs = (
        None
        if glasgow_coma_scale is None
        else integer(
            "glasgow_coma_scale",
            glasgow_coma_scale,
            minimum=GLASGOW_COMA_SCALE[0],
            maximum=GLASGOW_COMA_SCALE[1],
        )
    )
    creatinine = _opt_num("creatinine_mg_dl", creatinine_mg_dl, CREATININE_MG_DL, "mg/dL")
    urine = _opt_num("urine_output_ml_day", urine_output_ml_day, URINE_OUTPUT_ML_DAY, "mL/day")

    notes: list[str] = []
    components: dict[str, int] = {}
    if pf is not None:
        points = _band(SOFA_RESPIRATION_PF_MMHG_POINTS, pf).points
        if points > SOFA_RESPIRATION_WITHOUT_SUPPORT_MAX and not support:
            notes.append(
                f"Respiration scored {SOFA_RESPIRATION_WITHOUT_SUPPORT_MAX}, not {points}: points 3–4 "
                "require respiratory support and respiratory_support is false."
            )
            points = SOFA_RESPIRATION_WITHOUT_SUPPORT_MAX
        components["respiration"] = points
    elif support:
        notes.append("respiratory_support given without pf_ratio_mmhg: respiration not scored.")
    if platelets is not None:
        components["coagulation"] = _band(SOFA_COAGULATION_PLATELETS_POINTS, platelets).points
    if bilirubin is not None:
        components["liver"] = _banded(
            "bilirubin_mg_dl", bilirubin, SOFA_LIVER_BILIRUBIN_MG_DL_POINTS, "mg/dL", notes
        )
        if bilirubin == SOFA_LIVER_PRINTED_STRICT_MG_DL:
            notes.append(
                "Bilirubin exactly 12.0 mg/dL scored 4: the printed '>12.0' is read as '≥12.0' because "
                "12.0 mg/dL (205 µmol/L) is above the printed '>204 µmol/L'."
            )
    drugs = (dopamine, dobutamine, epinephrine, norepinephrine)
    if mean_ap is not None or any(dose > 0 for dose in drugs):
        components["cardiovascular"] = _sofa_cardiovascular(mean_ap, *drugs)
    if gcs is not None:
        components["cns"] = _band(SOFA_CNS_GCS_POINTS, gcs).points
    if creatinine is not None or urine is not None:
        renal: list[int] = []
        if creatinine is not None:
            renal.append(
                _banded("creatinine_mg_dl", creatinine, SOFA_RENAL_CREATININE_MG_DL_POINTS, "mg/dL", notes)
            )
            if creatinine == SOFA_RENAL_PRINTED_STRICT_MG_DL:
                notes.append(
                    "Creatinine exactly 5.0 mg/dL scored 4: the printed '>5.0' is read as '≥5.0' because "
                    "5.0 mg/dL (442 µmol/L) is above the printed '>440 µmol/L'."
                )
        if urine is not None:
            renal.append(_band(SOFA_RENAL_URINE_ML_DAY_POINTS, urine).points)
            if creatinine is None:
                notes.append(
                    "Renal scored on urine output alone: 500 mL/day or more scores 0 whatever the creatinine."
                )
            else:
                notes.append("Renal points are the worse of the creatinine and urine-output points.")
        components["renal"] = max(renal)
    if not components:
        raise InputError(
            "__all__",
            "give at least one organ value: pf_ratio_mmhg, platelets_10e3_ul, bilirubin_mg_dl, "
            "mean_arterial_pressure_mmhg or a catecholamine dose, glasgow_coma_scale, creatinine_mg_dl or "
            "urine_output_ml_day",
        )
    if len(components) < len(SOFA_ORGANS):
        missing = [organ for organ in SOFA_ORGANS if organ not in components]
        notes.append(
            f"Partial SOFA over {len(components)} of 6 organs ({', '.join(missing)} not given): the total "
            "is not comparable with a full 0–24 SOFA."
        )
    return ScoreResult(
        name="SOFA",
        points=sum(components.values()),
        risk_class=None,
        predicted_survival_pct=None,
        outcome="organ dysfunction",
        components={organ: components[organ] for organ in SOFA_ORGANS if organ in components},
        reference=SOFA_REFERENCE,
        notes=tuple(notes),
    )
