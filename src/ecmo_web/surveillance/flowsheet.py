"""The flowsheet: one ECMO day hour by hour, as ICU nurses chart it.

Columns are the hours of one calendar day in the program's time zone (23 or 25 of them on a daylight-saving
change); ECMO day 0 is the local calendar day flow started (as rounds count it). Three sections of rows:

- **Hourly check**: the values and inspection items of the check recorded in that hour (the latest current
  version when there are several), with its time and who recorded it;
- **Console and monitor**: the median per hour of each parameter sent by a console, a monitor or entered by
  hand outside a check (a median, not a mean: one probe dropout does not move it);
- **Labs**: the result drawn in that hour (the latest, if two).

Values are shown in the program's units (``ecmo_core.units``); an hour without a value is blank. Three queries
whatever the length of the run: the samples of the day, the checks of the day, and nothing per hour or per row.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from ecmo_core import units
from ecmo_core.surveillance.timeline import DELTA_P
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import CHECK, LAB, CircuitCheck, Sample
from ecmo_web.timezones import program_tz

# (code, clinical label) in the order a perfusionist reads the circuit, then the patient.
TELEMETRY = (
    ("blood_flow_l_min", "Flow"),
    ("pump_speed_rpm", "Pump speed"),
    ("access_pressure_mmhg", "Access pressure"),
    ("pre_oxygenator_pressure_mmhg", "Pre-oxygenator pressure"),
    ("post_oxygenator_pressure_mmhg", "Post-oxygenator pressure"),
    (DELTA_P, "Membrane ΔP"),
    ("sweep_gas_l_min", "Sweep"),
    ("fdo2", "FdO2"),
    ("pre_oxygenator_so2", "Pre-oxygenator SO2"),
    ("post_oxygenator_so2", "Post-oxygenator SO2"),
    ("hemoglobin_g_dl", "Hb"),
    ("hematocrit", "Hct"),
    ("blood_temperature_c", "Blood temperature"),
    ("mean_arterial_pressure_mmhg", "MAP"),
    ("heart_rate_per_min", "Heart rate"),
    ("spo2", "SpO2"),
    ("cerebral_nirs_left_pct", "Cerebral NIRS left"),
    ("cerebral_nirs_right_pct", "Cerebral NIRS right"),
    ("limb_nirs_pct", "Limb NIRS"),
)
LABS = (
    ("arterial_ph", "pH"),
    ("arterial_po2_mmhg", "PaO2"),
    ("arterial_pco2_mmhg", "PaCO2"),
    ("arterial_so2", "SaO2"),
    ("lactate_mmol_l", "Lactate"),
    ("post_oxygenator_po2_mmhg", "Post-oxygenator PO2"),
    ("post_oxygenator_pco2_mmhg", "Post-oxygenator PCO2"),
    ("hemoglobin_g_dl", "Hb"),
    ("plasma_free_hb_mg_dl", "Plasma free Hb"),
    ("ldh_u_l", "LDH"),
    ("anti_xa_iu_ml", "Anti-Xa"),
    ("aptt_s", "aPTT"),
    ("act_s", "ACT"),
    ("fibrinogen_mg_dl", "Fibrinogen"),
    ("platelets_10e3_ul", "Platelets"),
    ("d_dimer_mg_l", "D-dimer"),
)
# The check's own numbers (stored as parameters of the same name), then what a person looked at.
CHECK_VALUES = (
    ("blood_flow_l_min", "Flow"),
    ("pump_speed_rpm", "Pump speed"),
    ("access_pressure_mmhg", "Access pressure"),
    ("pre_oxygenator_pressure_mmhg", "Pre-oxygenator pressure"),
    ("post_oxygenator_pressure_mmhg", "Post-oxygenator pressure"),
    ("sweep_gas_l_min", "Sweep"),
    ("fdo2", "FdO2"),
    ("blood_temperature_c", "Blood temperature"),
)
# The grid has no room for "Present (dark in, bright out)"; the full words are the cell's tooltip.
COLOUR_SHORT = {"present": "present", "absent": "absent", "not_applicable": "n/a"}
SAFETY = (
    ("hand_crank_present", "hand crank"),
    ("clamps_present", "clamps"),
    ("backup_console_ready", "backup console"),
    ("battery_charged", "battery"),
    ("gas_supply_connected", "gas supply"),
)


@dataclass(frozen=True)
class Hour:
    start: dt.datetime  # aware UTC
    end: dt.datetime
    label: str  # local "HH:00", with the zone's abbreviation on the hours a clock change repeats or skips


@dataclass(frozen=True)
class Cell:
    text: str  # "" when nothing was recorded in the hour
    title: str = ""  # a tooltip: the exact time of a lab, who recorded a check
    flag: bool = False  # highlighted: air in the circuit, a missing safety item


@dataclass
class Row:
    label: str
    unit: str
    cells: list[Cell]  # one per hour


def _row(
    label: str, unit: str, texts: list[str], titles: list[str] | None = None, flags: list[bool] | None = None
) -> Row:
    titles = titles or [""] * len(texts)
    flags = flags or [False] * len(texts)
    return Row(label, unit, [Cell(t, ti, f) for t, ti, f in zip(texts, titles, flags, strict=True)])


@dataclass
class Section:
    title: str
    rows: list[Row]


@dataclass
class Flowsheet:
    day: int
    date: dt.date
    last_day: int
    hours: list[Hour]
    sections: list[Section]
    now_index: int | None = None  # the column of the current hour, when the day shown is today


def local_date(run: EcmoRun, at: dt.datetime) -> dt.date:
    return at.astimezone(program_tz(run.program)).date()


def last_day(run: EcmoRun, now: dt.datetime) -> int:
    """The ECMO day of the run's end (or of ``now``): days are numbered from 0 on the local day flow started."""
    return max(0, (local_date(run, run.ended_at or now) - local_date(run, run.started_at)).days)


