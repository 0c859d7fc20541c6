"""Anticoagulation on ECMO: target ranges, classification of a result, and nomogram-driven titration.

Everything here is **site data with defaults**. Guidelines give ranges and leave the choice to clinicians, so
the target ranges of :func:`default_targets` and the steps of :data:`DEFAULT_UFH_ANTI_XA_NOMOGRAM` are
starting points a program replaces with its own protocol (see ``docs/calculators/anticoagulation.md``).

Tests and their units (the names are the telemetry parameter codes of core-api §4):

- ``anti_xa_iu_ml`` — anti-factor-Xa activity (heparin level), IU/mL;
- ``aptt_s`` — activated partial thromboplastin time, s;
- ``act_s`` — activated clotting time, s.

Infusion rates and nomogram steps are in *dose units* per kg per hour (U/kg/h for unfractionated heparin).
The numeric names say ``units`` for that reason; :attr:`Nomogram.dose_unit` names the dose unit when a site
writes a nomogram for an agent dosed in another unit.

Sources (numbers in brackets are those of ``shared/clinical/reference.md`` §10):

- [S4] McMichael ABV et al. 2021 ELSO Adult and Pediatric Anticoagulation Guidelines. ASAIO J
  2022;68:303–310. doi:10.1097/MAT.0000000000001652
- [S5] ELSO Anticoagulation Guideline (2014).
- [S46] ASH Hematology, "Management of anticoagulation and bleeding with extracorporeal circuits",
  institutional protocol table.
- [S47] Lab-target table of an institutional review, https://pmc.ncbi.nlm.nih.gov/articles/PMC7005959/table/t4
- [S48] Burstein B et al. Direct thrombin inhibitors during ECMO. World J Crit Care Med 2019;8:87–98.
- [S53] ELSO heparin dosing compared, J Intensive Care 2015 (table 1).
- [S80] Weight-based aPTT heparin nomogram (AAFP 2004 table), https://aafp.org/pubs/afp/issues/2004/0615/p2841/
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from ecmo_core.errors import InfeasibleError, InputError
from ecmo_core.validate import choice, integer, number

__all__ = [
    "AGENTS",
    "BLEEDING_RISKS",
    "CALCULATORS",
    "DEFAULT_UFH_ANTI_XA_NOMOGRAM",
    "NOMOGRAM_AGENTS",
    "PLAUSIBLE_MAXIMUM",
    "TESTS",
    "TEST_LABELS",
    "TEST_UNITS",
    "Nomogram",
    "NomogramStep",
    "TargetRange",
    "TitrationAdvice",
    "classify",
    "default_targets",
    "nomogram_from_mapping",
    "target_from_mapping",
    "titrate",
]

Classification = Literal["below", "in_range", "above"]

#: Monitoring tests, named as the telemetry parameter codes (core-api §4).
TESTS: tuple[str, ...] = ("anti_xa_iu_ml", "aptt_s", "act_s")

#: The unit each test is reported in; a target or nomogram in another unit is refused.
TEST_UNITS: Mapping[str, str] = MappingProxyType({"anti_xa_iu_ml": "IU/mL", "aptt_s": "s", "act_s": "s"})

#: How a clinician writes each test in a note.
TEST_LABELS: Mapping[str, str] = MappingProxyType(
    {"anti_xa_iu_ml": "anti-Xa", "aptt_s": "aPTT", "act_s": "ACT"}
)

#: Plausibility ceilings (local choice, not clinical thresholds). They sit well above any analyser's
#: reportable range (anti-Xa assays report to about 1–2 IU/mL, aPTT to about 150–250 s, ACT cartridges to
#: about 1000 s) so that only unit mistakes are refused: an anti-Xa in IU/L (300–700), an aPTT in ms.
PLAUSIBLE_MAXIMUM: Mapping[str, float] = MappingProxyType(
    {"anti_xa_iu_ml": 10.0, "aptt_s": 300.0, "act_s": 1500.0}
)

#: Agents :func:`default_targets` knows; ``none`` is a run without systemic anticoagulation [S75].
AGENTS: tuple[str, ...] = ("ufh", "bivalirudin", "argatroban", "none")

#: Agents a titration nomogram can be written for.
NOMOGRAM_AGENTS: tuple[str, ...] = ("ufh", "bivalirudin", "argatroban")

#: ``high`` selects the low-intensity ranges used when bleeding risk is high.
BLEEDING_RISKS: tuple[str, ...] = ("standard", "high")

#: Plausibility bounds for nomogram data and titration inputs (local choice; each explains a typo it catches).
#: UFH infusions on ECMO run at about 10–40 U/kg/h (start 18 U/kg/h [S46, S80]); 100 U/kg/h refuses a rate
#: entered in U/h (18 U/kg/h × 70 kg = 1260 U/h).
MAX_RATE_UNITS_KG_H = 100.0
#: Published UFH nomogram steps are 1–4 U/kg/h [S80]; a step above 10 U/kg/h is almost surely a typo
#: (40 for 4).
MAX_RATE_STEP_UNITS_KG_H = 10.0
#: ELSO cannulation bolus is 50–100 U/kg [S53]; no titration bolus should exceed it.
MAX_BOLUS_UNITS_KG = 100.0
#: A hold longer than a day is no longer a titration step.
MAX_HOLD_MINUTES = 24 * 60
#: Anticoagulation is rechecked at least every 3 days on any protocol seen (daily when stable [S46]).
MAX_RECHECK_HOURS = 72.0
#: Dosing weight: from extreme-preterm neonates to the heaviest adults reported on ECMO.
MAX_WEIGHT_KG = 350.0


def _text(field_name: str, value: object, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InputError(field_name, f"must be {'a' if allow_empty else 'a non-empty'} string, got {value!r}")
    return value


def _test_and_unit(test: object, unit: object) -> tuple[str, str]:
    checked = choice("test", test, TESTS)
    expected = TEST_UNITS[checked]
    if unit != expected:
        raise InputError("unit", f"{checked} is reported in {expected}, got {unit!r}")
    return checked, expected


def _from_mapping(
    data: object, *, prefix: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, Any]:
    """Check the keys of a settings mapping and return its items; every error names ``prefix.key``."""
    if not isinstance(data, Mapping):
        raise InputError(
            prefix, f"must be a mapping (a JSON object or TOML table), got {type(data).__name__}"
        )
    accepted = required + optional
    for key in data:
        if key not in accepted:
            raise InputError(f"{prefix}.{key}", f"is not a setting here; accepted: {', '.join(accepted)}")
    for key in required:
        if key not in data:
            raise InputError(f"{prefix}.{key}", "is required")
    return {str(key): value for key, value in data.items()}


# ----------------------------------------------------------------------------------------------------------
# Target ranges
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRange:
    """A closed target range ``[low, high]`` for one monitoring test.

    Parameters
    ----------
    test
        ``"anti_xa_iu_ml"``, ``"aptt_s"`` or ``"act_s"``.
    low, high
        Bounds in ``unit``, both inclusive; ``0 <= low < high <=`` :data:`PLAUSIBLE_MAXIMUM` of the test.
    unit
        ``"IU/mL"`` for anti-Xa, ``"s"`` for aPTT and ACT; any other unit is an :class:`InputError`.
    source
        Where the range comes from (guideline, paper or local protocol id).
    """

    test: str
    low: float
    high: float
    unit: str
    source: str = ""

    def __post_init__(self) -> None:
        test, unit = _test_and_unit(self.test, self.unit)
        ceiling = PLAUSIBLE_MAXIMUM[test]
        low = number("low", self.low, minimum=0.0, maximum=ceiling, unit=unit)
        high = number("high", self.high, minimum=0.0, maximum=ceiling, unit=unit)
        if high <= low:
            raise InputError("high", f"must be above low ({low:g} {unit}), got {high:g} {unit}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "source", _text("source", self.source, allow_empty=True))


def target_from_mapping(data: object, *, field: str = "target") -> TargetRange:
    """Build a :class:`TargetRange` from a mapping such as ``{"test": "aptt_s", "low": 60, "high": 80}``.

    ``unit`` may be left out (it follows from ``test``); ``source`` is optional. Errors name
    ``"<field>.<key>"``, e.g. ``"target.high"``.
    """
    items = _from_mapping(data, prefix=field, required=("test", "low", "high"), optional=("unit", "source"))
    items.setdefault("unit", TEST_UNITS.get(str(items["test"]), ""))
    try:
        return TargetRange(**items)
    except InputError as err:
        raise InputError(f"{field}.{err.field}", err.message) from None


def _target(test: str, low: float, high: float, source: str) -> TargetRange:
    return TargetRange(test, low, high, TEST_UNITS[test], source)


# Defaults by (agent, bleeding risk). "standard" is the ELSO-cited range; "high" the low-intensity range a
# program uses when bleeding risk is high. Only ranges with a source in reference §3 are listed: there is no
# sourced low-intensity ACT range for UFH, and no sourced low-intensity range at all for argatroban.
_DEFAULT_TARGETS: Mapping[tuple[str, str], tuple[TargetRange, ...]] = MappingProxyType(
    {
        ("ufh", "standard"): (
            # ELSO 2021/2014: anti-Xa 0.3–0.7 IU/mL [S4, S5] (reference §3.2, marked ◐: check the full text).
            _target("anti_xa_iu_ml", 0.3, 0.7, "ELSO 2021 anticoagulation guideline [S4]; ELSO 2014 [S5]"),
            # ELSO: aPTT 1.5–2.5 × baseline, about 60–80 s [S4, S5].
            _target("aptt_s", 60.0, 80.0, "ELSO: 1.5–2.5 × baseline, about 60–80 s [S4, S5]"),
            # ELSO 2014: ACT about 180–220 s (device-specific) [S5]; institutional 180–220 s [S47, S53].
            _target("act_s", 180.0, 220.0, "ELSO 2014 about 180–220 s, device-specific [S5, S47, S53]"),
        ),
        ("ufh", "high"): (
            # Institutional low-intensity anti-Xa 0.2–0.3 IU/mL [S47].
            _target("anti_xa_iu_ml", 0.2, 0.3, "Institutional low-intensity range [S47]"),
            # Institutional low-intensity aPTT 40–55 s [S47].
            _target("aptt_s", 40.0, 55.0, "Institutional low-intensity range [S47]"),
        ),
        ("bivalirudin", "standard"): (
            # Bivalirudin ~0.04 mg/kg/h with aPTT 60–80 s (high intensity) [S48].
            _target("aptt_s", 60.0, 80.0, "Burstein 2019, high-intensity aPTT [S48]"),
        ),
        ("bivalirudin", "high"): (
            # Bivalirudin low intensity: aPTT 45–65 s [S48].
            _target("aptt_s", 45.0, 65.0, "Burstein 2019, low-intensity aPTT [S48]"),
        ),
        ("argatroban", "standard"): (
            # Argatroban case reports: aPTT 60–80 s or ACT 180–220 s [S48].
            _target("aptt_s", 60.0, 80.0, "Burstein 2019, argatroban case reports [S48]"),
            _target("act_s", 180.0, 220.0, "Burstein 2019, argatroban case reports [S48]"),
        ),
        ("none", "standard"): (),
        ("none", "high"): (),
    }
)


def default_targets(*, agent: str, bleeding_risk: str = "standard") -> tuple[TargetRange, ...]:
    """Return the default target ranges for an agent, one per monitoring test with a sourced default.

    These are defaults for a site to override, never rules (reference §3.2).

    Parameters
    ----------
    agent
        ``"ufh"``, ``"bivalirudin"``, ``"argatroban"`` or ``"none"`` (no systemic anticoagulation: no
        targets).
    bleeding_risk
        ``"standard"`` (ELSO-cited ranges) or ``"high"`` (low-intensity ranges).

    Returns
    -------
    tuple of TargetRange
        UFH standard: anti-Xa 0.3–0.7 IU/mL, aPTT 60–80 s, ACT 180–220 s [S4, S5, S47]; UFH high: anti-Xa
        0.2–0.3 IU/mL, aPTT 40–55 s [S47]; bivalirudin: aPTT 60–80 s, or 45–65 s when bleeding risk is high
        [S48]; argatroban: aPTT 60–80 s, ACT 180–220 s [S48]; none: ``()``.

    Raises
    ------
    InputError
        ``agent`` or ``bleeding_risk`` unknown; ``bleeding_risk="high"`` with argatroban, for which the
        reference gives no low-intensity range (the site must enter its own target).
    """
    agent = choice("agent", agent, AGENTS)
    bleeding_risk = choice("bleeding_risk", bleeding_risk, BLEEDING_RISKS)
    targets = _DEFAULT_TARGETS.get((agent, bleeding_risk))
    if targets is None:
        raise InputError(
            "bleeding_risk",
            f"there is no sourced low-intensity default for {agent}; enter the site's target range instead",
        )
    return targets


def classify(*, test: str, value: float, target: TargetRange | Mapping[str, object]) -> Classification:
    """Say whether a result is below, in or above its target range.

    Parameters
    ----------
    test
        The test the value comes from (``"anti_xa_iu_ml"``, ``"aptt_s"``, ``"act_s"``); must match
        ``target.test``.
    value
        The result in the test's unit, ``0`` to :data:`PLAUSIBLE_MAXIMUM` (anti-Xa 10 IU/mL, aPTT 300 s,
        ACT 1500 s).
    target
        A :class:`TargetRange`, or a mapping with ``test``, ``low``, ``high`` (and optionally ``unit``,
        ``source``) as sent by the command line or a form.

    Returns
    -------
    str
        ``"below"`` if ``value < low``, ``"above"`` if ``value > high``, otherwise ``"in_range"`` (both
        bounds are inclusive).
    """
    test = choice("test", test, TESTS)
    if not isinstance(target, TargetRange):
        target = target_from_mapping(target)
    if target.test != test:
        raise InputError("target", f"is a range for {target.test}, not for {test}")
    checked = number("value", value, minimum=0.0, maximum=PLAUSIBLE_MAXIMUM[test], unit=target.unit)
    if checked < target.low:
        return "below"
    if checked > target.high:
        return "above"
    return "in_range"


# ----------------------------------------------------------------------------------------------------------
# Titration nomograms
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NomogramStep:
    """One band of a titration nomogram and what to do when a result falls in it.

    The band is **half-open: ``lower`` is inclusive, ``upper`` exclusive** (``lower <= value < upper``),
    except that the last step of a :class:`Nomogram` also includes its ``upper`` (the nomogram's
    ``range_high``). Bounds are in the nomogram's test unit.

    Parameters
    ----------
    lower, upper
        Band bounds, ``lower < upper``.
    hold_minutes
        Stop the infusion for this many minutes before applying the rate change (0 to 1440; 0 = no hold).
    bolus_units_kg
        Bolus in dose units per kg (0 to 100 U/kg [S53]; 0 = none).
    rate_change_units_kg_h
        Change to the infusion rate in dose units/kg/h, −10 to +10 (published steps are 1–4 U/kg/h [S80]).
    recheck_hours
        When to repeat the test, in hours (above 0, at most 72). After a hold it counts from the restart.
    message
        Extra words for the clinician, appended to the advice (e.g. "bolus only on physician order").
    """

    lower: float
    upper: float
    hold_minutes: int = 0
    bolus_units_kg: float = 0.0
    rate_change_units_kg_h: float
    recheck_hours: float
    message: str = ""

    def __post_init__(self) -> None:
        lower = number("lower", self.lower)
        upper = number("upper", self.upper)
        if upper <= lower:
            raise InputError("upper", f"must be above lower ({lower:g}), got {upper:g}")
        set_ = object.__setattr__
        set_(self, "lower", lower)
        set_(self, "upper", upper)
        set_(
            self,
            "hold_minutes",
            integer("hold_minutes", self.hold_minutes, minimum=0, maximum=MAX_HOLD_MINUTES, unit="min"),
        )
        set_(
            self,
            "bolus_units_kg",
            number(
                "bolus_units_kg",
                self.bolus_units_kg,
                minimum=0.0,
                maximum=MAX_BOLUS_UNITS_KG,
                unit="units/kg",
            ),
        )
        set_(
            self,
            "rate_change_units_kg_h",
            number(
                "rate_change_units_kg_h",
                self.rate_change_units_kg_h,
                minimum=-MAX_RATE_STEP_UNITS_KG_H,
                maximum=MAX_RATE_STEP_UNITS_KG_H,
                unit="units/kg/h",
            ),
        )
        set_(
            self,
            "recheck_hours",
            number(
                "recheck_hours",
                self.recheck_hours,
                minimum=0.0,
                min_exclusive=True,
                maximum=MAX_RECHECK_HOURS,
                unit="h",
            ),
        )
        set_(self, "message", _text("message", self.message, allow_empty=True))


@dataclass(frozen=True, kw_only=True)
class Nomogram:
    """A titration nomogram: contiguous bands covering ``[range_low, range_high]`` of one test.

    Validation on construction: steps are in ascending order, the first starts at ``range_low``, each starts
    exactly where the previous one ends (no gap, no overlap; bounds are compared exactly, so write them
    identically) and the last ends at ``range_high``. Errors name the offending step, e.g. ``steps[3].lower``.

    Parameters
    ----------
    name
        How the protocol is called on the ward.
    agent
        ``"ufh"``, ``"bivalirudin"`` or ``"argatroban"``.
    test, unit
        The monitoring test (``"anti_xa_iu_ml"``, ``"aptt_s"``, ``"act_s"``) and its unit (``"IU/mL"``,
        ``"s"``).
    steps
        The bands, lowest first (a list is accepted and stored as a tuple).
    source
        The protocol's id or citation; required, because a dose change must be traceable.
    range_low, range_high
        The declared range the steps cover (``0 <= range_low < range_high <=`` :data:`PLAUSIBLE_MAXIMUM`). A
        result outside it is refused rather than matched to the nearest band.
    dose_unit
        The agent's dose unit, used in the advice text (``"U"`` for heparin).
    """

    name: str
    agent: str
    test: str
    unit: str
    steps: tuple[NomogramStep, ...]
    source: str
    range_low: float
    range_high: float
    dose_unit: str = "U"

    def __post_init__(self) -> None:
        _text("name", self.name)
        choice("agent", self.agent, NOMOGRAM_AGENTS)
        test, unit = _test_and_unit(self.test, self.unit)
        _text("source", self.source)
        _text("dose_unit", self.dose_unit)
        ceiling = PLAUSIBLE_MAXIMUM[test]
        low = number("range_low", self.range_low, minimum=0.0, maximum=ceiling, unit=unit)
        high = number("range_high", self.range_high, minimum=0.0, maximum=ceiling, unit=unit)
        if high <= low:
            raise InputError("range_high", f"must be above range_low ({low:g} {unit}), got {high:g} {unit}")
        object.__setattr__(self, "range_low", low)
        object.__setattr__(self, "range_high", high)
        if isinstance(self.steps, str | bytes) or not isinstance(self.steps, tuple | list):
            raise InputError("steps", f"must be a list of steps, got {type(self.steps).__name__}")
        steps = tuple(self.steps)
        if not steps:
            raise InputError("steps", f"must hold at least one step covering [{low:g}, {high:g}] {unit}")
        object.__setattr__(self, "steps", steps)
        expected = low
        for index, step in enumerate(steps):
            if not isinstance(step, NomogramStep):
                raise InputError(f"steps[{index}]", f"must be a NomogramStep, got {type(step).__name__}")
            if step.lower != expected:
                what = "starts above" if step.lower > expected else "overlaps"
                where = "range_low" if index == 0 else f"the end of steps[{index - 1}]"
                raise InputError(
                    f"steps[{index}].lower",
                    f"{step.lower:g} {unit} {what} {where} ({expected:g} {unit}); steps must be contiguous "
                    f"from {low:g} to {high:g} {unit}",
                )
            expected = step.upper
        if expected != high:
            raise InputError(
                f"steps[{len(steps) - 1}].upper",
                f"ends at {expected:g} {unit} but the nomogram declares range_high {high:g} {unit}",
            )

    def band_text(self, index: int) -> str:
        """Describe step ``index``'s band in words, e.g. ``"0.1 to under 0.2 IU/mL"``."""
        step = self.steps[index]
        joiner = "to" if index == len(self.steps) - 1 else "to under"
        return f"{step.lower:g} {joiner} {step.upper:g} {self.unit}"


