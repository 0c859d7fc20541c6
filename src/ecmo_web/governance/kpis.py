"""The bridge to the program KPIs (``ecmo_core.quality.KPIS`` and the loader ``ecmo_web.quality.data.load``, built
by the quality app).

A QI measure stores a KPI's key. A *computed* measure takes its points from the KPI, week by week: the program's
records are loaded once for the whole span and the KPI is computed for each complete week from the project's
start (a week still running would give a misleading value). While the KPI registry is not installed,
:func:`keys` returns None, measures cannot be computed and hold only the data points entered by hand.

Both modules are looked up here, and only here, so that governance works with or without the quality app.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from ecmo_web.timezones import program_tz

WEEK = dt.timedelta(days=7)


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _registry() -> Any:
    return _module("ecmo_core.quality")


def keys() -> frozenset[str] | None:
    """The known KPI keys, or None when no KPI registry is installed (any well-formed key is then accepted)."""
    module = _registry()
    if module is None:
        return None
    return frozenset(d.key for d in module.KPIS)


def label(key: str) -> str:
    module = _registry()
    if module is not None:
        for d in module.KPIS:
            if d.key == key:
                return str(d.label)
    return key.replace("_", " ").replace(".", " ").capitalize()


def can_compute() -> bool:
    return _registry() is not None and _module("ecmo_web.quality.data") is not None


def weekly(measure: Any, now: dt.datetime) -> list[tuple[dt.date, float]]:
    """The measure's KPI for each complete week from the project's start to ``now``: (first day, value); weeks in
    which the KPI has no value (no denominator) are left out."""
    core, data = _registry(), _module("ecmo_web.quality.data")
    if core is None or data is None or not measure.kpi_key:
        return []
    program = measure.project.program
    tz = program_tz(program)
    start = dt.datetime.combine(measure.project.started_on, dt.time(0, 0), tzinfo=tz).astimezone(dt.UTC)
    weeks = int((now - start) / WEEK)
    if weeks < 1:
        return []
    end = start + weeks * WEEK
    records = data.load(program, core.Period(start, end), now=now)
    out = []
    for i in range(weeks):
        period = core.Period(start + i * WEEK, start + (i + 1) * WEEK)
        (value,) = core.compute_kpis(records, period, keys=[measure.kpi_key])
        if value.value is not None:
            out.append(((start + i * WEEK).astimezone(tz).date(), float(value.value)))
    return out
