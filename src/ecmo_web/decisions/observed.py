"""What a criteria table shows in its "Observed" column: the values judged, and where and when they came from.

Two places hold the values a criterion is judged on:

- **entered with the decision**: the worst values before it, typed on the form (P/F 68 mmHg for 7 h; pH 7.22
  with PaCO2 72 mmHg for 4 h). An EOLIA arm judges several of them together, so the core's criterion carries no
  single observed number; the page composes it from the decision's content (``ENTERED``).
- **the run's record**: the nearest blood gas, lab or monitor value of the same thing (``RECORD``), with its
  time and source: the newest in the 24 h up to the decision, or, when there is none, the first in the 6 h
  after it (said so: a value taken after the decision is not what the team saw). One query per table.

Values are shown in the program's units (``ecmo_core.units``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_core import units
from ecmo_core.surveillance import PARAMETERS
from ecmo_web.runs.models import EcmoRun
from ecmo_web.timezones import to_local

BEFORE = dt.timedelta(hours=24)
AFTER = dt.timedelta(hours=6)

# Criterion key → (label, content field, unit) composing the entered value; a unit that is a parameter code means
# "in the program's units for that parameter" (a P/F ratio is PaO2 over a fraction: in the unit of PaO2).
ENTERED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "pf_below_50_over_3h": (("P/F", "pf_ratio_mmhg", "arterial_po2_mmhg"), ("for", "pf_hours", "h")),
    "pf_below_80_over_6h": (("P/F", "pf_ratio_mmhg", "arterial_po2_mmhg"), ("for", "pf_hours", "h")),
    "hypercapnic_acidosis_over_6h": (
        ("pH", "arterial_ph", ""),
        ("PaCO2", "paco2_mmhg", "arterial_pco2_mmhg"),
        ("for", "hypercapnia_hours", "h"),
    ),
}
# Criterion key → the record's parameters (core-api §4 codes) that show the same thing.
RECORD: dict[str, tuple[str, ...]] = {
    "pf_below_50_over_3h": ("arterial_po2_mmhg",),
    "pf_below_80_over_6h": ("arterial_po2_mmhg",),
    "hypercapnic_acidosis_over_6h": ("arterial_ph", "arterial_pco2_mmhg"),
    "pao2_mmhg": ("arterial_po2_mmhg",),
    "paco2_mmhg": ("arterial_pco2_mmhg",),
    "sao2": ("arterial_so2",),
    "arterial_ph": ("arterial_ph",),
    "spo2": ("spo2",),
    "lactate_mmol_l": ("lactate_mmol_l",),
    "mean_arterial_pressure_mmhg": ("mean_arterial_pressure_mmhg",),
    "blood_flow_l_min": ("blood_flow_l_min",),
}
NAMES = {
    "arterial_po2_mmhg": "PaO2",
    "arterial_pco2_mmhg": "PaCO2",
    "arterial_so2": "SaO2",
    "arterial_ph": "pH",
    "spo2": "SpO2",
    "lactate_mmol_l": "lactate",
    "mean_arterial_pressure_mmhg": "MAP",
    "blood_flow_l_min": "ECMO flow",
}


def _source(source: str) -> str:
    from ecmo_web.surveillance.models import is_device_source

    if is_device_source(source):
        return "console or monitor"
    return {"lab": "lab", "check": "hourly check", "manual": "entered by hand"}.get(source, source)


def entered_text(key: str, content: dict[str, Any], prefs: units.UnitPreferences) -> str:
    """The values typed with the decision for criterion ``key`` ("P/F 68 mmHg for 7 h"), or ""."""
    parts: list[str] = []
    for label, name, unit in ENTERED.get(key, ()):
        value = content.get(name)
        if value is None:
            continue
        if unit in PARAMETERS:  # a stored parameter: shown in the program's units
            text = f"{label} {units.format_local(unit, float(value), prefs)}"
        else:
            text = f"{label} {float(value):g} {unit}".rstrip()
        parts.append((" " if label == "for" else ", ") + text if parts else text)
    return "".join(parts)


class Record:
    """The run's values near a decision, loaded once for every criterion of its tables."""

    def __init__(self, run: EcmoRun, at: dt.datetime, keys: set[str]) -> None:
        from ecmo_web.surveillance.models import Sample

        self.run, self.at = run, at
        self.prefs = run.program.unit_preferences
        wanted = sorted({p for k in keys for p in RECORD.get(k, ())})
        self.before: dict[str, tuple[float, dt.datetime, str]] = {}
        self.after: dict[str, tuple[float, dt.datetime, str]] = {}
        if not wanted:
            return
        rows = (
            Sample.objects.filter(
                run=run, parameter__in=wanted, observed_at__gte=at - BEFORE, observed_at__lte=at + AFTER
            )
            .order_by("observed_at")
            .values_list("parameter", "value", "observed_at", "source")
        )
        for parameter, value, observed_at, source in rows:
            if observed_at <= at:
                self.before[parameter] = (value, observed_at, source)  # ordered: the newest wins
            else:
                self.after.setdefault(parameter, (value, observed_at, source))  # the first after

    def lines(self, key: str) -> list[str]:
        """One line per source and time: "pH 7.22 · PaCO2 9.6 kPa — lab, 2026-11-28 09:05 (2 h 35 min after)"."""
        grouped: dict[tuple[dt.datetime, str], list[str]] = {}
        for parameter in RECORD.get(key, ()):
            found = self.before.get(parameter) or self.after.get(parameter)
            if found is None:
                continue
            value, observed_at, source = found
            text = f"{NAMES[parameter]} {units.format_local(parameter, value, self.prefs)}"
            grouped.setdefault((observed_at, source), []).append(text)
        out = []
        for (observed_at, source), texts in sorted(grouped.items()):
            shown = to_local(observed_at, self.run.program)
            assert shown is not None
            when = f"{shown:%Y-%m-%d %H:%M}"
            gap = observed_at - self.at
            if gap > dt.timedelta(0):
                minutes = int(gap.total_seconds() // 60)
                when += f" ({minutes // 60} h {minutes % 60:02d} min after the decision)"
            out.append(f"{' · '.join(texts)} — {_source(source)}, {when}")
        return out
