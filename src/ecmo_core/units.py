"""Local units: show and accept values in a program's units while storage stays canonical.

Storage is canonical (core-api §4): pressures and blood gases in mmHg, haemoglobin in g/dL, fibrinogen in
mg/dL, platelets in 10³/µL, saturations and FdO2 as fractions 0–1. A program chooses how people *see and type*
them (:class:`UnitPreferences`); this module converts both ways, formats, and names each parameter in clinical
words with its unit and accepted range (the labels come from the parameter registry,
``ecmo_core.surveillance.parameters``). It is pure: no Django, no I/O.

Three kinds of pressure, three rules:

- **Blood-gas partial pressures** (PaO2, PaCO2, post-oxygenator PO2/PCO2, exhaust PCO2) follow
  ``UnitPreferences.pressure``: mmHg or kPa (UK and European units report gases in kPa).
- **Circuit pressures** (access, pre- and post-oxygenator, membrane ΔP) follow their own setting,
  ``UnitPreferences.circuit_pressure``. ECMO consoles display and send them in mmHg (device-data §3: pressure
  ``mm[Hg]``, MDC 266016, kPa only as the alternative code); reference.md gives every circuit threshold in
  mmHg and neither source says that a kPa unit charts them in kPa, so the default stays mmHg even in a kPa
  program and a site that does chart them in kPa can say so.
- **Blood pressure** (MAP, pulse pressure) is always mmHg: monitors and charts show it in mmHg in kPa
  countries too.

Conversion factors and their sources:

- Pressure: 1 mmHg = 133.322 387 415 Pa exactly (ISO 80000-4 / BIPM SI Brochure, 9th ed., Table 8), so
  1 kPa = 1000 / 133.322 387 415 = 7.500 62 mmHg.
- Haemoglobin: 1 dL = 0.1 L (SI prefix definition), so g/dL × 10 = g/L (e.g. 12.0 g/dL = 120 g/L).
- Fibrinogen: mg/dL → g/L is ÷ 1000 (mg → g) × 10 (per dL → per L) = ÷ 100 (e.g. 250 mg/dL = 2.5 g/L).
- Platelets: 1 µL = 10⁻⁶ L, so 10³/µL = 10³ × 10⁶ /L = 10⁹/L: the number is the same (150 × 10³/µL =
  150 × 10⁹/L); only the label changes.
- Saturations and FdO2: shown as % (fraction × 100). Entry accepts either: a value above 1 is read as a
  percentage, a value from 0 to 1 as a fraction (no saturation or FdO2 is ever 1 % or less, so the two never
  collide within the plausible range).
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from ecmo_core.errors import InputError
from ecmo_core.surveillance.parameters import FRACTION, PARAMETERS

MMHG_PER_KPA = 1000 / 133.322387415
"""7.50062 mmHg per kPa (1 mmHg = 133.322387415 Pa, ISO 80000-4)."""

PRESSURE_UNITS = ("mmHg", "kPa")
HEMOGLOBIN_UNITS = ("g/dL", "g/L")
FIBRINOGEN_UNITS = ("mg/dL", "g/L")
PLATELET_UNITS = ("10⁹/L", "10³/µL")


BLOOD_PRESSURES = frozenset({"mean_arterial_pressure_mmhg", "pulse_pressure_mmhg"})
"""Always shown in mmHg."""
CIRCUIT_PRESSURES = frozenset(
    {
        "access_pressure_mmhg",
        "pre_oxygenator_pressure_mmhg",
        "post_oxygenator_pressure_mmhg",
        "membrane_delta_p_mmhg",
    }
)
"""Shown in ``UnitPreferences.circuit_pressure``; every other mmHg code is a blood-gas partial pressure."""


class UnitPreferences(NamedTuple):
    """How one program shows and accepts values. The default is the US convention.

    ``pressure`` is the unit of blood-gas partial pressures; ``circuit_pressure`` that of the console's circuit
    pressures (see the module docstring); blood pressure is always mmHg.
    """

    pressure: str = "mmHg"
    hemoglobin: str = "g/dL"
    fibrinogen: str = "mg/dL"
    platelets: str = "10³/µL"
    circuit_pressure: str = "mmHg"

    def check(self) -> UnitPreferences:
        """Return self if every unit is one this module knows; else raise :class:`InputError` naming it."""
        for field, allowed in (
            ("pressure", PRESSURE_UNITS),
            ("hemoglobin", HEMOGLOBIN_UNITS),
            ("fibrinogen", FIBRINOGEN_UNITS),
            ("platelets", PLATELET_UNITS),
            ("circuit_pressure", PRESSURE_UNITS),
        ):
            if getattr(self, field) not in allowed:
                raise InputError(field, f"must be one of {', '.join(allowed)}, got {getattr(self, field)!r}")
        return self


US = UnitPreferences()
SI = UnitPreferences(pressure="kPa", hemoglobin="g/L", fibrinogen="g/L", platelets="10⁹/L")
"""SI units as UK and European ICUs chart them: gases in kPa, circuit pressures and blood pressure in mmHg."""


class _Conversion(NamedTuple):
    unit: str
    factor: float  # displayed = canonical × factor
    decimals: int


# Display precision of canonical units; values a bedside person reads, not analytic precision.
_DECIMALS = {"L/min": 2, "°C": 1, "g/dL": 1, "mmol/L": 1, "IU/mL": 2, "mg/L FEU": 2, "pH": 2}


def _conversion(parameter: str, prefs: UnitPreferences) -> _Conversion:
    spec = PARAMETERS[parameter]
    unit = spec.unit
    if unit == FRACTION:
        return _Conversion("%", 100.0, 0)
    if unit == "mmHg" and parameter not in BLOOD_PRESSURES:
        local = prefs.circuit_pressure if parameter in CIRCUIT_PRESSURES else prefs.pressure
        if local == "kPa":
            return _Conversion("kPa", 1 / MMHG_PER_KPA, 1)
    if unit == "g/dL" and prefs.hemoglobin == "g/L":
        return _Conversion("g/L", 10.0, 0)
    if parameter == "fibrinogen_mg_dl" and prefs.fibrinogen == "g/L":
        return _Conversion("g/L", 0.01, 2)
    if unit == "10³/µL" and prefs.platelets == "10⁹/L":
        return _Conversion("10⁹/L", 1.0, 0)
    return _Conversion(unit, 1.0, _DECIMALS.get(unit, 0))


def unit_of(parameter: str, prefs: UnitPreferences = US) -> str:
    """The unit ``parameter`` is shown in for ``prefs`` ("kPa", "%", "L/min" …)."""
    return _conversion(parameter, prefs).unit


def to_local(parameter: str, value: float, prefs: UnitPreferences = US) -> float:
    """Canonical stored ``value`` → the number shown (e.g. 75.0 mmHg → 10.0 kPa; 0.92 → 92 %)."""
    return value * _conversion(parameter, prefs).factor


def from_local(parameter: str, value: float, prefs: UnitPreferences = US) -> float:
    """A number typed in local units → canonical. Saturations and FdO2 accept % (> 1) or a fraction (0–1)."""
    if not math.isfinite(value):
        raise InputError(parameter, f"must be a finite number, got {value!r}")
    conversion = _conversion(parameter, prefs)
    if conversion.unit == "%":
        return value / 100.0 if value > 1.0 else value
    return value / conversion.factor


def decimals(parameter: str, prefs: UnitPreferences = US) -> int:
    """How many decimals a shown value of ``parameter`` carries."""
    return _conversion(parameter, prefs).decimals


def format_local(parameter: str, value: float, prefs: UnitPreferences = US, *, with_unit: bool = True) -> str:
    """``value`` (canonical) as text in local units: ``"10.0 kPa"``, ``"92 %"``, ``"3.40 L/min"``."""
    conversion = _conversion(parameter, prefs)
    text = f"{value * conversion.factor:.{conversion.decimals}f}"
    if not with_unit or conversion.unit in ("", "pH", "0/1"):
        return text
    return f"{text} {conversion.unit}"


def label(parameter: str) -> str:
    """The clinical name of ``parameter`` from the parameter registry, capitalised: "Pre-oxygenator pressure"."""
    text = PARAMETERS[parameter].description
    if len(text) > 1 and text[1].isupper():  # "aPTT", "pH" keep their case
        return text
    return text[:1].upper() + text[1:]


def label_with_unit(parameter: str, prefs: UnitPreferences = US) -> str:
    """The clinical name and the local unit: "Pre-oxygenator pressure (kPa)", "FdO2 (%)", "Arterial pH"."""
    unit = unit_of(parameter, prefs)
    if unit in ("", "pH", "0/1"):
        return label(parameter)
    return f"{label(parameter)} ({unit})"


def _number(value: float, places: int) -> str:
    """``value`` with at most ``places`` (≥ 1) decimals, trailing zeros dropped: 106.65, 21, -66.66."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _bounds(parameter: str, bounds: tuple[float, float] | None) -> tuple[float, float]:
    spec = PARAMETERS[parameter]
    return bounds if bounds is not None else (spec.minimum, spec.maximum)