_NOMOGRAM_KEYS = ("name", "agent", "test", "steps", "source", "range_low", "range_high")
_NOMOGRAM_OPTIONAL = ("unit", "dose_unit")
_STEP_KEYS = ("lower", "upper", "rate_change_units_kg_h", "recheck_hours")
_STEP_OPTIONAL = ("hold_minutes", "bolus_units_kg", "message")


def nomogram_from_mapping(data: object, *, field: str = "nomogram") -> Nomogram:
    """Build a :class:`Nomogram` from site settings parsed from TOML or JSON.

    Parameters
    ----------
    data
        A mapping with ``name``, ``agent``, ``test``, ``source``, ``range_low``, ``range_high`` and ``steps``
        (a list of mappings with ``lower``, ``upper``, ``rate_change_units_kg_h``, ``recheck_hours`` and
        optionally ``hold_minutes``, ``bolus_units_kg``, ``message``); optionally ``unit`` (defaults to the
        test's unit) and ``dose_unit`` (default ``"U"``). Unknown keys are refused, to catch typos.
    field
        Prefix for error fields, e.g. ``"nomogram.steps[2].upper"``.

    Raises
    ------
    InputError
        Naming the offending key, with the accepted values or range.
    """
    items = _from_mapping(data, prefix=field, required=_NOMOGRAM_KEYS, optional=_NOMOGRAM_OPTIONAL)
    items.setdefault("unit", TEST_UNITS.get(str(items["test"]), ""))
    raw_steps = items["steps"]
    if isinstance(raw_steps, str | bytes) or not isinstance(raw_steps, list | tuple):
        raise InputError(f"{field}.steps", f"must be a list of steps, got {type(raw_steps).__name__}")
    steps: list[NomogramStep] = []
    for index, raw in enumerate(raw_steps):
        prefix = f"{field}.steps[{index}]"
        step_items = _from_mapping(raw, prefix=prefix, required=_STEP_KEYS, optional=_STEP_OPTIONAL)
        try:
            steps.append(NomogramStep(**step_items))
        except InputError as err:
            raise InputError(f"{prefix}.{err.field}", err.message) from None
    items["steps"] = tuple(steps)
    try:
        return Nomogram(**items)
    except InputError as err:
        raise InputError(f"{field}.{err.field}", err.message) from None


