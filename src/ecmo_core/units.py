"""Local units: show and accept values in a program's units while storage stays canonical.

Storage is canonical (core-api §4): pressures and blood gases in mmHg, haemoglobin in g/dL, fibrinogen in
mg/dL, platelets in 10³/µL, saturations and FdO2 as fractions 0–1. A program chooses how people *see and type*
them (:class:`UnitPreferences`); this module converts both ways and formats. It is pure: no Django, no I/O.

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
from typing import NamedTuple

from ecmo_core.errors import InputError
from ecmo_core.surveillance.parameters import FRACTION, PARAMETERS

MMHG_PER_KPA = 1000 / 133.322387415
"""7.50062 mmHg per kPa (1 mmHg = 133.322387415 Pa, ISO 80000-4)."""

PRESSURE_UNITS = ("mmHg", "kPa")
HEMOGLOBIN_UNITS = ("g/dL", "g/L")
FIBRINOGEN_UNITS = ("mg/dL", "g/L")
PLATELET_UNITS = ("10⁹/L", "10³/µL")


class UnitPreferences(NamedTuple):
    """How one program shows and accepts values. The default is the US convention."""

    pressure: str = "mmHg"
    hemoglobin: str = "g/dL"
    fibrinogen: str = "mg/dL"
    platelets: str = "10³/µL"

    def check(self) -> UnitPreferences:
        """Return self if every unit is one this module knows; else raise :class:`InputError` naming it."""
        for field, allowed in (
            ("pressure", PRESSURE_UNITS),
            ("hemoglobin", HEMOGLOBIN_UNITS),
            ("fibrinogen", FIBRINOGEN_UNITS),
            ("platelets", PLATELET_UNITS),
        ):
            if getattr(self, field) not in allowed:
                raise InputError(field, f"must be one of {', '.join(allowed)}, got {getattr(self, field)!r}")
        return self


US = UnitPreferences()
SI = UnitPreferences(pressure="kPa", hemoglobin="g/L", fibrinogen="g/L", platelets="10⁹/L")


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
    if unit == "mmHg" and prefs.pressure == "kPa":
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