def hours_of(date: dt.date, tz: Any) -> list[Hour]:
    """The hours of a local calendar day, as UTC intervals: 24, or 23/25 on a daylight-saving change."""
    start = dt.datetime.combine(date, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    starts = []
    t = start
    while t < end:
        starts.append(t)
        t += dt.timedelta(hours=1)
    local = [s.astimezone(tz) for s in starts]
    clock = [f"{x:%H}:00" for x in local]
    hours = []
    for i, s in enumerate(starts):
        label = clock[i]
        if clock.count(label) > 1 or len(starts) != 24:
            label = f"{label} {local[i].tzname()}"  # 01:00 BST, 01:00 GMT on the autumn change
        hours.append(Hour(s, min(s + dt.timedelta(hours=1), end), label))
    return hours


def _index(hours: list[Hour], at: dt.datetime) -> int | None:
    if not hours or at < hours[0].start or at >= hours[-1].end:
        return None
    return int((at - hours[0].start).total_seconds() // 3600)


def build(run: EcmoRun, *, day: int, now: dt.datetime) -> Flowsheet:
    """The flowsheet of ECMO day ``day`` (0 = the local day flow started). Raises ValueError outside the run."""
    final = last_day(run, now)
    if not 0 <= day <= final:
        raise ValueError(f"must be an ECMO day from 0 to {final}")
    program = run.program
    prefs = program.unit_preferences
    tz = program_tz(program)
    date = local_date(run, run.started_at) + dt.timedelta(days=day)
    hours = hours_of(date, tz)
    since, until = hours[0].start, hours[-1].end
    n = len(hours)

    telemetry: dict[str, list[list[float]]] = {}
    labs: dict[str, list[tuple[dt.datetime, float] | None]] = {}
    rows = Sample.objects.filter(run=run, observed_at__gte=since, observed_at__lt=until).values_list(
        "parameter", "observed_at", "value", "source"
    )
    reported_delta_p = False
    for parameter, at, value, source in rows:
        reported_delta_p = reported_delta_p or parameter == DELTA_P
        i = _index(hours, at)
        if i is None or source == CHECK:  # check values are in the check section
            continue
        if source == LAB:
            cell = labs.setdefault(parameter, [None] * n)
            if cell[i] is None or cell[i][0] <= at:  # type: ignore[index]
                cell[i] = (at, value)
        else:
            telemetry.setdefault(parameter, [[] for _ in range(n)])[i].append(value)

    def text(code: str, value: float) -> str:
        return units.format_local(code, value, prefs, with_unit=False)

    def unit(code: str) -> str:
        shown = units.unit_of(code, prefs)
        return "" if shown in ("pH", "0/1") else shown

    if DELTA_P not in telemetry and "pre_oxygenator_pressure_mmhg" in telemetry:
        pre, post = telemetry["pre_oxygenator_pressure_mmhg"], telemetry.get("post_oxygenator_pressure_mmhg")
        if post is not None:
            computed = [
                [statistics.median(a) - statistics.median(b)] if a and b else []
                for a, b in zip(pre, post, strict=True)
            ]
            telemetry[DELTA_P] = computed
    telemetry_rows = [
        _row(
            label + (" (pre − post)" if code == DELTA_P and not reported_delta_p else ""),
            unit(code),
            [text(code, statistics.median(v)) if v else "" for v in telemetry[code]],
        )
        for code, label in TELEMETRY
        if code in telemetry
    ]
    lab_rows = [
        _row(
            label,
            unit(code),
            [text(code, c[1]) if c else "" for c in labs[code]],
            [f"{c[0].astimezone(tz):%H:%M}" if c else "" for c in labs[code]],
        )
        for code, label in LABS
        if code in labs
    ]
    return Flowsheet(
        day=day,
        date=date,
        last_day=final,
        hours=hours,
        sections=[
            Section("Hourly check", _check_rows(run, hours, prefs, tz)),
            Section("Console and monitor · median of each hour", telemetry_rows),
            Section("Labs · result drawn in the hour", lab_rows),
        ],
        now_index=_index(hours, now),
    )


def _check_rows(run: EcmoRun, hours: list[Hour], prefs: units.UnitPreferences, tz: Any) -> list[Row]:
    n = len(hours)
    chosen: list[CircuitCheck | None] = [None] * n
    checks = CircuitCheck.objects.filter(
        run=run, is_current=True, observed_at__gte=hours[0].start, observed_at__lt=hours[-1].end
    ).select_related("recorded_by")
    for check in checks:
        i = _index(hours, check.observed_at)
        if i is not None and (chosen[i] is None or chosen[i].observed_at <= check.observed_at):  # type: ignore[union-attr]
            chosen[i] = check
    if not any(chosen):
        return []

    def who(c: CircuitCheck) -> str:
        user = c.recorded_by
        if user is None:
            return ""
        initials = "".join(part[0] for part in user.get_full_name().split() if part)
        return initials or user.get_username()

    rows = [
        _row(
            "Checked at · by",
            "",
            [f"{c.observed_at.astimezone(tz):%H:%M} {who(c)}".strip() if c else "" for c in chosen],
            [
                f"{c.recorded_by.get_full_name() or c.recorded_by.get_username()}"
                + (" (amended)" if c.version > 1 else "")
                if c and c.recorded_by
                else ""
                for c in chosen
            ],
        )
    ]
    for code, label in CHECK_VALUES:
        values = [getattr(c, code) if c else None for c in chosen]
        if any(v is not None for v in values):
            rows.append(
                _row(
                    label,
                    units.unit_of(code, prefs),
                    [
                        "" if v is None else units.format_local(code, v, prefs, with_unit=False)
                        for v in values
                    ],
                )
            )
    deltas = [
        c.pre_oxygenator_pressure_mmhg - c.post_oxygenator_pressure_mmhg
        if c and c.pre_oxygenator_pressure_mmhg is not None and c.post_oxygenator_pressure_mmhg is not None
        else None
        for c in chosen
    ]
    if any(d is not None for d in deltas):
        after_post = (
            [r.label for r in rows].index("Post-oxygenator pressure") + 1
            if any(r.label == "Post-oxygenator pressure" for r in rows)
            else len(rows)
        )
        rows.insert(
            after_post,
            _row(
                "Membrane ΔP (pre − post)",
                units.unit_of(DELTA_P, prefs),
                ["" if d is None else units.format_local(DELTA_P, d, prefs, with_unit=False) for d in deltas],
            ),
        )
    heater = [c.heater_set_temperature_c if c else None for c in chosen]
    if any(h is not None for h in heater):
        rows.append(_row("Heater set to", "°C", ["" if h is None else f"{h:.1f}" for h in heater]))
    colour = [c.colour_difference if c else "" for c in chosen]
    rows.append(
        _row(
            "Colour difference across the oxygenator",
            "",
            [COLOUR_SHORT.get(x, x) for x in colour],
            [c.get_colour_difference_display() if c and c.colour_difference else "" for c in chosen],
            # Absent with the sweep on: the oxygenator may not be oxygenating.
            [x == "absent" for x in colour],
        )
    )
    air = [("air" if c.air_in_circuit else "none") if c else "" for c in chosen]
    rows.append(_row("Air in the circuit", "", air, flags=[a == "air" for a in air]))
    for name, label in (("connectors_secure", "Connectors secure"), ("cannula_sites_ok", "Cannula sites")):
        cells = [("yes" if getattr(c, name) else "no") if c else "" for c in chosen]
        if name == "cannula_sites_ok":
            cells = [{"yes": "OK", "no": "not OK"}.get(x, x) for x in cells]
        rows.append(_row(label, "", cells, flags=[x in ("no", "not OK") for x in cells]))
    safety = []
    for c in chosen:
        if c is None:
            safety.append("")
            continue
        missing = [label for name, label in SAFETY if not getattr(c, name)]
        safety.append("all" if not missing else "missing: " + ", ".join(missing))
    rows.append(_row("Safety equipment", "", safety, flags=[s.startswith("missing") for s in safety]))
    return rows