_S80 = "https://aafp.org/pubs/afp/issues/2004/0615/p2841/"

#: ILLUSTRATIVE, institution-specific adult UFH anti-Xa nomogram (reference §3.3). Replace with the site's.
#: Structure after the weight-based aPTT nomogram [S80] (steps of 2–4 U/kg/h, 1 h hold when far above range);
#: the ECMO adaptations (no routine bolus, target 0.30–0.70 IU/mL, single hold step) are local practice [○].
#: Anti-Xa is reported to 0.01 IU/mL, so the printed bands "0.30–0.70", "0.71–0.80", "0.81–1.00", "> 1.00"
#: become [0.30, 0.71), [0.71, 0.81), [0.81, 1.01), [1.01, 10]: identical for every reportable value.
DEFAULT_UFH_ANTI_XA_NOMOGRAM = Nomogram(
    name="Illustrative adult UFH anti-Xa nomogram (institution-specific: replace with the site protocol)",
    agent="ufh",
    test="anti_xa_iu_ml",
    unit="IU/mL",
    source=(
        "ECMO Steward clinical reference §3.3 (illustrative): structure after the weight-based heparin "
        f"nomogram [S80] {_S80}; ECMO adaptations local practice; daily checks after 2 in-range results [S46]"
    ),
    range_low=0.0,
    range_high=PLAUSIBLE_MAXIMUM["anti_xa_iu_ml"],
    steps=(
        NomogramStep(
            lower=0.0,
            upper=0.10,
            rate_change_units_kg_h=4.0,
            recheck_hours=6.0,
            message="Bolus only on a physician's order and only if the patient is not bleeding.",
        ),
        NomogramStep(lower=0.10, upper=0.20, rate_change_units_kg_h=3.0, recheck_hours=6.0),
        NomogramStep(lower=0.20, upper=0.30, rate_change_units_kg_h=2.0, recheck_hours=6.0),
        NomogramStep(
            lower=0.30,
            upper=0.71,
            rate_change_units_kg_h=0.0,
            recheck_hours=24.0,
            message="In target range: move to daily checks after 2 consecutive in-range results.",
        ),
        NomogramStep(lower=0.71, upper=0.81, rate_change_units_kg_h=-1.0, recheck_hours=6.0),
        NomogramStep(lower=0.81, upper=1.01, rate_change_units_kg_h=-2.0, recheck_hours=6.0),
        # The ASH institutional protocol holds at any anti-Xa above 0.7 IU/mL [S46]; this table only
        # above 1.00.
        NomogramStep(
            lower=1.01,
            upper=PLAUSIBLE_MAXIMUM["anti_xa_iu_ml"],
            hold_minutes=60,
            rate_change_units_kg_h=-3.0,
            recheck_hours=6.0,
        ),
    ),
)


