"""How calculators and their results read on screen: titles, groups, field labels with units, summaries.

Calculators take and return canonical values (mmHg, g/dL …). With a program's units (``prefs``), gas pressures, Hb,
fibrinogen and platelets read in the program's units wherever a calculation is shown: the calculator page's result,
a saved result's summary and inputs on the decision page, the decision form's list of saved results
(``local_parameter`` says which keyword converts like which registry parameter). Without ``prefs`` they read
canonical, as the API gives them.
"""

from __future__ import annotations

import json
from typing import Any

from ecmo_core import units
from ecmo_core.calc import calculator_names, describe, get_calculator
from ecmo_core.surveillance.parameters import PARAMETERS

TITLES: dict[str, str] = {
    "resp": "RESP score",
    "save": "SAVE score",
    "preserve": "PRESERVE score",
    "preset": "PRESET score",
    "encourage": "ENCOURAGE score",
    "murray_lung_injury": "Murray lung injury score",
    "sofa": "SOFA score",
    "vv_steady_state": "VV oxygenation: steady state",
    "vv_required_blood_flow": "VV oxygenation: blood flow for a target SaO2",
    "va_mixed_so2": "VA: mixed saturation",
    "va_upper_body_so2": "VA: upper-body saturation (watershed)",
    "default_targets": "Anticoagulation: default targets",
    "classify": "Anticoagulation: classify a result",
    "titrate": "Anticoagulation: nomogram titration",
}

GROUP_TITLES: dict[str, str] = {
    "ecmo_core.scores": "Scores",
    "ecmo_core.oxygenation": "Oxygenation models",
    "ecmo_core.anticoagulation": "Anticoagulation",
    "ecmo_core.physiology": "Physiology",
}

# Unit suffixes of core-api names → how they read on screen (longest first when matching).
UNITS: dict[str, str] = {
    "_ml_cmh2o": "mL/cmH2O",
    "_ug_kg_min": "µg/kg/min",
    "_units_kg_h": "U/kg/h",
    "_l_min_m2": "L/min/m²",
    "_ml_dl_mmhg": "mL/dL/mmHg",
    "_10e9_l": "10⁹/L",
    "_10e3_ul": "10³/µL",
    "_ml_day": "mL/day",
    "_kg_m2": "kg/m²",
    "_l_min": "L/min",
    "_ml_min": "mL/min",
    "_ml_dl": "mL/dL",
    "_g_dl": "g/dL",
    "_mg_dl": "mg/dL",
    "_mmol_l": "mmol/L",
    "_umol_l": "µmol/L",
    "_iu_ml": "IU/mL",
    "_ml_g": "mL/g",
    "_j_min": "J/min",
    "_cmh2o": "cmH2O",
    "_mmhg": "mmHg",
    "_hours": "h",
    "_days": "days",
    "_years": "years",
    "_pct": "%",
    "_min": "/min",
    "_kg": "kg",
    "_cm": "cm",
    "_m2": "m²",
    "_ml": "mL",
    "_l": "L",
}

# Words that should keep their clinical capitalisation in labels.
WORDS: dict[str, str] = {
    "paco2": "PaCO2",
    "pao2": "PaO2",
    "fio2": "FiO2",
    "fdo2": "FdO2",
    "so2": "SO2",
    "peep": "PEEP",
    "bmi": "BMI",
    "cns": "CNS",
    "ecmo": "ECMO",
    "vo2": "VO2",
    "hb": "Hb",
    "pf": "P/F",
    "ph": "pH",
    "sofa": "SOFA",
    "bp": "BP",
    "cao2": "CaO2",
    "cvo2": "CvO2",
    "po2": "PO2",
    "pco2": "PCO2",
    "vt": "VT",
    "co2": "CO2",
    "o2": "O2",
    "fick": "Fick",
}


def group_of(name: str) -> str:
    return str(getattr(get_calculator(name), "__module__", ""))


def grouped(prefs: units.UnitPreferences = units.US) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group title, [(name, title), …]), …] in the order of GROUP_TITLES, titles in ``prefs``' units."""
    groups: dict[str, list[tuple[str, str]]] = {key: [] for key in GROUP_TITLES}
    for name in calculator_names():
        groups.setdefault(group_of(name), []).append((name, title(name, prefs)))
    order = {name: i for i, name in enumerate(TITLES)}
    return [
        (GROUP_TITLES.get(key, key), sorted(items, key=lambda item: (order.get(item[0], 99), item[1])))
        for key, items in groups.items()
        if items
    ]


def title(name: str, prefs: units.UnitPreferences = units.US) -> str:
    """The clinical title of a calculator ("VV oxygenation: blood flow for a target SaO2", "P/F ratio (kPa)")."""
    return TITLES.get(name) or label_in(name, prefs)


# Calculator keywords that are no registry parameter but convert like one: a P/F ratio is PaO2 over a fraction, in
# the unit of PaO2 (as on the decision forms); a PO2 is a blood gas.
CONVERTS_LIKE: dict[str, str] = {"pf_ratio_mmhg": "arterial_po2_mmhg", "po2_mmhg": "arterial_po2_mmhg"}


def local_parameter(keyword: str, prefs: units.UnitPreferences) -> str | None:
    """The registry parameter whose program unit a calculator keyword is typed and shown in (``pao2_mmhg`` → PaO2
    in kPa), or None when the program reads it in the calculator's own unit. Fractions stay fractions (the
    calculators' convention, said beside the box)."""
    from ecmo_web.calculators.prefill import TELEMETRY

    parameter = TELEMETRY.get(keyword) or CONVERTS_LIKE.get(keyword)
    if parameter is None and keyword in PARAMETERS:
        parameter = keyword
    if parameter is None or parameter not in PARAMETERS or PARAMETERS[parameter].unit == "fraction":
        return None
    if units.unit_of(parameter, prefs) == units.unit_of(parameter, units.US):
        return None
    if keyword == "platelets_10e9_l":  # already the SI number
        return None
    return parameter


