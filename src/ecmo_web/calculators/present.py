"""How calculators and their results read on screen: titles, groups, field labels with units, summaries."""

from __future__ import annotations

from typing import Any

from ecmo_core import units
from ecmo_core.calc import calculator_names, get_calculator
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


def grouped() -> list[tuple[str, list[tuple[str, str]]]]:
    """[(group title, [(name, title), …]), …] in the order of GROUP_TITLES."""
    groups: dict[str, list[tuple[str, str]]] = {key: [] for key in GROUP_TITLES}
    for name in calculator_names():
        groups.setdefault(group_of(name), []).append((name, title(name)))
    order = {name: i for i, name in enumerate(TITLES)}
    return [
        (GROUP_TITLES.get(key, key), sorted(items, key=lambda item: (order.get(item[0], 99), item[1])))
        for key, items in groups.items()
        if items
    ]


def title(name: str) -> str:
    return TITLES.get(name) or label(name)


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


def summarise(calculator: str, result: Any, not_computed_reason: str = "") -> str:
    """One line: "RESP 4 · class II · 76 % hospital survival", or the main numbers of a model."""
    if result is None:
        return f"{title(calculator)}: not computed ({not_computed_reason or 'no reason given'})"
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
        shown = ", ".join(f"{label(k)} {_fmt(v)}" for k, v in numbers[:3])
        return f"{title(calculator)}: {shown}" if shown else title(calculator)
    if isinstance(result, int | float):
        return f"{title(calculator)}: {_fmt(result, 3)}"
    return title(calculator)
