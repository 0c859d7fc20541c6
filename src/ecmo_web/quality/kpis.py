"""KPIs for a program: parse the period, load the records once, filter by mode and unit, compute with
``ecmo_core.quality``; and the same per month (or week) for the dashboard's charts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from ecmo_core import quality as core
from ecmo_core.errors import InputError
from ecmo_web.accounts.models import Program
from ecmo_web.quality.data import load
from ecmo_web.runs.models import Mode

MODE_FILTERS: dict[str, str] = {
    "vv": "V-V",
    "va": "V-A",
    "hybrid": "Hybrid and other (V-AV, VV-A, V-PA)",
    **{m.value: m.label for m in Mode if m.value not in ("vv", "va")},
}


def parse_moment(value: str, field: str, program: Program) -> dt.datetime:
    """A date (midnight in the program's time zone) or an ISO 8601 date-time with a time zone."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: "give a date (YYYY-MM-DD) or a date-time with a time zone"})
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(program.time_zone)).astimezone(dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: "give a date (YYYY-MM-DD) or a date-time with a time zone"}) from None
    if moment.tzinfo is None:
        raise ValidationError({field: "a date-time must include a time zone"})
    return moment


def parse_period(start: str, end: str, program: Program) -> core.Period:
    try:
        return core.Period(parse_moment(start, "start", program), parse_moment(end, "end", program))
    except InputError as exc:
        raise ValidationError({exc.field: exc.message}) from exc


def _check_mode(mode: str) -> None:
    if mode and mode not in MODE_FILTERS:
        raise ValidationError({"mode": f"use one of {', '.join(MODE_FILTERS)}"})


def compute_for_program(
    program: Program, period: core.Period, *, mode: str = "", unit: str = "", now: dt.datetime
) -> list[core.KpiValue]:
    _check_mode(mode)
    data = core.filter_runs(load(program, period, now=now), mode=mode, unit=unit)
    return core.compute_kpis(data, period)


@dataclass(frozen=True)
class Series:
    """One KPI over consecutive periods (for a chart)."""

    key: str
    label: str
    unit: str
    starts: list[dt.datetime]
    values: list[float | None]


def series_for_program(
    program: Program, period: core.Period, *, step_days: int, mode: str = "", unit: str = "", now: dt.datetime
) -> list[Series]:
    """Every KPI over consecutive ``step_days`` periods inside ``period``, from one load of the records."""
    _check_mode(mode)
    data = core.filter_runs(load(program, period, now=now), mode=mode, unit=unit)
    parts = core.periods(period.start, period.end, step_days=step_days)
    rows = [core.compute_kpis(data, p) for p in parts]
    return [
        Series(
            key=definition.key,
            label=definition.label,
            unit=definition.unit,
            starts=[p.start for p in parts],
            values=[row[i].value for row in rows],
        )
        for i, definition in enumerate(core.KPIS)
    ]


def doc_page(key: str) -> str:
    """The docs/kpis page that defines ``key`` (survival by mode and the parts of the perfusion involvement index
    share their family's page)."""
    for family in ("survival_to_decannulation", "survival_to_discharge"):
        if key.startswith(family):
            return family
    if key in (
        "rounds_with_perfusion",
        "decisions_with_perfusionist",
        "transports_with_perfusion",
        "ambulation_with_perfusion",
        "mm_cases_with_perfusion_input",
    ):
        return "perfusion_involvement_index"
    return key