@dataclass(frozen=True)
class TitrationAdvice:
    """What a nomogram says to do with one result.

    Attributes
    ----------
    nomogram
        The nomogram's name (so that advice from the illustrative default is recognisable as such).
    test, unit, measured_value
        The result the advice is for.
    band
        The matched band in words.
    step
        The matched :class:`NomogramStep`.
    current_rate_units_kg_h, new_rate_units_kg_h, rate_change_units_kg_h
        Infusion rates in dose units/kg/h; after a hold, ``new_rate`` is the restart rate.
    hold_minutes
        Minutes to stop the infusion first (0 = none).
    bolus_units_kg, bolus_units
        Bolus per kg and in total for the dosing weight (0 = none).
    recheck_hours
        When to repeat the test (after a hold, from the restart).
    dose_unit
        ``"U"`` for heparin.
    reason
        The advice in plain words, naming the result and the band.
    """

    nomogram: str
    test: str
    unit: str
    measured_value: float
    band: str
    step: NomogramStep
    current_rate_units_kg_h: float
    new_rate_units_kg_h: float
    rate_change_units_kg_h: float
    hold_minutes: int
    bolus_units_kg: float
    bolus_units: float
    recheck_hours: float
    dose_unit: str
    reason: str


def titrate(
    *,
    measured_value: float,
    current_rate_units_kg_h: float,
    weight_kg: float,
    nomogram: Nomogram | Mapping[str, object] | None = None,
) -> TitrationAdvice:
    """Apply a titration nomogram to one result.

    Parameters
    ----------
    measured_value
        The result in the nomogram's unit; must lie within ``[range_low, range_high]`` of the nomogram
        (``[0, 10]`` IU/mL for the default). Outside it the nomogram says nothing, so it is an
        :class:`InputError` rather than the nearest band.
    current_rate_units_kg_h
        The infusion rate now, dose units/kg/h, 0 to 100 (0 = infusion off).
    weight_kg
        Dosing weight, kg, above 0 and at most 350 (the site's choice, e.g. adjusted body weight capped at
        100 kg [S46]); used for the bolus.
    nomogram
        The site's :class:`Nomogram`, or a mapping accepted by :func:`nomogram_from_mapping` (as sent by the
        command line or site settings). ``None`` uses :data:`DEFAULT_UFH_ANTI_XA_NOMOGRAM`, which is
        ILLUSTRATIVE; the advice names the nomogram used.

    Returns
    -------
    TitrationAdvice

    Raises
    ------
    InputError
        Bad nomogram (fields named ``nomogram.…``), or a value outside its range.
    InfeasibleError
        The step would take the rate below zero (e.g. a decrease of 3 U/kg/h from 1 U/kg/h): the nomogram
        does not cover this situation and a clinician must decide.
    """
    if nomogram is None:
        nomogram = DEFAULT_UFH_ANTI_XA_NOMOGRAM
    elif not isinstance(nomogram, Nomogram):
        nomogram = nomogram_from_mapping(nomogram, field="nomogram")
    unit, dose = nomogram.unit, nomogram.dose_unit
    value = number("measured_value", measured_value, unit=unit)
    if not nomogram.range_low <= value <= nomogram.range_high:
        raise InputError(
            "measured_value",
            f"{value:g} {unit} is outside the range of nomogram '{nomogram.name}' "
            f"([{nomogram.range_low:g}, {nomogram.range_high:g}] {unit}); it gives no advice for this value",
        )
    rate = number(
        "current_rate_units_kg_h",
        current_rate_units_kg_h,
        minimum=0.0,
        maximum=MAX_RATE_UNITS_KG_H,
        unit=f"{dose}/kg/h",
    )
    weight = number("weight_kg", weight_kg, minimum=0.0, min_exclusive=True, maximum=MAX_WEIGHT_KG, unit="kg")

    # Steps tile the range, so the first step whose (exclusive) upper bound exceeds the value is the match;
    # the value range_high itself belongs to the last step.
    index = min(bisect.bisect_right([s.upper for s in nomogram.steps], value), len(nomogram.steps) - 1)
    step = nomogram.steps[index]
    change = step.rate_change_units_kg_h
    new_rate = rate + change
    if new_rate < 0.0:
        raise InfeasibleError(
            f"the nomogram step for {value:g} {unit} changes the rate by {change:g} {dose}/kg/h, which would "
            f"take {rate:g} {dose}/kg/h below zero; the nomogram does not cover this, ask the physician",
            field="current_rate_units_kg_h",
        )
    bolus = step.bolus_units_kg * weight
    band = nomogram.band_text(index)
    reason = _reason(nomogram, step, band=band, value=value, rate=rate, new_rate=new_rate, bolus=bolus)
    return TitrationAdvice(
        nomogram=nomogram.name,
        test=nomogram.test,
        unit=unit,
        measured_value=value,
        band=band,
        step=step,
        current_rate_units_kg_h=rate,
        new_rate_units_kg_h=new_rate,
        rate_change_units_kg_h=change,
        hold_minutes=step.hold_minutes,
        bolus_units_kg=step.bolus_units_kg,
        bolus_units=bolus,
        recheck_hours=step.recheck_hours,
        dose_unit=dose,
        reason=reason,
    )


