"""Every surveillance setting in clinical words: its label, the parameter whose unit it takes, its evidence.

The settings themselves (defaults, ranges, sources) live in :mod:`ecmo_core.surveillance.config`; this module
says how a director reads them. ``words(section, name)`` gives a :class:`SettingWords`: a label ("Alert below"),
the parameter code whose local unit a pressure takes (so a kPa program sees the post-oxygenator PO2 threshold in
kPa), and whether a fraction is shown in %. ``source_words`` turns a developer's source note ("reference §1.2
[○]; core-api §4") into what it means clinically ("common practice, no primary source (a site default);
ECMO Steward default"), never a document section number.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class SettingWords(NamedTuple):
    label: str
    parameter: str | None = None  # a parameter code: the setting is shown in that parameter's local unit
    percent: bool = False  # a fraction 0–1 shown and entered in %


SECTION_TITLES: dict[str, str] = {
    "engine": "All rules: how readings are judged",
}
"""Titles of sections that are not a rule (a rule's section is titled by the rule's own title)."""

_WORDS: dict[str, SettingWords] = {
    "engine.median_window_min": SettingWords("Window of the running median"),
    "engine.min_window_samples": SettingWords("Fewest readings in a median"),
    "engine.device_fresh_min": SettingWords("Console reading counts as current for"),
    "engine.check_max_age_min": SettingWords("Hourly-check value counts as current for"),
    "engine.min_baseline_samples": SettingWords("Fewest readings in a baseline"),
    "engine.pairing_tolerance_s": SettingWords("Pre- and post-oxygenator pressures paired within"),
    "engine.min_valid_flow_l_min": SettingWords("Flow below this is a probe dropout (ignored)"),
    "oxygenator.delta_p_rise.enabled": SettingWords("Rule switched on"),
    "oxygenator.delta_p_rise.rise_fraction": SettingWords("Alert at a rise over baseline of", percent=True),
    "oxygenator.delta_p_rise.flow_change_fraction": SettingWords(
        "Flow counts as changed (then ΔP/flow is judged) beyond", percent=True
    ),
    "oxygenator.delta_p_rise.baseline_hours": SettingWords(
        "Baseline: first hours after the oxygenator is fitted"
    ),
    "oxygenator.delta_p_rise.min_baseline_delta_p_mmhg": SettingWords(
        "Smallest baseline ΔP a relative rise is judged on", "membrane_delta_p_mmhg"
    ),
    "oxygenator.post_po2_low.enabled": SettingWords("Rule switched on"),
    "oxygenator.post_po2_low.threshold_mmhg": SettingWords("Alert below", "post_oxygenator_po2_mmhg"),
    "oxygenator.post_po2_low.min_fdo2": SettingWords("Judged only at an FdO2 of at least", "fdo2"),
    "oxygenator.post_po2_low.gas_max_age_h": SettingWords("Post-oxygenator gas counts for"),
    "pump.flow_per_rpm_fall.enabled": SettingWords("Rule switched on"),
    "pump.flow_per_rpm_fall.fall_fraction": SettingWords("Alert at a fall below baseline of", percent=True),
    "pump.flow_per_rpm_fall.baseline_hours": SettingWords(
        "Baseline: first hours after the pump head is fitted"
    ),
    "pump.flow_per_rpm_fall.speed_tolerance_rpm": SettingWords("Counts as the baseline speed within"),
    "access.pressure_low.enabled": SettingWords("Rule switched on"),
    "access.pressure_low.threshold_mmhg": SettingWords(
        "Alert when more negative than", "access_pressure_mmhg"
    ),
    "hemolysis.pfhb_high.enabled": SettingWords("Rule switched on"),
    "hemolysis.pfhb_high.warning_mg_dl": SettingWords("Warning above", "plasma_free_hb_mg_dl"),
    "hemolysis.pfhb_high.critical_mg_dl": SettingWords("Critical above", "plasma_free_hb_mg_dl"),
    "hemolysis.pfhb_high.max_age_h": SettingWords("A plasma free Hb result counts for"),
    "recirculation.high.enabled": SettingWords("Rule switched on"),
    "recirculation.high.threshold_fraction": SettingWords("Alert above", "recirculation_fraction"),
    "recirculation.high.max_age_h": SettingWords("Saturations count for"),
    "recirculation.high.pairing_min": SettingWords("Pre- and post-oxygenator saturations paired within"),
    "recirculation.high.min_saturation_gap": SettingWords(
        "Smallest post-oxygenator minus mixed-venous SO2 gap judged", percent=True
    ),
    "anticoagulation.out_of_range.enabled": SettingWords("Rule switched on"),
    "anticoagulation.out_of_range.anti_xa_max_age_h": SettingWords("An anti-Xa result counts for"),
    "anticoagulation.out_of_range.aptt_max_age_h": SettingWords("An aPTT result counts for"),
    "anticoagulation.out_of_range.act_max_age_h": SettingWords("An ACT result counts for"),
    "air.detected.enabled": SettingWords("Rule switched on"),
    "documentation.check_overdue.enabled": SettingWords("Rule switched on"),
    "documentation.check_overdue.overdue_min": SettingWords("Check overdue after"),
    "documentation.check_overdue.resolve_on_next_check": SettingWords(
        'Resolve a cleared "check overdue" alert when the next check is recorded'
    ),
}


def words(section: str, name: str) -> SettingWords:
    """How ``section.name`` reads on a settings page; a setting not listed here reads as its name in words."""
    found = _WORDS.get(f"{section}.{name}")
    if found is not None:
        return found
    text = name.replace("_", " ")
    return SettingWords(text[:1].upper() + text[1:])


_MARKS = {
    "✔": "published source",
    "◐": "secondary source (a named guideline)",
    "○": "common practice, no primary source (a site default)",
}
_DOCUMENTS = {
    "core-api": "ECMO Steward default",
    "reference": "clinical literature review",
    "demo-scenarios": "console behaviour (a disconnected flow probe reads 0)",
    "device-data": "console data conventions",
}


def source_words(source: str) -> str:
    """A source note in clinical words: evidence marks spelled out, no document or section numbers."""
    parts: list[str] = []
    for piece in source.split(";"):
        piece = piece.strip()
        mark = re.search(r"\[([✔◐○])[^\]]*\]", piece)
        document = re.match(r"([a-z-]+) §[\d.]+", piece)
        if mark is not None:
            text = _MARKS[mark.group(1)]
        elif document is not None:
            text = _DOCUMENTS.get(document.group(1), "project documentation")
        else:
            text = piece
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)