def range_text(
    parameter: str, prefs: UnitPreferences = US, *, bounds: tuple[float, float] | None = None
) -> str:
    """The plausible range of ``parameter`` in local units: "-66.66 to 13.33 kPa", "21 to 100 %".

    Bounds are rounded inwards (one decimal more than values are shown with), so a bound typed back as shown
    is always accepted. ``bounds`` (canonical low, high) replaces the registry's plausibility range for an entry
    with a clinical range of its own (a P/F ratio typed as PaO2 over FiO2: 10 to 700 mmHg = "1.34 to 93.32 kPa").
    """
    minimum, maximum = _bounds(parameter, bounds)
    conversion = _conversion(parameter, prefs)
    scale = 10 ** (conversion.decimals + 1)
    low = math.ceil(round(minimum * conversion.factor * scale, 6)) / scale
    high = math.floor(round(maximum * conversion.factor * scale, 6)) / scale
    places = conversion.decimals + 1
    unit = "" if conversion.unit in ("", "pH", "0/1") else f" {conversion.unit}"
    return f"{_number(low, places)} to {_number(high, places)}{unit}"


def check_local(
    parameter: str,
    value: float,
    prefs: UnitPreferences = US,
    *,
    field: str | None = None,
    bounds: tuple[float, float] | None = None,
) -> float:
    """A number typed in local units → canonical, refused with the accepted range *in the local unit*.

    The range is the parameter registry's plausibility bound, or ``bounds`` (canonical low, high) where given;
    a refusal raises :class:`InputError` naming ``field`` (default: the parameter code), e.g. "120 kPa is
    outside the accepted range -66.66 to 106.66 kPa". Nothing is clamped.
    """
    name = field or parameter
    if not math.isfinite(value):
        raise InputError(name, f"must be a finite number ({range_text(parameter, prefs, bounds=bounds)})")
    minimum, maximum = _bounds(parameter, bounds)
    canonical = from_local(parameter, value, prefs)
    if not minimum <= canonical <= maximum:
        unit = _conversion(parameter, prefs).unit
        if unit == "%":
            shown = f" (read as {_number(canonical * 100, 4)} %)" if value <= 1.0 else " %"
        else:
            shown = "" if unit in ("", "pH", "0/1") else f" {unit}"
        raise InputError(
            name,
            f"{_number(value, 6)}{shown} is outside the accepted range "
            f"{range_text(parameter, prefs, bounds=bounds)}",
        )
    return canonical