def _base(name: str) -> str:
    """A keyword's clinical name without its unit: "PaCO2", "Hb", "Age"."""
    text = label(name)
    return text.rsplit(" (", 1)[0] if text.endswith(")") else text


def component_label(name: str) -> str:
    """A score item's clinical name: ``paco2_mmhg`` → "PaCO2", ``respiration`` → "Respiration"."""
    return _base(name)


def unit_in(name: str, prefs: units.UnitPreferences) -> str:
    """The unit a keyword reads in for ``prefs`` ("kPa", "g/L", "years"; "" for plain numbers and fractions)."""
    parameter = local_parameter(name, prefs)
    if parameter is not None:
        return units.unit_of(parameter, prefs)
    if is_fraction(name):
        return ""
    text = label(name)
    return text.rsplit(" (", 1)[1][:-1] if text.endswith(")") else ""


def label_in(name: str, prefs: units.UnitPreferences) -> str:
    """``label`` in the program's units: ``paco2_mmhg`` → "PaCO2 (kPa)" where gases read in kPa."""
    parameter = local_parameter(name, prefs)
    if parameter is None:
        return label(name)
    return f"{_base(name)} ({units.unit_of(parameter, prefs)})"


def local_number(name: str, value: float, prefs: units.UnitPreferences) -> float:
    """A keyword's canonical value as the number shown in the program's units (72 mmHg → 9.6 kPa)."""
    parameter = local_parameter(name, prefs)
    return value if parameter is None else units.to_local(parameter, value, prefs)


def value_text(name: str, value: Any, prefs: units.UnitPreferences = units.US) -> str:
    """A keyword's value in words and the program's units: "8.53 kPa", "94 g/L", "52 years", "yes", "viral
    pneumonia", "0.88" (fractions stay fractions, as the calculators take them)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        parameter = local_parameter(name, prefs)
        number = units.entry_text(parameter, float(value), prefs) if parameter is not None else _fmt(value, 3)
        unit = unit_in(name, prefs)
        return f"{number} {unit}" if unit else number
    if isinstance(value, str):
        return value.replace("_", " ")
    if isinstance(value, list | tuple):
        return ", ".join(value_text(name, v, prefs) for v in value) or "none"
    return json.dumps(value, ensure_ascii=False)


def input_rows(
    arguments: Any, prefs: units.UnitPreferences = units.US, calculator: str | None = None
) -> list[tuple[str, str]]:
    """A saved calculation's inputs as (clinical name, value with its unit) in the program's units, in the order of
    the calculator's own inputs (a stored JSON object keeps no order on PostgreSQL), any others after them."""
    if not isinstance(arguments, dict):
        return []
    order: dict[str, int] = {}
    if calculator is not None and calculator in calculator_names():
        order = {str(entry["name"]): i for i, entry in enumerate(describe(calculator))}
    keys = sorted(arguments, key=lambda k: (order.get(str(k), len(order)), str(k)))
    return [(_base(str(k)), value_text(str(k), arguments[k], prefs)) for k in keys]


def label(name: str) -> str:
    """``paco2_mmhg`` → "PaCO2 (mmHg)"; ``recirculation_fraction`` → "Recirculation fraction (0–1)"."""
    base, unit = name, ""
    for suffix in sorted(UNITS, key=len, reverse=True):
        if name.endswith(suffix):
            base, unit = name[: -len(suffix)], UNITS[suffix]
            break
    words = [WORDS.get(w, w) for w in base.split("_")]
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    if name in PARAMETERS:  # the parameter registry's clinical name ("Post-oxygenator SO2")
        text = units.label(name)
    if is_fraction(name):
        unit = "fraction 0–1"
    return f"{text} ({unit})" if unit else text


def is_fraction(name: str) -> bool:
    return name.endswith(("so2", "fio2", "fdo2", "_fraction")) or name in {"fio2", "fdo2", "hematocrit"}


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def summarise(
    calculator: str, result: Any, not_computed_reason: str = "", prefs: units.UnitPreferences = units.US
) -> str:
    """One line: "RESP 4 · class II · 76 % hospital survival", or the main numbers of a model, in ``prefs``' units
    ("P/F ratio (kPa): 13.3")."""
    if result is None:
        return f"{title(calculator, prefs)}: not computed ({not_computed_reason or 'no reason given'})"
    if isinstance(result, dict) and "points" in result and "name" in result:
        parts = [f"{result['name']} {_fmt(result['points'])}"]
        if result.get("risk_class"):
            parts.append(f"class {result['risk_class']}")
        if result.get("predicted_survival_pct") is not None:
            parts.append(f"{_fmt(result['predicted_survival_pct'], 0)} % {result.get('outcome', '')}".strip())
        return " · ".join(parts)
    if isinstance(result, dict):
        numbers = [
            (k, v) for k, v in result.items() if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        shown = ", ".join(f"{label_in(k, prefs)} {_fmt(local_number(k, v, prefs))}" for k, v in numbers[:3])
        return f"{title(calculator, prefs)}: {shown}" if shown else title(calculator, prefs)
    if isinstance(result, int | float) and not isinstance(result, bool):
        return f"{title(calculator, prefs)}: {_fmt(float(local_number(calculator, result, prefs)), 3)}"
    return title(calculator, prefs)