def _reason(
    nomogram: Nomogram,
    step: NomogramStep,
    *,
    band: str,
    value: float,
    rate: float,
    new_rate: float,
    bolus: float,
) -> str:
    label, unit, per = TEST_LABELS[nomogram.test], nomogram.unit, f"{nomogram.dose_unit}/kg/h"
    change = step.rate_change_units_kg_h
    actions: list[str] = []
    if step.bolus_units_kg > 0:
        actions.append(
            f"give a bolus of {step.bolus_units_kg:g} {nomogram.dose_unit}/kg "
            f"({bolus:g} {nomogram.dose_unit})"
        )
    if step.hold_minutes > 0:
        if change == 0:
            after = f"restart at the same rate ({rate:g} {per})"
        else:
            direction = "lower" if change < 0 else "higher"
            after = f"restart at {new_rate:g} {per} ({abs(change):g} {per} {direction} than {rate:g} {per})"
        actions.append(f"hold the infusion for {step.hold_minutes} min, then {after}")
    elif change > 0:
        actions.append(f"increase the infusion by {change:g} {per}, from {rate:g} to {new_rate:g} {per}")
    elif change < 0:
        actions.append(f"decrease the infusion by {-change:g} {per}, from {rate:g} to {new_rate:g} {per}")
    else:
        actions.append(f"make no change to the infusion ({rate:g} {per})")
    recheck = (
        f"{step.recheck_hours:g} h after the restart"
        if step.hold_minutes > 0
        else f"in {step.recheck_hours:g} h"
    )
    reason = (
        f"{label} {value:g} {unit} is in the band {band}: {' and '.join(actions)}. Recheck {label} {recheck}."
    )
    if step.message:
        reason += f" {step.message}"
    return reason


#: Public functions ``ecmo calc`` exposes (see :mod:`ecmo_core.calc`).
CALCULATORS: tuple[str, ...] = ("default_targets", "classify", "titrate")
