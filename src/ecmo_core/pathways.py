"""Pathway criteria: candidacy, configuration, weaning, decannulation, transport and ambulation.

Pure functions over frozen dataclasses (no Django, no I/O, no clock) that the decisions app calls to show,
as a decision is being made, which criteria are met:

- candidacy: VV entry criteria (EOLIA, reference.md §6.1), ECPR selection with the arrest intervals and
  ARREST-type exclusions (§6.2), and the indication/contraindication checklists of §6;
- configuration: LV-distension triggers for an unloading decision (§6.3) and differential hypoxia on
  peripheral VA with the watershed model (§2.7, scores-and-models §14);
- weaning: the VV sweep-gas-off trial (§5.1) and the VA flow-reduction trial (§5.2), judged observation
  by observation while the trial runs;
- decannulation and transport: checklists that are complete only when every item is done or waived with a
  reason (§5.3, §7.1), and the transport oxygen and battery calculation (§7.1);
- ambulation: the pre-session readiness screen and the IMS level that counts for the mobilisation KPI (§7.2).

Every threshold is a :class:`Threshold` (comparison, value, unit and source). The defaults below are the
reference's values; a program changes them with :func:`with_overrides` (its site settings), and every
result carries the requirement it was judged against, so a stored evaluation says which settings applied.

Results are tri-state, never a bare ``bool``: each criterion is ``"met"``, ``"not_met"`` or ``"missing"``
(no value yet), and a trial or screen is ``"pass"``/``"fail"``/``"in_progress"`` (or ``"ready"``/
``"not_ready"``/``"incomplete"``). Missing data never reads as a pass.

Sources are cited as in ``shared/clinical/reference.md`` ([S29] and so on; ○ marks local practice that a
site should confirm). ``docs/pathways.md`` lists every default with its source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from ecmo_core import validate
from ecmo_core.errors import InputError
from ecmo_core.oxygenation import va_upper_body_so2

__all__ = [
    "AMBULATION_FLAGS",
    "CANDIDACY_ITEMS",
    "MET",
    "MISSING",
    "NOT_MET",
    "OBSERVATION_FIELDS",
    "SETTING_RANGES",
    "VA_FLOW_REDUCTION_STEPS",
    "VV_SWEEP_OFF_STEPS",
    "AmbulationCriteria",
    "AmbulationScreen",
    "ChecklistItemSpec",
    "ChecklistStatus",
    "CriterionResult",
    "DifferentialHypoxiaCriteria",
    "EcprCriteria",
    "EcprTimes",
    "ItemState",
    "LvDistensionCriteria",
    "PathwayResult",
    "Threshold",
    "TransportLegPlan",
    "TransportSupplies",
    "TrialObservation",
    "VAFlowReductionCriteria",
    "VVEntryCriteria",
    "VVSweepOffCriteria",
    "ambulation_readiness",
    "checklist_status",
    "counts_for_mobilisation_kpi",
    "criteria_table",
    "decannulation_items",
    "differential_hypoxia",
    "ecpr_assessment",
    "ecpr_intervals",
    "lv_distension",
    "observation_from_mapping",
    "transport_items",
    "transport_supplies",
    "va_flow_reduction_trial",
    "validate_overrides",
    "vv_entry_criteria",
    "vv_sweep_off_trial",
    "with_overrides",
]

MET: Final = "met"
NOT_MET: Final = "not_met"
MISSING: Final = "missing"

_OPS: Final[tuple[str, ...]] = (">", ">=", "<", "<=")
_OP_TEXT: Final[Mapping[str, str]] = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


# ---------------------------------------------------------------------------------------------------
# Thresholds and criterion results
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A comparison a value must pass: ``observed <op> value`` (op one of ``>``, ``>=``, ``<``, ``<=``).

    ``unit`` is for display (empty for fractions); ``source`` says where the number comes from.
    """

    op: str
    value: float
    unit: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        validate.choice("op", self.op, _OPS)
        object.__setattr__(self, "value", validate.number("value", self.value))

    def passes(self, observed: float) -> bool:
        """True when ``observed`` satisfies the comparison."""
        if self.op == ">":
            return observed > self.value
        if self.op == ">=":
            return observed >= self.value
        if self.op == "<":
            return observed < self.value
        return observed <= self.value

    def describe(self) -> str:
        """The requirement in words, e.g. ``"> 60 mmHg"``."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{_OP_TEXT[self.op]} {self.value:g}{unit}"


@dataclass(frozen=True)
class CriterionResult:
    """One criterion judged: ``status`` is ``"met"``, ``"not_met"`` or ``"missing"`` (no value to judge).

    ``observed`` is the value judged (for trials: the first failing value, else the latest); ``at_minutes``
    the trial time it was observed at, where that applies.
    """

    key: str
    label: str
    status: str
    observed: float | bool | None
    requirement: str
    source: str
    at_minutes: float | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PathwayResult:
    """An evaluation: an overall ``status`` and the criteria behind it, in a stable order.

    ``details`` holds derived numbers (intervals, predicted saturation, totals) as plain JSON values.
    """

    status: str
    criteria: tuple[CriterionResult, ...]
    details: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "criteria": [c.as_dict() for c in self.criteria],
            "details": dict(self.details),
        }

    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.status == NOT_MET)

    def missing(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.status == MISSING)


def _judge(
    key: str, label: str, threshold: Threshold, observed: float | None, at_minutes: float | None = None
) -> CriterionResult:
    if observed is None:
        status = MISSING
    else:
        status = MET if threshold.passes(observed) else NOT_MET
    return CriterionResult(key, label, status, observed, threshold.describe(), threshold.source, at_minutes)


def _flag(
    key: str, label: str, observed: bool | None, source: str, *, expected: bool = True
) -> CriterionResult:
    """A yes/no criterion: met when ``observed`` equals ``expected``."""
    if observed is None:
        status = MISSING
    else:
        status = MET if observed is expected else NOT_MET
    return CriterionResult(key, label, status, observed, "yes" if expected else "no", source)


def _overall(results: Sequence[CriterionResult], *, good: str, bad: str, pending: str) -> str:
    statuses = {r.status for r in results}
    if NOT_MET in statuses:
        return bad
    if MISSING in statuses:
        return pending
    return good


# ---------------------------------------------------------------------------------------------------
# Criteria sets and site overrides
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriteriaSet:
    """Base of every criteria set: a frozen dataclass whose fields are thresholds or plain settings."""


C = TypeVar("C", bound=CriteriaSet)


def _override_value(key: str, current_type: str, current: object, value: object) -> object:
    if "Threshold" in current_type:
        if value is None:
            if "None" not in current_type:
                raise InputError(key, "this criterion cannot be switched off; give a number or a threshold")
            return None
        if isinstance(value, Mapping):
            known = {"op", "value", "unit", "source"}
            extra = set(value) - known
            if extra:
                raise InputError(key, f"unknown threshold keys {sorted(extra)}; use op, value, unit, source")
            base = current if isinstance(current, Threshold) else None
            op = value.get("op", base.op if base else None)
            number = value.get("value", base.value if base else None)
            if op is None or number is None:
                raise InputError(key, "a new threshold needs both op and value")
            unit = value.get("unit", base.unit if base else SETTING_RANGES.get(key, (0.0, 0.0, "", ""))[2])
            source = value.get("source", "site setting")
            return Threshold(
                op=str(op), value=validate.number(key, number), unit=str(unit), source=str(source)
            )
        if not isinstance(current, Threshold):
            raise InputError(key, "this criterion is off by default: give op and value")
        return Threshold(current.op, validate.number(key, value), current.unit, "site setting")
    if current_type == "bool":
        return validate.boolean(key, value)
    return validate.integer(key, value, minimum=0)


def with_overrides(criteria: C, changes: Mapping[str, object]) -> C:
    """Return ``criteria`` with a program's settings applied.

    ``changes`` maps a field name to a number (the threshold's new value; its comparison is kept), a mapping
    ``{"op", "value", "unit", "source"}`` (a new threshold), ``None`` (switch off an optional criterion) or a
    plain value for non-threshold settings. Unknown names raise :class:`InputError` naming them.
    """
    fields = {f.name: f for f in dataclasses.fields(criteria)}
    updates: dict[str, object] = {}
    for key, value in changes.items():
        if key not in fields:
            raise InputError(
                key, f"is not a setting of {type(criteria).__name__}; settings: {', '.join(fields)}"
            )
        updates[key] = _override_value(key, str(fields[key].type), getattr(criteria, key), value)
    return dataclasses.replace(criteria, **updates)


# The accepted range of each setting a program may change: key → (minimum, maximum, unit, kind), in the unit the
# key's name says (canonical: mmHg, fractions 0–1). A threshold outside its range could never be met, or always be
# (a PaO2 limit of 8 mmHg typed meaning 8 kPa; an SaO2 limit of 90 meaning 90 %), so ``validate_overrides`` refuses
# it. Ranges are plausibility bounds, not advice: those of values judged against a threshold are the bounds the
# pages accept for the values themselves (``OBSERVATION_FIELDS``; candidacy: the decision forms' clinical ranges —
# P/F 10–700, PaCO2 10–200, EtCO2 0–150, PaO2 0–700 mmHg; ``ecpr_assessment``: age 0–120, lactate 0–40); the rest
# are the scales themselves (RASS −5 to +4, ICU mobility scale 0–10) or generous spans of the reference's numbers
# (times, counts, rises), each noted. ``kind`` is "number", "fraction" (0–1: a value above 1 is refused as a
# percentage) or "integer".
SETTING_RANGES: Final[Mapping[str, tuple[float, float, str, str]]] = {
    # V-V sweep-off trial
    "pao2_mmhg": (10.0, 700.0, "mmHg", "number"),
    "sao2": (0.0, 1.0, "", "fraction"),
    "fio2": (0.21, 1.0, "", "fraction"),
    "plateau_cmh2o": (0.0, 60.0, "cmH2O", "number"),
    "paco2_rise_mmhg": (0.0, 40.0, "mmHg", "number"),  # the default is +8; 40 mmHg is no "stable PaCO2"
    "arterial_ph": (6.5, 8.0, "", "number"),
    "rr_rise_per_min": (0.0, 40.0, "/min", "number"),  # the default is +5 /min
    "blood_flow_l_min": (0.0, 10.0, "L/min", "number"),
    "duration_min": (0.0, 1440.0, "min", "number"),  # a trial of up to 24 h (the reference: about 2–3 h)
    # V-A flow-reduction trial
    "aortic_vti_cm": (0.0, 40.0, "cm", "number"),
    "lvef_pct": (0.0, 90.0, "%", "number"),
    "lateral_s_prime_cm_s": (0.0, 30.0, "cm/s", "number"),
    "mean_arterial_pressure_mmhg": (10.0, 200.0, "mmHg", "number"),
    "lactate_mmol_l": (0.0, 30.0, "mmol/L", "number"),
    "tapse_mm": (0.0, 40.0, "mm", "number"),
    # V-V entry (EOLIA)
    "pf_severe_mmhg": (10.0, 700.0, "mmHg", "number"),
    "pf_severe_hours": (0.0, 168.0, "h", "number"),  # EOLIA: 3 and 6 h; up to a week
    "pf_mmhg": (10.0, 700.0, "mmHg", "number"),
    "pf_hours": (0.0, 168.0, "h", "number"),
    "paco2_mmhg": (10.0, 200.0, "mmHg", "number"),
    "hypercapnia_hours": (0.0, 168.0, "h", "number"),
    # ECPR
    "age_years": (0.0, 120.0, "years", "number"),
    "no_flow_min": (0.0, 60.0, "min", "number"),  # the default is 5 min
    "failed_cpr_min": (0.0, 120.0, "min", "number"),  # 10–15 min in the guideline
    "arrest_to_flow_min": (0.0, 240.0, "min", "number"),  # 60 min in the guideline
    "etco2_mmhg": (0.0, 150.0, "mmHg", "number"),
    "low_flow_favourable_min": (0.0, 240.0, "min", "number"),
    "exclusion_etco2_mmhg": (0.0, 150.0, "mmHg", "number"),
    "exclusion_pao2_mmhg": (0.0, 700.0, "mmHg", "number"),
    "exclusion_spo2": (0.0, 1.0, "", "fraction"),
    "exclusion_lactate_mmol_l": (0.0, 40.0, "mmol/L", "number"),
    "exclusion_min_count": (1.0, 4.0, "", "integer"),  # of the four exclusion findings
    # Ambulation
    "spo2": (0.0, 1.0, "", "fraction"),
    "rass_min": (-5.0, 4.0, "", "number"),  # the RASS scale
    "rass_max": (-5.0, 4.0, "", "number"),
    "team_size": (1.0, 20.0, "people", "number"),
    "ims_kpi_level": (0.0, 10.0, "", "number"),  # the ICU mobility scale
    # LV distension, differential hypoxia
    "pulse_pressure_mmhg": (0.0, 150.0, "mmHg", "number"),
    "right_radial_po2_mmhg": (10.0, 700.0, "mmHg", "number"),
    "right_radial_spo2": (0.0, 1.0, "", "fraction"),
}


def validate_overrides(criteria: C, changes: Mapping[str, object]) -> C:
    """:func:`with_overrides`, and every setting changed within its accepted range and in its own unit.

    For a program's new settings (the settings already stored are applied with :func:`with_overrides` alone, so that
    a range narrowed later never hides a program's criteria). Refuses, with :class:`InputError` naming the setting
    and the accepted range (:data:`SETTING_RANGES`, in the unit the setting's name says): a value outside its range;
    a fraction given as a percentage; a threshold whose ``unit`` is not the setting's own (values are judged in
    that unit, so ``{"value": 8, "unit": "kPa"}`` on a mmHg setting would be read as 8 mmHg).
    """
    result = with_overrides(criteria, changes)
    for key, value in changes.items():
        if value is None or key not in SETTING_RANGES:
            continue
        minimum, maximum, unit, kind = SETTING_RANGES[key]
        setting = getattr(result, key)
        if isinstance(setting, Threshold):
            if setting.unit != unit:
                wanted = (
                    f'is judged in {unit}: leave "unit" out or give "{unit}"'
                    if unit
                    else 'is a number without a unit: leave "unit" out'
                )
                raise InputError(key, f"{wanted} (got {setting.unit!r})")
            number = setting.value
        else:
            number = setting
        if kind == "integer":
            validate.integer(key, number, minimum=int(minimum), maximum=int(maximum), unit=unit)
        else:
            if kind == "fraction":
                validate.fraction(key, number)
            validate.number(key, number, minimum=minimum, maximum=maximum, unit=unit)
    return result


def criteria_table(criteria: CriteriaSet) -> list[dict[str, object]]:
    """Every setting of ``criteria`` as rows ``{key, requirement, source}`` for pages and docs."""
    rows: list[dict[str, object]] = []
    for f in dataclasses.fields(criteria):
        value = getattr(criteria, f.name)
        if isinstance(value, Threshold):
            rows.append({"key": f.name, "requirement": value.describe(), "source": value.source})
        elif value is None:
            rows.append({"key": f.name, "requirement": "off", "source": "not assessed unless a site sets it"})
        else:
            rows.append({"key": f.name, "requirement": str(value), "source": _PLAIN_SOURCES.get(f.name, "")})
    return rows


# Sources of the non-threshold settings (shown by criteria_table).
_PLAIN_SOURCES: Final[Mapping[str, str]] = {
    "require_no_acute_cor_pulmonale": "ref §5.1: no acute cor pulmonale on echo [S29]",
    "exclusion_min_count": "ref §6.2: ARREST-type exclusion needs two or more findings [S54]",
    "sweep_factor": "ref §7.1: sweep L/min × minutes × about 2 [○]",
    "oxygen_reserve_factor": "ref §7.1 asks for reserve without a number; 1.5 × is local practice [○]",
    "battery_reserve_factor": "ref §7.1 asks for battery and AC; 1.5 × is local practice [○]",
}


# ---------------------------------------------------------------------------------------------------
# Trial observations
# ---------------------------------------------------------------------------------------------------

# Plausibility bounds for trial observations: code → (minimum, maximum, unit, kind). "fraction" values are
# 0–1 (core-api conventions: a value above 1 is refused with a message that says "fraction").
OBSERVATION_FIELDS: Final[Mapping[str, tuple[float, float, str, str]]] = {
    "pao2_mmhg": (10.0, 700.0, "mmHg", "number"),
    "sao2": (0.0, 1.0, "", "fraction"),
    "fio2": (0.21, 1.0, "", "fraction"),
    "plateau_cmh2o": (0.0, 60.0, "cmH2O", "number"),
    "peep_cmh2o": (0.0, 30.0, "cmH2O", "number"),
    "tidal_volume_ml": (50.0, 1500.0, "mL", "number"),
    "paco2_mmhg": (10.0, 200.0, "mmHg", "number"),
    "arterial_ph": (6.5, 8.0, "", "number"),
    "rr_per_min": (0.0, 80.0, "/min", "number"),
    "heart_rate_per_min": (20.0, 250.0, "/min", "number"),
    "blood_flow_l_min": (0.0, 10.0, "L/min", "number"),
    "sweep_gas_l_min": (0.0, 15.0, "L/min", "number"),
    "fdo2": (0.0, 1.0, "", "fraction"),
    "mean_arterial_pressure_mmhg": (10.0, 200.0, "mmHg", "number"),
    "pulse_pressure_mmhg": (0.0, 150.0, "mmHg", "number"),
    "lactate_mmol_l": (0.0, 30.0, "mmol/L", "number"),
    "aortic_vti_cm": (0.0, 40.0, "cm", "number"),
    "lvef_pct": (0.0, 90.0, "%", "number"),
    "lateral_s_prime_cm_s": (0.0, 30.0, "cm/s", "number"),
    "tapse_mm": (0.0, 40.0, "mm", "number"),
    "acute_cor_pulmonale": (0.0, 1.0, "", "bool"),
}


@dataclass(frozen=True)
class TrialObservation:
    """One timed observation in a weaning trial. ``minutes`` from the start of the trial (VV: sweep off;
    VA: the first flow step). Every value is optional: a trial page records what was measured."""

    minutes: float
    pao2_mmhg: float | None = None
    sao2: float | None = None
    fio2: float | None = None
    plateau_cmh2o: float | None = None
    peep_cmh2o: float | None = None
    tidal_volume_ml: float | None = None
    paco2_mmhg: float | None = None
    arterial_ph: float | None = None
    rr_per_min: float | None = None
    heart_rate_per_min: float | None = None
    blood_flow_l_min: float | None = None
    sweep_gas_l_min: float | None = None
    fdo2: float | None = None
    mean_arterial_pressure_mmhg: float | None = None
    pulse_pressure_mmhg: float | None = None
    lactate_mmol_l: float | None = None
    aortic_vti_cm: float | None = None
    lvef_pct: float | None = None
    lateral_s_prime_cm_s: float | None = None
    tapse_mm: float | None = None
    acute_cor_pulmonale: bool | None = None


def observation_from_mapping(data: Mapping[str, object], *, minutes: float) -> TrialObservation:
    """Validate a mapping of observation codes (see :data:`OBSERVATION_FIELDS`) into an observation.

    ``None`` and absent keys are "not measured". Unknown codes, non-numbers, values outside the plausible
    range and percentages given for fractions raise :class:`InputError` naming the code.
    """
    minutes_checked = validate.number("minutes", minutes, minimum=0.0, maximum=7 * 24 * 60.0, unit="min")
    values: dict[str, float | bool] = {}
    for key, raw in data.items():
        if key not in OBSERVATION_FIELDS:
            raise InputError(key, f"is not an observation code; use one of: {', '.join(OBSERVATION_FIELDS)}")
        if raw is None:
            continue
        low, high, unit, kind = OBSERVATION_FIELDS[key]
        if kind == "bool":
            values[key] = validate.boolean(key, raw)
        elif kind == "fraction":
            fraction = validate.fraction(key, raw)
            values[key] = validate.number(key, fraction, minimum=low, maximum=high)
        else:
            values[key] = validate.number(key, raw, minimum=low, maximum=high, unit=unit)
    return TrialObservation(minutes=minutes_checked, **values)  # type: ignore[arg-type]


def _ordered(observations: Sequence[TrialObservation]) -> list[TrialObservation]:
    return sorted(observations, key=lambda o: o.minutes)


def _numeric(obs: TrialObservation, key: str) -> float | None:
    value = getattr(obs, key)
    return None if value is None else float(value)


def _across(
    key: str,
    label: str,
    threshold: Threshold,
    observations: Sequence[TrialObservation],
    value_of: str | None = None,
    offset: float = 0.0,
) -> CriterionResult:
    """Judge ``threshold`` at every observation that has the value: the first failure decides, otherwise the
    latest value is reported as met; no value at all is missing."""
    latest: CriterionResult | None = None
    for obs in observations:
        raw = _numeric(obs, value_of or key)
        if raw is None:
            continue
        result = _judge(key, label, threshold, raw - offset, obs.minutes)
        if result.status == NOT_MET:
            return result
        latest = result
    if latest is None:
        return _judge(key, label, threshold, None)
    return latest


# ---------------------------------------------------------------------------------------------------
# VV sweep-gas-off trial (reference.md §5.1)
# ---------------------------------------------------------------------------------------------------

VV_SWEEP_OFF_STEPS: Final[tuple[str, ...]] = (
    "Lung-protective ventilation: VT about 6 mL/kg PBW, FiO2 ≤ 0.5–0.6, PEEP ≤ 10–12, Pplat < 28–30",
    "FdO2 to 0.21",
    "Sweep down in 0.5–1 L/min steps, blood gas after each step",
    "Sweep off and gas line capped; blood flow kept ≥ 2 L/min so the circuit does not clot",
    "Observe for at least 2–3 h: gases, SpO2, RR, haemodynamics; echo for acute cor pulmonale",
)


@dataclass(frozen=True)
class VVSweepOffCriteria(CriteriaSet):
    """Pass criteria of the VV sweep-gas-off trial. Defaults: reference.md §5.1; the PaCO2, pH and RR limits
    are the site defaults of demo-scenarios §4 (the reference says only "stable" and "no rise")."""

    pao2_mmhg: Threshold = Threshold(">", 60.0, "mmHg", "ref §5.1 success criteria [S29]")
    sao2: Threshold = Threshold(">", 0.90, "", "ref §5.1 SaO2 > 90 % [S29]")
    fio2: Threshold = Threshold("<", 0.6, "", "ref §5.1 ventilator FiO2 < 0.6 [S29]")
    plateau_cmh2o: Threshold = Threshold("<", 30.0, "cmH2O", "ref §5.1 Pplat < 30 [S29]")
    paco2_rise_mmhg: Threshold = Threshold("<=", 8.0, "mmHg", "site default [○]; ref §5.1 'stable PaCO2'")
    arterial_ph: Threshold = Threshold(">=", 7.30, "", "site default [○]; ref §5.1 readiness pH > 7.30")
    rr_rise_per_min: Threshold = Threshold("<=", 5.0, "/min", "site default [○]; ref §5.1 'no rise in RR'")
    blood_flow_l_min: Threshold = Threshold(">=", 2.0, "L/min", "ref §5.1 keep flow ≥ about 2 L/min [S29]")
    duration_min: Threshold = Threshold(">=", 120.0, "min", "ref §5.1 trial of about 2–3 h at minimum [S83]")
    require_no_acute_cor_pulmonale: bool = True


def vv_sweep_off_trial(
    observations: Sequence[TrialObservation], criteria: VVSweepOffCriteria = VVSweepOffCriteria()
) -> PathwayResult:
    """Judge a VV sweep-gas-off trial as it runs.

    The first observation (lowest ``minutes``) is the baseline for the PaCO2 and RR rises. A criterion fails
    if any observation fails it (the result names the first time); echo must show no acute cor pulmonale
    (ACP) at least once and never show it. ``status`` is ``"fail"`` if any criterion fails, ``"pass"`` when
    all are met (including the minimum duration), otherwise ``"in_progress"``.
    """
    obs = _ordered(observations)
    baseline = obs[0] if obs else None
    base_paco2 = baseline.paco2_mmhg if baseline else None
    base_rr = baseline.rr_per_min if baseline else None
    results = [
        _across("pao2_mmhg", "PaO2", criteria.pao2_mmhg, obs),
        _across("sao2", "SaO2", criteria.sao2, obs),
        _across("fio2", "Ventilator FiO2", criteria.fio2, obs),
        _across("plateau_cmh2o", "Plateau pressure", criteria.plateau_cmh2o, obs),
        (
            _across(
                "paco2_rise_mmhg",
                "PaCO2 rise from baseline",
                criteria.paco2_rise_mmhg,
                obs,
                value_of="paco2_mmhg",
                offset=base_paco2,
            )
            if base_paco2 is not None
            else _judge("paco2_rise_mmhg", "PaCO2 rise from baseline", criteria.paco2_rise_mmhg, None)
        ),
        _across("arterial_ph", "Arterial pH", criteria.arterial_ph, obs),
        (
            _across(
                "rr_rise_per_min",
                "Respiratory rate rise",
                criteria.rr_rise_per_min,
                obs,
                value_of="rr_per_min",
                offset=base_rr,
            )
            if base_rr is not None
            else _judge("rr_rise_per_min", "Respiratory rate rise", criteria.rr_rise_per_min, None)
        ),
        _across("blood_flow_l_min", "ECMO blood flow", criteria.blood_flow_l_min, obs),
        _judge(
            "duration_min",
            "Trial duration",
            criteria.duration_min,
            obs[-1].minutes if obs else None,
            obs[-1].minutes if obs else None,
        ),
    ]
    # Duration not yet reached is "still running", never a failure.
    if results[-1].status == NOT_MET:
        results[-1] = dataclasses.replace(results[-1], status=MISSING)
    if criteria.require_no_acute_cor_pulmonale:
        echoes = [o for o in obs if o.acute_cor_pulmonale is not None]
        acp = next((o for o in echoes if o.acute_cor_pulmonale), None)
        observed: bool | None = None if not echoes else acp is None
        results.append(
            dataclasses.replace(
                _flag(
                    "no_acute_cor_pulmonale",
                    "No acute cor pulmonale on echo",
                    observed,
                    _PLAIN_SOURCES["require_no_acute_cor_pulmonale"],
                ),
                at_minutes=(acp or echoes[-1]).minutes if echoes else None,
            )
        )
    status = _overall(results, good="pass", bad="fail", pending="in_progress")
    return PathwayResult(
        status,
        tuple(results),
        {"observations": len(obs), "baseline_paco2_mmhg": base_paco2, "baseline_rr_per_min": base_rr},
    )


# ---------------------------------------------------------------------------------------------------
# VA flow-reduction trial (reference.md §5.2)
# ---------------------------------------------------------------------------------------------------

VA_FLOW_REDUCTION_STEPS: Final[tuple[str, ...]] = (
    "Prerequisites: lactate and liver enzymes normalising, MAP stable on low inotropes, pulsatile waveform, "
    "adequate native gas exchange (right radial)",
    "Extra anticoagulation for the low-flow period (e.g. UFH bolus, ACT checked)",
    "Reduce flow in steps (e.g. 0.5 L/min every 10 min) to below 1.5 L/min",
    "At minimal flow: MAP, pulse pressure, lactate; echo aortic VTI, LVEF, lateral S′, RV function",
    "Return to support flow (e.g. 2 L/min) pending decannulation",
)


@dataclass(frozen=True)
class VAFlowReductionCriteria(CriteriaSet):
    """Criteria of the VA flow-reduction trial (reference.md §5.2). The echo criteria are judged at minimal
    flow; MAP and lactate at every observation. ``tapse_mm`` is off unless a site sets it (the 2022 review
    suggests ≥ 19 mm [S28])."""

    blood_flow_l_min: Threshold = Threshold("<", 1.5, "L/min", "ref §5.2 Aissaoui protocol [S27]")
    aortic_vti_cm: Threshold = Threshold(">=", 10.0, "cm", "ref §5.2 Aissaoui [S27]")
    lvef_pct: Threshold = Threshold(">", 25.0, "%", "ref §5.2 LVEF > 20–25 % [S27, S28]")
    lateral_s_prime_cm_s: Threshold = Threshold(
        ">=", 6.0, "cm/s", "ref §5.2 Aissaoui ≥ 6 [S27]; review > 10 [S28]: configurable"
    )
    mean_arterial_pressure_mmhg: Threshold = Threshold(">=", 65.0, "mmHg", "ref §4.3 MAP about ≥ 65 [○]")
    lactate_mmol_l: Threshold = Threshold("<=", 2.0, "mmol/L", "ref §5.2 lactate normalising; 2 mmol/L [○]")
    tapse_mm: Threshold | None = None


def va_flow_reduction_trial(
    observations: Sequence[TrialObservation], criteria: VAFlowReductionCriteria = VAFlowReductionCriteria()
) -> PathwayResult:
    """Judge a VA flow-reduction trial as it runs.

    Minimal flow is reached at the first observation whose flow meets ``blood_flow_l_min``; the echo
    criteria are judged on the observations at minimal flow (missing until it is reached), MAP and lactate
    on every observation. ``status`` as for :func:`vv_sweep_off_trial`.
    """
    obs = _ordered(observations)
    minimal = [
        o
        for o in obs
        if o.blood_flow_l_min is not None and criteria.blood_flow_l_min.passes(o.blood_flow_l_min)
    ]
    flows = [o for o in obs if o.blood_flow_l_min is not None]
    if minimal:
        flow = _judge(
            "blood_flow_l_min",
            "Minimal ECMO flow reached",
            criteria.blood_flow_l_min,
            minimal[0].blood_flow_l_min,
            minimal[0].minutes,
        )
    elif flows:
        # Not reached yet: report the lowest flow so far, as "missing" (the trial is still stepping down).
        lowest = min(flows, key=lambda o: o.blood_flow_l_min or 0.0)
        flow = dataclasses.replace(
            _judge(
                "blood_flow_l_min",
                "Minimal ECMO flow reached",
                criteria.blood_flow_l_min,
                lowest.blood_flow_l_min,
                lowest.minutes,
            ),
            status=MISSING,
        )
    else:
        flow = _judge("blood_flow_l_min", "Minimal ECMO flow reached", criteria.blood_flow_l_min, None)
    results = [
        flow,
        _across("aortic_vti_cm", "Aortic VTI at minimal flow", criteria.aortic_vti_cm, minimal),
        _across("lvef_pct", "LVEF at minimal flow", criteria.lvef_pct, minimal),
        _across(
            "lateral_s_prime_cm_s",
            "Lateral mitral S′ at minimal flow",
            criteria.lateral_s_prime_cm_s,
            minimal,
        ),
    ]
    if criteria.tapse_mm is not None:
        results.append(_across("tapse_mm", "TAPSE at minimal flow", criteria.tapse_mm, minimal))
    results += [
        _across(
            "mean_arterial_pressure_mmhg", "Mean arterial pressure", criteria.mean_arterial_pressure_mmhg, obs
        ),
        _across("lactate_mmol_l", "Lactate", criteria.lactate_mmol_l, obs),
    ]
    status = _overall(results, good="pass", bad="fail", pending="in_progress")
    return PathwayResult(
        status, tuple(results), {"observations": len(obs), "minimal_flow_observations": len(minimal)}
    )


# ---------------------------------------------------------------------------------------------------
# Candidacy: VV entry criteria (§6.1), ECPR selection (§6.2), checklists
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VVEntryCriteria(CriteriaSet):
    """EOLIA-type VV entry criteria after optimal care including prone positioning (reference.md §6.1,
    scores-and-models §11). Each arm needs its value *and* its duration."""

    pf_severe_mmhg: Threshold = Threshold("<", 50.0, "mmHg", "EOLIA / ELSO 2021 [S31, S2]")
    pf_severe_hours: Threshold = Threshold(">", 3.0, "h", "EOLIA / ELSO 2021 [S31, S2]")
    pf_mmhg: Threshold = Threshold("<", 80.0, "mmHg", "EOLIA / ELSO 2021 [S31, S2]")
    pf_hours: Threshold = Threshold(">", 6.0, "h", "EOLIA / ELSO 2021 [S31, S2]")
    arterial_ph: Threshold = Threshold("<", 7.25, "", "EOLIA [S31] (a secondary table quotes < 7.20)")
    paco2_mmhg: Threshold = Threshold(">=", 60.0, "mmHg", "EOLIA [S31]")
    hypercapnia_hours: Threshold = Threshold(">", 6.0, "h", "EOLIA [S31]")


def _both(
    key: str,
    label: str,
    first: CriterionResult,
    second: CriterionResult,
    extra: CriterionResult | None = None,
) -> CriterionResult:
    parts = [first, second] + ([extra] if extra is not None else [])
    statuses = {p.status for p in parts}
    status = NOT_MET if NOT_MET in statuses else MISSING if MISSING in statuses else MET
    requirement = " and ".join(f"{p.label} {p.requirement}" for p in parts)
    return CriterionResult(key, label, status, None, requirement, parts[0].source)


def vv_entry_criteria(
    *,
    pf_ratio_mmhg: float | None = None,
    pf_hours: float | None = None,
    arterial_ph: float | None = None,
    paco2_mmhg: float | None = None,
    hypercapnia_hours: float | None = None,
    criteria: VVEntryCriteria = VVEntryCriteria(),
) -> PathwayResult:
    """Which EOLIA entry arms are met. ``status`` is ``"met"`` if any arm is met, ``"not_met"`` if every arm
    could be judged and none is met, else ``"incomplete"``."""
    pf = (
        None
        if pf_ratio_mmhg is None
        else validate.number("pf_ratio_mmhg", pf_ratio_mmhg, minimum=10, maximum=700, unit="mmHg")
    )
    hours = (
        None if pf_hours is None else validate.number("pf_hours", pf_hours, minimum=0, maximum=720, unit="h")
    )
    ph = (
        None if arterial_ph is None else validate.number("arterial_ph", arterial_ph, minimum=6.5, maximum=8.0)
    )
    co2 = (
        None
        if paco2_mmhg is None
        else validate.number("paco2_mmhg", paco2_mmhg, minimum=10, maximum=200, unit="mmHg")
    )
    co2_hours = (
        None
        if hypercapnia_hours is None
        else validate.number("hypercapnia_hours", hypercapnia_hours, minimum=0, maximum=720, unit="h")
    )
    arms = (
        _both(
            "pf_below_50_over_3h",
            "P/F < 50 mmHg for > 3 h",
            _judge("pf_ratio_mmhg", "P/F", criteria.pf_severe_mmhg, pf),
            _judge("pf_hours", "for", criteria.pf_severe_hours, hours),
        ),
        _both(
            "pf_below_80_over_6h",
            "P/F < 80 mmHg for > 6 h",
            _judge("pf_ratio_mmhg", "P/F", criteria.pf_mmhg, pf),
            _judge("pf_hours", "for", criteria.pf_hours, hours),
        ),
        _both(
            "hypercapnic_acidosis_over_6h",
            "pH < 7.25 with PaCO2 ≥ 60 mmHg for > 6 h",
            _judge("arterial_ph", "pH", criteria.arterial_ph, ph),
            _judge("paco2_mmhg", "PaCO2", criteria.paco2_mmhg, co2),
            _judge("hypercapnia_hours", "for", criteria.hypercapnia_hours, co2_hours),
        ),
    )
    statuses = {a.status for a in arms}
    status = "met" if MET in statuses else "incomplete" if MISSING in statuses else "not_met"
    return PathwayResult(status, arms)


@dataclass(frozen=True)
class EcprCriteria(CriteriaSet):
    """ECPR selection (reference.md §6.2; ELSO interim guideline [S6], trial criteria [S54])."""

    age_years: Threshold = Threshold("<", 70.0, "years", "ELSO interim ECPR guideline [S6]; trials < 65–75")
    no_flow_min: Threshold = Threshold("<", 5.0, "min", "witnessed arrest, no-flow < 5 min [S6]")
    failed_cpr_min: Threshold = Threshold(">=", 10.0, "min", "consider after 10–15 min of failed CPR [S6]")
    arrest_to_flow_min: Threshold = Threshold("<", 60.0, "min", "arrest-to-ECMO-flow < 60 min [S6]")
    etco2_mmhg: Threshold = Threshold(">", 10.0, "mmHg", "EtCO2 > 10 mmHg during CPR [S6]")
    low_flow_favourable_min: Threshold = Threshold(
        "<", 20.0, "min", "in-hospital arrests do best below about 20 min [S89]"
    )
    exclusion_etco2_mmhg: Threshold = Threshold("<", 10.0, "mmHg", "ARREST-type exclusion [S54]")
    exclusion_pao2_mmhg: Threshold = Threshold("<", 50.0, "mmHg", "ARREST-type exclusion [S54]")
    exclusion_spo2: Threshold = Threshold("<", 0.85, "", "ARREST-type exclusion [S54]")
    exclusion_lactate_mmol_l: Threshold = Threshold(">", 18.0, "mmol/L", "ARREST-type exclusion [S54]")
    exclusion_min_count: int = 2


@dataclass(frozen=True)
class EcprTimes:
    """Arrest times (aware datetimes; any may be unknown). ``cpr_started_at`` is the first compression."""

    collapse_at: dt.datetime | None = None
    cpr_started_at: dt.datetime | None = None
    ecpr_call_at: dt.datetime | None = None
    puncture_at: dt.datetime | None = None
    flow_at: dt.datetime | None = None


def _minutes(start: dt.datetime | None, end: dt.datetime | None, name: str) -> float | None:
    if start is None or end is None:
        return None
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError(name, "times must be aware (carry a time zone)")
    minutes = (end - start).total_seconds() / 60.0
    if minutes < 0:
        raise InputError(name, "the times are out of order (this interval would be negative)")
    return minutes


def ecpr_intervals(times: EcprTimes) -> dict[str, float | None]:
    """The intervals that matter for ECPR, in minutes (``None`` where a time is unknown)."""
    return {
        "no_flow_min": _minutes(times.collapse_at, times.cpr_started_at, "cpr_started_at"),
        "cpr_before_call_min": _minutes(times.cpr_started_at, times.ecpr_call_at, "ecpr_call_at"),
        "collapse_to_call_min": _minutes(times.collapse_at, times.ecpr_call_at, "ecpr_call_at"),
        "low_flow_min": _minutes(times.cpr_started_at, times.flow_at, "flow_at"),
        "arrest_to_flow_min": _minutes(times.collapse_at, times.flow_at, "flow_at"),
        "call_to_flow_min": _minutes(times.ecpr_call_at, times.flow_at, "flow_at"),
        "puncture_to_flow_min": _minutes(times.puncture_at, times.flow_at, "flow_at"),
    }


def ecpr_assessment(
    *,
    age_years: float | None = None,
    witnessed: bool | None = None,
    initial_rhythm_shockable: bool | None = None,
    etco2_mmhg: float | None = None,
    signs_of_life_or_intermittent_rosc: bool | None = None,
    life_limiting_disease: bool | None = None,
    pao2_mmhg: float | None = None,
    spo2: float | None = None,
    lactate_mmol_l: float | None = None,
    times: EcprTimes = EcprTimes(),
    criteria: EcprCriteria = EcprCriteria(),
) -> PathwayResult:
    """ECPR selection: inclusion criteria, the arrest intervals, and ARREST-type exclusions.

    ``status``: ``"excluded"`` when ``exclusion_min_count`` or more exclusion findings are present,
    ``"criteria_not_met"`` when an inclusion criterion fails, ``"criteria_met"`` when all are met, else
    ``"incomplete"``. The favourable low-flow time is reported in ``details`` (it informs, never excludes).
    """
    age = None if age_years is None else validate.number("age_years", age_years, minimum=0, maximum=120)
    etco2 = None if etco2_mmhg is None else validate.number("etco2_mmhg", etco2_mmhg, minimum=0, maximum=150)
    pao2 = None if pao2_mmhg is None else validate.number("pao2_mmhg", pao2_mmhg, minimum=0, maximum=700)
    sat = None if spo2 is None else validate.fraction("spo2", spo2)
    lactate = (
        None
        if lactate_mmol_l is None
        else validate.number("lactate_mmol_l", lactate_mmol_l, minimum=0, maximum=40)
    )
    intervals = ecpr_intervals(times)
    src = criteria.age_years.source
    results = [
        _judge("age_years", "Age", criteria.age_years, age),
        _flag("witnessed", "Witnessed arrest", witnessed, "[S6]"),
        _flag(
            "initial_rhythm_shockable",
            "Initial shockable rhythm",
            initial_rhythm_shockable,
            "preferred [S6]; INCEPTION required it [S54]",
        ),
        _judge("no_flow_min", "No-flow time", criteria.no_flow_min, intervals["no_flow_min"]),
        _judge(
            "failed_cpr_min",
            "CPR before the ECPR call",
            criteria.failed_cpr_min,
            intervals["cpr_before_call_min"],
        ),
        _judge(
            "arrest_to_flow_min",
            "Arrest to ECMO flow",
            criteria.arrest_to_flow_min,
            intervals["arrest_to_flow_min"],
        ),
        _judge("etco2_mmhg", "EtCO2 during CPR", criteria.etco2_mmhg, etco2),
        _flag(
            "signs_of_life_or_intermittent_rosc",
            "Signs of life or intermittent ROSC / recurrent VF",
            signs_of_life_or_intermittent_rosc,
            "[S6]",
        ),
        _flag(
            "no_life_limiting_disease",
            "No life-limiting disease",
            None if life_limiting_disease is None else not life_limiting_disease,
            "[S6]",
        ),
    ]
    findings = [
        _judge("exclusion_etco2_mmhg", "EtCO2", criteria.exclusion_etco2_mmhg, etco2),
        _judge("exclusion_pao2_mmhg", "PaO2", criteria.exclusion_pao2_mmhg, pao2),
        _judge("exclusion_spo2", "SpO2", criteria.exclusion_spo2, sat),
        _judge("exclusion_lactate_mmol_l", "Lactate", criteria.exclusion_lactate_mmol_l, lactate),
    ]
    exclusions = [f.key for f in findings if f.status == MET]
    low_flow = intervals["low_flow_min"]
    details: dict[str, object] = {
        **intervals,
        "exclusion_findings": exclusions,
        "low_flow_favourable": (
            None if low_flow is None else criteria.low_flow_favourable_min.passes(low_flow)
        ),
        "low_flow_favourable_requirement": criteria.low_flow_favourable_min.describe(),
        "source": src,
    }
    if len(exclusions) >= criteria.exclusion_min_count:
        status = "excluded"
    else:
        status = _overall(results, good="criteria_met", bad="criteria_not_met", pending="incomplete")
    return PathwayResult(status, tuple(results), details)


@dataclass(frozen=True)
class ChecklistItemSpec:
    """One checklist item. ``group`` orders items on screen (e.g. ``before``, ``procedure``, ``after``)."""

    key: str
    label: str
    group: str = ""
    source: str = ""


def _items(group: str, source: str, *pairs: tuple[str, str]) -> tuple[ChecklistItemSpec, ...]:
    return tuple(ChecklistItemSpec(key, label, group, source) for key, label in pairs)


# Candidacy checklists (reference.md §6): indications, absolute and relative contraindications.
CANDIDACY_ITEMS: Final[Mapping[str, tuple[ChecklistItemSpec, ...]]] = {
    "vv": (
        *_items(
            "indication",
            "ref §6.1 EOLIA / ELSO 2021 [S31, S2]",
            ("eolia_pf_50_3h", "P/F < 50 mmHg for > 3 h"),
            ("eolia_pf_80_6h", "P/F < 80 mmHg for > 6 h"),
            ("eolia_hypercapnia", "pH < 7.25 with PaCO2 ≥ 60 mmHg for > 6 h"),
            ("optimal_care", "After optimal care including prone positioning"),
        ),
        *_items(
            "indication",
            "ref §6.1 older ELSO rule [S1]",
            ("co2_retention_high_pplat", "CO2 retention with Pplat > 30"),
            ("air_leak", "Severe air leak"),
            ("transplant_candidate", "Intubation in a listed lung-transplant candidate"),
        ),
        *_items(
            "absolute",
            "ref §6.1 [S33, S2]",
            ("refusal", "Patient refusal"),
            ("advanced_cancer", "Advanced cancer"),
            ("fatal_ich", "Fatal ICH, herniation or intractable intracranial hypertension"),
            ("irreversible_lung", "Irreversible lung destruction without a transplant option"),
        ),
        *_items(
            "relative",
            "ref §6.1 [S33, S2]",
            ("older_age", "Older age"),
            ("immunosuppression", "Immunosuppression"),
            ("injurious_ventilation_7d", "Injurious ventilation for > 7 days"),
            ("right_heart_failure", "Right-heart failure"),
            ("haematological_malignancy", "Haematological malignancy or bone-marrow transplant"),
            ("saps_sofa_high", "SAPS II ≥ 60 or SOFA > 12"),
            ("scores_poor", "PRESERVE ≥ 5, RESP ≤ −2 or PRESET ≥ 6"),
            ("dnr", "Do-not-resuscitate status"),
        ),
    ),
    "va": (
        *_items(
            "indication",
            "ref §6.2 [S32a]",
            (
                "cardiogenic_shock",
                "Refractory cardiogenic shock (AMI, graft failure, post-cardiotomy, "
                "overdose, septic or peripartum cardiomyopathy, myocarditis)",
            ),
            ("massive_pe", "Massive pulmonary embolism"),
            ("refractory_vt_vf", "Refractory VT/VF"),
            ("pulmonary_hypertension", "Severe pulmonary hypertension"),
            ("other_va", "Anaphylaxis, cardiac or vascular trauma, haemoptysis, high-risk procedure"),
        ),
        *_items(
            "absolute",
            "ref §6.2 [S32b, S3]",
            ("uncontrolled_bleeding", "Uncontrolled bleeding or a contraindication to anticoagulation"),
            ("end_stage_no_bridge", "Irreversible end-stage disease, not a transplant or VAD candidate"),
            ("multi_organ_failure", "Poor baseline function or established multi-organ failure"),
            ("unwitnessed_or_long_cpr", "Unwitnessed arrest or CPR > 60 min without adequate perfusion"),
            ("aortic_dissection", "Aortic dissection"),
            ("severe_ar", "Severe aortic regurgitation"),
        ),
        *_items(
            "relative",
            "ref §6.2 [S32b, S3]",
            ("advanced_age", "Advanced age"),
            ("renal_liver_failure", "Renal or liver failure"),
            ("active_malignancy", "Active malignancy"),
            ("morbid_obesity", "Morbid obesity"),
            ("pvd", "Severe peripheral vascular disease"),
            ("hit", "Heparin-induced thrombocytopenia"),
        ),
    ),
}
# ECPR candidacy uses the VA lists; its selection criteria are judged by ecpr_assessment().


# ---------------------------------------------------------------------------------------------------
# Checklists: decannulation (§5.3) and transport (§7.1)
# ---------------------------------------------------------------------------------------------------

_DECANNULATION_BEFORE: Final = _items(
    "before",
    "ref §5.3; demo-scenarios §5",
    ("decision_recorded", "Decision recorded with participants"),
    ("family_informed", "Family told"),
    ("products_available", "Blood products cross-matched (e.g. 2 u RBC)"),
    ("team_present", "Team present: operator, perfusionist, nurse, airway"),
    ("circuit_standby", "Primed circuit or restart plan on standby"),
)
_DECANNULATION_AFTER: Final = _items(
    "after",
    "ref §5.3",
    ("venous_doppler", "Venous Doppler of the cannulated vessel"),
    ("components_closed", "Circuit components closed in the record"),
)


def decannulation_items(configuration: str) -> tuple[ChecklistItemSpec, ...]:
    """The decannulation checklist for a configuration (``vv`` percutaneous; ``va`` and hybrids arterial).

    Sources: reference.md §5.3 (VV: stop anticoagulation about 1 h before, Trendelenburg and brief
    neuromuscular blockade, pressure or suture, routine venous Doppler [S29]; VA: surgical repair or closure
    device, distal pulses and Doppler [○]) and the demo-scenarios §5 theatre checklist.
    """
    mode = validate.choice("configuration", configuration, ("vv", "va", "vav", "vva", "vpa"))
    if mode == "vv":
        procedure = _items(
            "procedure",
            "ref §5.3 percutaneous VV [S29]",
            ("anticoagulation_held", "Anticoagulation stopped about 1 h before (time, clotting test)"),
            ("positioning_nmb", "Head-down (Trendelenburg) and brief neuromuscular blockade"),
            ("pump_off_clamped", "Pump off and lines clamped (time)"),
            ("cannula_removed", "Cannula removed at end-inspiration"),
            ("haemostasis", "Pressure 30 min or purse-string / figure-of-eight suture"),
        )
    else:
        procedure = _items(
            "procedure",
            "ref §5.3 VA [○]; demo-scenarios §5",
            ("anticoagulation_held", "Anticoagulation stopped (time, ACT)"),
            ("vasoactive_plan", "Vasoactive plan agreed"),
            ("pump_off_clamped", "Pump off and lines clamped (time)"),
            ("arterial_repair", "Arterial repair (surgical or closure device); DPC out; venous purse-string"),
            ("distal_perfusion_check", "Distal pulses / foot Doppler and calf NIRS"),
        )
    return _DECANNULATION_BEFORE + procedure + _DECANNULATION_AFTER


def transport_items(*, primary: bool) -> tuple[ChecklistItemSpec, ...]:
    """Pre-departure checklist (reference.md §7.1 equipment table [S63b, S25f; ○ for quantities]). A primary
    transport (the team cannulates at the referring site) adds the cannulation kit."""
    items = _items(
        "equipment",
        "ref §7.1 [S63b, S25f]",
        ("console_power", "Console on battery and AC power; battery charged"),
        ("backup_pump", "Backup pump (electric and/or hand crank)"),
        ("spares", "Spare oxygenator and circuit; clamps"),
        ("oxygen", "O2 for the trip with reserve; portable blender and gas tubing"),
        ("heater", "Heater-cooler or a plan for heat loss"),
        ("monitoring", "Patient and circuit monitoring; point-of-care gas and ACT for long transfers"),
        ("securing", "Equipment secured; ECMO lines held during every patient move"),
        ("blood_products", "Blood products (about 2 u RBC)"),
        ("resuscitation", "Resuscitation drugs and defibrillator"),
        ("team_briefed", "Team credentialed and briefed; roles assigned"),
    )
    if primary:
        items += _items(
            "equipment",
            "ref §7.1 [S63b]",
            ("cannulation_kit", "Cannulation kit: cannula range, ultrasound, insertion checklist"),
        )
    return items


@dataclass(frozen=True)
class ItemState:
    """The state of one checklist item: ``pending``, ``done``, or ``waived`` (needs a reason)."""

    status: str = "pending"
    waiver_reason: str = ""


@dataclass(frozen=True)
class ChecklistStatus:
    complete: bool
    done: tuple[str, ...]
    waived: tuple[str, ...]
    outstanding: tuple[str, ...]
    problems: Mapping[str, str]

    def as_dict(self) -> dict[str, object]:
        return {
            "complete": self.complete,
            "done": list(self.done),
            "waived": list(self.waived),
            "outstanding": list(self.outstanding),
            "problems": dict(self.problems),
        }


def checklist_status(specs: Sequence[ChecklistItemSpec], states: Mapping[str, ItemState]) -> ChecklistStatus:
    """Is the checklist complete? Every item must be ``done`` or ``waived`` with a non-blank reason.

    ``problems`` maps each outstanding item to what it lacks. A state for a key that is not in ``specs``, or an
    unknown status, raises :class:`InputError` naming it.
    """
    keys = [s.key for s in specs]
    for key, state in states.items():
        if key not in keys:
            raise InputError(key, "is not an item of this checklist")
        validate.choice(key, state.status, ("pending", "done", "waived"))
    done: list[str] = []
    waived: list[str] = []
    problems: dict[str, str] = {}
    for key in keys:
        state = states.get(key, ItemState())
        if state.status == "done":
            done.append(key)
        elif state.status == "waived" and state.waiver_reason.strip():
            waived.append(key)
        elif state.status == "waived":
            problems[key] = "waived without a reason"
        else:
            problems[key] = "not done"
    return ChecklistStatus(not problems, tuple(done), tuple(waived), tuple(problems), problems)


# ---------------------------------------------------------------------------------------------------
# Transport: oxygen and battery (§7.1)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransportLegPlan:
    """One leg: planned minutes, and whether it draws on cylinder oxygen and on the console battery."""

    label: str
    planned_minutes: float
    uses_cylinder_oxygen: bool = True
    on_battery: bool = True


@dataclass(frozen=True)
class TransportSupplies:
    oxygen_per_leg_l: tuple[float, ...]
    oxygen_needed_l: float
    oxygen_required_l: float
    oxygen_carried_l: float
    oxygen_sufficient: bool
    battery_needed_min: float
    battery_required_min: float
    battery_runtime_min: float
    battery_sufficient: bool

    def as_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["oxygen_per_leg_l"] = list(self.oxygen_per_leg_l)
        return data


def transport_supplies(
    *,
    legs: Sequence[TransportLegPlan],
    sweep_gas_l_min: float,
    ventilator_o2_l_min: float,
    oxygen_carried_l: float,
    battery_runtime_min: float,
    sweep_factor: float = 2.0,
    oxygen_reserve_factor: float = 1.5,
    battery_reserve_factor: float = 1.5,
) -> TransportSupplies:
    """Oxygen and battery for a transport.

    Oxygen per leg = sweep × minutes × ``sweep_factor`` + ventilator O2 × minutes, for legs on cylinder
    oxygen (reference.md §7.1: "sweep L/min × minutes × about 2 + ventilator use" [○]). Battery needed = the
    minutes of legs on battery. Supplies are sufficient when what is carried covers the need times its
    reserve factor (the reference asks for reserve without a number: 1.5 × is local practice [○]).
    """
    sweep = validate.number("sweep_gas_l_min", sweep_gas_l_min, minimum=0, maximum=15, unit="L/min")
    vent = validate.number("ventilator_o2_l_min", ventilator_o2_l_min, minimum=0, maximum=60, unit="L/min")
    carried = validate.number("oxygen_carried_l", oxygen_carried_l, minimum=0, maximum=100000, unit="L")
    runtime = validate.number(
        "battery_runtime_min", battery_runtime_min, minimum=0, maximum=10000, unit="min"
    )
    factor = validate.number("sweep_factor", sweep_factor, minimum=1, maximum=5)
    o2_reserve = validate.number("oxygen_reserve_factor", oxygen_reserve_factor, minimum=1, maximum=5)
    battery_reserve = validate.number("battery_reserve_factor", battery_reserve_factor, minimum=1, maximum=5)
    per_leg: list[float] = []
    battery = 0.0
    for index, leg in enumerate(legs):
        minutes = validate.number(
            f"legs[{index}].planned_minutes", leg.planned_minutes, minimum=0, maximum=24 * 60, unit="min"
        )
        per_leg.append(minutes * (sweep * factor + vent) if leg.uses_cylinder_oxygen else 0.0)
        if leg.on_battery:
            battery += minutes
    needed = math.fsum(per_leg)
    return TransportSupplies(
        oxygen_per_leg_l=tuple(per_leg),
        oxygen_needed_l=needed,
        oxygen_required_l=needed * o2_reserve,
        oxygen_carried_l=carried,
        oxygen_sufficient=carried >= needed * o2_reserve,
        battery_needed_min=battery,
        battery_required_min=battery * battery_reserve,
        battery_runtime_min=runtime,
        battery_sufficient=runtime >= battery * battery_reserve,
    )


# ---------------------------------------------------------------------------------------------------
# Ambulation (§7.2)
# ---------------------------------------------------------------------------------------------------

# Yes/no items of the pre-session screen (reference.md §7.2 [○, derived from S49, S50, S95]).
AMBULATION_FLAGS: Final[Mapping[str, str]] = {
    "cannula_position_confirmed": "Cannula position confirmed (depth / imaging)",
    "securement_intact": "Sutures and securement intact",
    "flow_stable_no_chatter": "Stable flow without chatter at the planned RPM",
    "no_vasoactive_escalation": "No escalation of vasoactives in the last few hours",
    "no_active_bleeding": "No active bleeding",
    "anticoagulation_acceptable": "Recent anticoagulation labs acceptable",
    "follows_commands": "Able to follow commands",
    "ecmo_specialist_at_circuit": "An ECMO specialist dedicated to the circuit and cannulae",
    "backup_oxygen_and_battery": "Backup O2 and battery",
    "stop_criteria_agreed": "Stop criteria agreed (desaturation, flow drop or chatter, arrhythmia, bleeding, "
    "cannula movement)",
}


@dataclass(frozen=True)
class AmbulationCriteria(CriteriaSet):
    """Numeric limits of the ambulation readiness screen and the mobilisation KPI (reference.md §7.2)."""

    mean_arterial_pressure_mmhg: Threshold = Threshold(">=", 65.0, "mmHg", "ref §7.2 MAP ≥ about 60–65 [○]")
    spo2: Threshold = Threshold(">=", 0.88, "", "ref §7.2 SpO2 ≥ about 85–88 % [○]")
    rass_min: Threshold = Threshold(">=", -1.0, "", "ref §7.2 RASS −1 to +1 [○]")
    rass_max: Threshold = Threshold("<=", 1.0, "", "ref §7.2 RASS −1 to +1 [○]")
    team_size: Threshold = Threshold(
        ">=", 3.0, "people", "ref §7.2 team of ≥ 3–4 [○]; Hamburg median 3 [S50]"
    )
    ims_kpi_level: Threshold = Threshold(">=", 3.0, "", "IMS ≥ 3 counts as mobilised [S50]")


@dataclass(frozen=True)
class AmbulationScreen:
    """Values of the pre-session screen; ``flags`` maps :data:`AMBULATION_FLAGS` keys to yes/no."""

    mean_arterial_pressure_mmhg: float | None = None
    spo2: float | None = None
    rass: float | None = None
    team_size: int | None = None
    flags: Mapping[str, bool] = dataclasses.field(default_factory=dict)


def ambulation_readiness(
    screen: AmbulationScreen, criteria: AmbulationCriteria = AmbulationCriteria()
) -> PathwayResult:
    """The readiness screen: ``"ready"`` when every item is met, ``"not_ready"`` when any is not,
    ``"incomplete"`` otherwise."""
    for key in screen.flags:
        if key not in AMBULATION_FLAGS:
            raise InputError(key, f"is not a screen item; items: {', '.join(AMBULATION_FLAGS)}")
    map_ = (
        None
        if screen.mean_arterial_pressure_mmhg is None
        else validate.number(
            "mean_arterial_pressure_mmhg",
            screen.mean_arterial_pressure_mmhg,
            minimum=10,
            maximum=200,
            unit="mmHg",
        )
    )
    sat = None if screen.spo2 is None else validate.fraction("spo2", screen.spo2)
    rass = None if screen.rass is None else validate.integer("rass", screen.rass, minimum=-5, maximum=4)
    team = (
        None
        if screen.team_size is None
        else validate.integer("team_size", screen.team_size, minimum=0, maximum=20)
    )
    results = [
        _judge(
            "mean_arterial_pressure_mmhg",
            "Mean arterial pressure",
            criteria.mean_arterial_pressure_mmhg,
            map_,
        ),
        _judge("spo2", "SpO2 on current settings", criteria.spo2, sat),
        _judge("rass_min", "RASS not below", criteria.rass_min, rass),
        _judge("rass_max", "RASS not above", criteria.rass_max, rass),
        _judge("team_size", "Team size", criteria.team_size, team),
    ]
    results += [
        _flag(key, label, screen.flags.get(key), "ref §7.2 [○]") for key, label in AMBULATION_FLAGS.items()
    ]
    status = _overall(results, good="ready", bad="not_ready", pending="incomplete")
    return PathwayResult(status, tuple(results))


def counts_for_mobilisation_kpi(ims_level: int, criteria: AmbulationCriteria = AmbulationCriteria()) -> bool:
    """Does a session at this ICU Mobility Scale level (0–10) count for the mobilisation KPI?"""
    level = validate.integer("ims_level", ims_level, minimum=0, maximum=10)
    return criteria.ims_kpi_level.passes(level)


# ---------------------------------------------------------------------------------------------------
# Configuration: LV distension (§6.3) and differential hypoxia (§2.7)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LvDistensionCriteria(CriteriaSet):
    pulse_pressure_mmhg: Threshold = Threshold("<", 10.0, "mmHg", "ref §6.3 pulse pressure < about 10 [○]")


def lv_distension(
    *,
    pulse_pressure_mmhg: float | None = None,
    aortic_valve_opening: bool | None = None,
    rising_pa_pressure_or_pcwp: bool | None = None,
    pulmonary_oedema: bool | None = None,
    lv_smoke: bool | None = None,
    criteria: LvDistensionCriteria = LvDistensionCriteria(),
) -> PathwayResult:
    """LV-distension triggers for an unloading decision (reference.md §6.3 [S93]). Each criterion is "met"
    when the *trigger is present*. ``status``: ``"unloading_indicated"`` if any trigger is present,
    ``"no_trigger"`` if every trigger was assessed and none is present, else ``"incomplete"``."""
    pp = (
        None
        if pulse_pressure_mmhg is None
        else validate.number("pulse_pressure_mmhg", pulse_pressure_mmhg, minimum=0, maximum=150, unit="mmHg")
    )
    results = (
        _judge("pulse_pressure_mmhg", "Pulse pressure low", criteria.pulse_pressure_mmhg, pp),
        _flag(
            "aortic_valve_closed",
            "Aortic valve not opening",
            aortic_valve_opening,
            "ref §6.3 [S93]",
            expected=False,
        ),
        _flag(
            "rising_pa_pressure_or_pcwp",
            "Rising PA pressure or PCWP",
            rising_pa_pressure_or_pcwp,
            "ref §6.3 [S93]",
        ),
        _flag("pulmonary_oedema", "Pulmonary oedema or haemorrhage", pulmonary_oedema, "ref §6.3 [S93]"),
        _flag("lv_smoke", "Spontaneous echo contrast in the LV", lv_smoke, "ref §6.3 [S93]"),
    )
    statuses = {r.status for r in results}
    status = (
        "unloading_indicated" if MET in statuses else "incomplete" if MISSING in statuses else "no_trigger"
    )
    return PathwayResult(status, results)


@dataclass(frozen=True)
class DifferentialHypoxiaCriteria(CriteriaSet):
    right_radial_po2_mmhg: Threshold = Threshold("<", 60.0, "mmHg", "ref §2.7 alert rule [○]")
    right_radial_spo2: Threshold = Threshold("<", 0.90, "", "ref §2.7 alert rule [○]")


def differential_hypoxia(
    *,
    right_radial_po2_mmhg: float | None = None,
    right_radial_spo2: float | None = None,
    native_flow_l_min: float | None = None,
    native_so2: float | None = None,
    upper_body_flow_l_min: float | None = None,
    post_oxygenator_so2: float | None = None,
    criteria: DifferentialHypoxiaCriteria = DifferentialHypoxiaCriteria(),
) -> PathwayResult:
    """Differential hypoxia on peripheral VA (reference.md §2.7): measured right-radial values, and the
    upper-body saturation the watershed model predicts (scores-and-models §14) when its four inputs are given.

    Criteria are "met" when the *finding is present*. ``status``: ``"present"`` if a measured or predicted
    value is below its threshold, ``"absent"`` if all were judged and none is, else ``"incomplete"``.
    """
    po2 = (
        None
        if right_radial_po2_mmhg is None
        else validate.number(
            "right_radial_po2_mmhg", right_radial_po2_mmhg, minimum=10, maximum=700, unit="mmHg"
        )
    )
    sat = None if right_radial_spo2 is None else validate.fraction("right_radial_spo2", right_radial_spo2)
    model_inputs = (native_flow_l_min, native_so2, upper_body_flow_l_min, post_oxygenator_so2)
    predicted: float | None = None
    if all(v is not None for v in model_inputs):
        predicted = va_upper_body_so2(
            native_flow_l_min=native_flow_l_min,  # type: ignore[arg-type]
            native_so2=native_so2,  # type: ignore[arg-type]
            upper_body_flow_l_min=upper_body_flow_l_min,  # type: ignore[arg-type]
            post_oxygenator_so2=post_oxygenator_so2,  # type: ignore[arg-type]
        )
    results = (
        _judge("right_radial_po2_mmhg", "Right radial PaO2 low", criteria.right_radial_po2_mmhg, po2),
        _judge("right_radial_spo2", "Right radial SpO2 low", criteria.right_radial_spo2, sat),
        _judge(
            "predicted_upper_body_so2",
            "Watershed model: upper-body SO2 low",
            criteria.right_radial_spo2,
            predicted,
        ),
    )
    if any(r.status == MET for r in results):
        status = "present"
    elif results[0].status != MISSING and results[1].status != MISSING:
        status = "absent"  # the model is optional: the two measured values decide
    else:
        status = "incomplete"
    return PathwayResult(status, results, {"predicted_upper_body_so2": predicted})