def entry_text(parameter: str, value: float, prefs: UnitPreferences = US) -> str:
    """A canonical ``value`` as a number to put in an entry box in local units, no trailing zeros.

    Canonical units keep three decimals (3250, 4.39, -53); converted ones one decimal more than they are shown
    with (240 mmHg → "32" kPa, 0.6 → "60" %), so the box reads as the bedside does.
    """
    conversion = _conversion(parameter, prefs)
    places = 3 if conversion.factor == 1.0 else conversion.decimals + 1
    return _number(value * conversion.factor, places)


# A number followed by " mmHg", not inside a word or a longer number ("P/F < 80 mmHg", "drop 84 mmHg at …").
_MMHG_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?) mmHg\b")


def local_text(text: str, parameter: str, prefs: UnitPreferences = US) -> str:
    """Every "N mmHg" of a text about ``parameter``'s kind of pressure in the local unit, as an entry box has it.

    For texts written in mmHg about one kind of pressure (a criterion's requirement, a cannula's verdict): with
    ``prefs`` reading that kind in kPa, "pressure drop 84 mmHg ≤ limit 100 mmHg" reads "pressure drop 11.2 kPa ≤
    limit 13.33 kPa" (two decimals in kPa, so that a value is not misread at a threshold's edge). ``parameter`` must
    be an mmHg parameter of the registry (it says which setting applies: gases, circuit pressures or blood
    pressure); any other raises :class:`InputError`.
    """
    if PARAMETERS[parameter].unit != "mmHg":
        raise InputError("parameter", f"{parameter} is not a pressure in mmHg")
    unit = unit_of(parameter, prefs)
    if unit == "mmHg":
        return text
    return _MMHG_NUMBER.sub(lambda m: f"{entry_text(parameter, float(m.group(1)), prefs)} {unit}", text)
