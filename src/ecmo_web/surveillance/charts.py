"""Data for the trends page: parameter groups on one time axis, baselines per component, target bands, markers.

Series are averaged into time buckets in SQL (``queries.bucketed``; over more than a day from the per-minute
rollups, ``queries.bucketed_from_rollups``), so the whole of a month-long run costs the same as an hour. Derived series (ΔP, ΔP/flow, flow per 1000 rpm) are computed per bucket, not per sample. Baselines are
those of the rules: the median of the first hours of data after each oxygenator or pump head was fitted, computed
by ``ecmo_core`` on just those hours of data.

Charts you can trust (issue 11 §5): each axis carries one quantity with a fixed range (``GROUPS``), widened to a
round number only when a value or a target leaves it; ΔP and ΔP/Q are separate charts; the run's targets come as
bands; everything is in the program's units, converted in one place (``local_unit``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, NamedTuple

from django.db.models import Q

from ecmo_core import units
from ecmo_core.surveillance import PARAMETERS, RULES, SurveillanceConfig
from ecmo_core.surveillance import Sample as CoreSample
from ecmo_core.surveillance.timeline import DELTA_P, NoReading, Timeline, baseline_window, median_between
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun, RunTarget
from ecmo_web.surveillance import queries
from ecmo_web.surveillance.evaluation import config_of, setting_at
from ecmo_web.surveillance.models import AlertTransition, CircuitCheck, Sample, core_source

RANGES: list[tuple[str, str]] = [("1h", "1 h"), ("6h", "6 h"), ("24h", "24 h"), ("run", "Whole run")]
_SPANS = {"1h": dt.timedelta(hours=1), "6h": dt.timedelta(hours=6), "24h": dt.timedelta(hours=24)}
TARGET_POINTS = 600


class Axis(NamedTuple):
    """One y axis: one quantity, a fixed range per shown unit (widened only when data or a target leave it)."""

    label: str  # the quantity in clinical words, e.g. "Flow"; the unit is added from the program's settings
    unit_of: str  # a series code whose unit the axis shows (``local_unit``)
    ranges: dict[str, tuple[float, float]]  # shown unit → (low, high); the first entry is the stored unit


class Series(NamedTuple):
    code: str  # a parameter code, or a derived series (delta_p, resistance, flow_per_krpm, *_baseline)
    label: str
    axis: int  # 0 = left, 1 = right
    colour: str
    points: bool  # drawn as dots (sparse labs), not a line


class Group(NamedTuple):
    id: str
    title: str
    axes: tuple[Axis, ...]
    series: tuple[Series, ...]


# Fixed ranges: a chart of a steady circuit must look steady. Flow noise of ±0.05 L/min is a flat line on 0–7 L/min,
# not a saw-tooth across the whole height. Ranges are what an adult circuit shows in routine use (the clinical
# reference's usual values), rounded; a value outside widens the axis to the next round number, never narrows it.
_PRESSURE = {"mmHg": (-150.0, 400.0), "kPa": (-20.0, 55.0)}
_PERCENT = {"%": (40.0, 100.0)}
GROUPS: tuple[Group, ...] = (
    Group(
        "flow",
        "Blood flow and pump speed",
        (
            Axis("Flow", "blood_flow_l_min", {"L/min": (0.0, 7.0)}),
            Axis("Pump speed", "pump_speed_rpm", {"rpm": (0.0, 5000.0)}),
        ),
        (
            Series("blood_flow_l_min", "Flow", 0, "#0b5cad", False),
            Series("pump_speed_rpm", "Pump speed", 1, "#6a1b9a", False),
        ),
    ),
    Group(
        "pressures",
        "Circuit pressures",
        (Axis("Pressure", "access_pressure_mmhg", _PRESSURE),),
        (
            Series("access_pressure_mmhg", "Access", 0, "#b3161b", False),
            Series("pre_oxygenator_pressure_mmhg", "Pre-oxygenator", 0, "#0b5cad", False),
            Series("post_oxygenator_pressure_mmhg", "Post-oxygenator", 0, "#1b7f3b", False),
        ),
    ),
    Group(
        "delta_p",
        "Membrane ΔP, with the oxygenator's baseline",
        (Axis("ΔP", "delta_p", {"mmHg": (0.0, 100.0), "kPa": (0.0, 14.0)}),),
        (
            Series("delta_p", "ΔP", 0, "#0b5cad", False),
            Series("delta_p_baseline", "ΔP baseline", 0, "#0b5cad", False),
        ),
    ),
    Group(
        "resistance",
        "Membrane resistance ΔP/Q, with the oxygenator's baseline",
        (Axis("ΔP/Q", "resistance", {"mmHg·min/L": (0.0, 25.0), "kPa·min/L": (0.0, 3.5)}),),
        (
            Series("resistance", "ΔP/Q", 0, "#b3161b", False),
            Series("resistance_baseline", "ΔP/Q baseline", 0, "#b3161b", False),
        ),
    ),
    Group(
        "flow_per_rpm",
        "Flow per 1000 rpm, with the pump head's baseline",
        (Axis("Flow per 1000 rpm", "flow_per_krpm", {"L/min": (0.0, 2.0)}),),
        (
            Series("flow_per_krpm", "Flow per 1000 rpm", 0, "#6a1b9a", False),
            Series("flow_per_krpm_baseline", "Baseline", 0, "#6a1b9a", False),
        ),
    ),
    Group(
        "sweep",
        "Sweep gas and FdO2",
        (Axis("Sweep", "sweep_gas_l_min", {"L/min": (0.0, 10.0)}), Axis("FdO2", "fdo2", {"%": (0.0, 100.0)})),
        (
            Series("sweep_gas_l_min", "Sweep", 0, "#1b7f3b", False),
            Series("fdo2", "FdO2", 1, "#9a5b00", False),
        ),
    ),
    Group(
        "saturations",
        "Saturations",
        (Axis("Saturation", "pre_oxygenator_so2", _PERCENT),),
        (
            Series("pre_oxygenator_so2", "Pre-oxygenator SO2", 0, "#0b5cad", False),
            Series("post_oxygenator_so2", "Post-oxygenator SO2", 0, "#ad1457", False),
            Series("spo2", "Patient SpO2", 0, "#1b7f3b", False),
            Series("arterial_so2", "Arterial SO2", 0, "#546e7a", True),
        ),
    ),
    Group(
        "vitals",
        "Patient: mean arterial pressure and heart rate",
        (
            Axis("MAP", "mean_arterial_pressure_mmhg", {"mmHg": (0.0, 150.0), "kPa": (0.0, 20.0)}),
            Axis("Heart rate", "heart_rate_per_min", {"/min": (0.0, 200.0)}),
        ),
        (
            Series("mean_arterial_pressure_mmhg", "MAP", 0, "#b3161b", False),
            Series("heart_rate_per_min", "Heart rate", 1, "#0f2740", False),
        ),
    ),
    Group(
        "gases",
        "Blood gases: oxygen and carbon dioxide",
        (
            Axis("PO2", "post_oxygenator_po2_mmhg", {"mmHg": (0.0, 600.0), "kPa": (0.0, 80.0)}),
            Axis("PCO2", "post_oxygenator_pco2_mmhg", {"mmHg": (0.0, 80.0), "kPa": (0.0, 12.0)}),
        ),
        (
            Series("post_oxygenator_po2_mmhg", "Post-oxygenator PO2", 0, "#b3161b", True),
            Series("arterial_po2_mmhg", "Patient PaO2", 0, "#ef6c00", True),
            Series("post_oxygenator_pco2_mmhg", "Post-oxygenator PCO2", 1, "#546e7a", True),
            Series("arterial_pco2_mmhg", "Patient PaCO2", 1, "#0f2740", True),
        ),
    ),
    Group(
        "temperature",
        "Blood temperature",
        (Axis("Temperature", "blood_temperature_c", {"°C": (30.0, 40.0)}),),
        (Series("blood_temperature_c", "Blood temperature", 0, "#9a5b00", False),),
    ),
    Group(
        "haemolysis",
        "Labs: haemolysis",
        (
            Axis("Plasma free Hb", "plasma_free_hb_mg_dl", {"mg/dL": (0.0, 100.0)}),
            Axis("LDH", "ldh_u_l", {"U/L": (0.0, 2000.0)}),
        ),
        (
            Series("plasma_free_hb_mg_dl", "Plasma free Hb", 0, "#b3161b", True),
            Series("ldh_u_l", "LDH", 1, "#546e7a", True),
        ),
    ),
    Group(
        "anticoagulation",
        "Labs: anticoagulation",
        (
            Axis("Anti-Xa", "anti_xa_iu_ml", {"IU/mL": (0.0, 1.0)}),
            Axis("Clotting time", "aptt_s", {"s": (0.0, 300.0)}),
        ),
        (
            Series("anti_xa_iu_ml", "Anti-Xa", 0, "#0b5cad", True),
            Series("aptt_s", "aPTT", 1, "#6a1b9a", True),
            Series("act_s", "ACT", 1, "#9a5b00", True),
        ),
    ),
    Group(
        "consumption",
        "Labs: fibrinogen and platelets",
        (
            Axis("Fibrinogen", "fibrinogen_mg_dl", {"mg/dL": (0.0, 600.0), "g/L": (0.0, 6.0)}),
            Axis("Platelets", "platelets_10e3_ul", {"10³/µL": (0.0, 400.0), "10⁹/L": (0.0, 400.0)}),
        ),
        (
            Series("fibrinogen_mg_dl", "Fibrinogen", 0, "#1b7f3b", True),
            Series("platelets_10e3_ul", "Platelets", 1, "#6a1b9a", True),
        ),
    ),
    Group(
        "blood",
        "Labs: haemoglobin and D-dimer",
        (
            Axis("Hb", "hemoglobin_g_dl", {"g/dL": (0.0, 16.0), "g/L": (0.0, 160.0)}),
            Axis("D-dimer", "d_dimer_mg_l", {"mg/L FEU": (0.0, 20.0)}),
        ),
        (
            Series("hemoglobin_g_dl", "Hb", 0, "#b3161b", True),
            Series("d_dimer_mg_l", "D-dimer", 1, "#546e7a", True),
        ),
    ),
)
_RAW = sorted(
    {s.code for g in GROUPS for s in g.series if s.code in PARAMETERS}
    | {
        "pre_oxygenator_pressure_mmhg",
        "post_oxygenator_pressure_mmhg",
        DELTA_P,
        "blood_flow_l_min",
        "pump_speed_rpm",
    }
)


def window(run: EcmoRun, now: dt.datetime, range_name: str) -> tuple[dt.datetime, dt.datetime]:
    end = run.ended_at or now
    if range_name == "run":
        return run.started_at, end
    if range_name not in _SPANS:
        raise ValueError(f"must be one of {', '.join(r for r, _ in RANGES)}")
    return max(run.started_at - dt.timedelta(hours=1), end - _SPANS[range_name]), end


def bucket_seconds(span: dt.timedelta) -> int:
    return max(60, math.ceil(span.total_seconds() / TARGET_POINTS / 60.0) * 60)


BASELINE_RULES = {
    ComponentKind.OXYGENATOR: "oxygenator.delta_p_rise",
    ComponentKind.PUMP_HEAD: "pump.flow_per_rpm_fall",
}
"""The rule whose baseline each component's chart shows (its length comes from the rule: ``RULES[id].baseline``)."""


def _baseline_hours(rule_id: str, config: SurveillanceConfig) -> float:
    span = RULES[rule_id].baseline(config)
    assert span is not None, f"{rule_id} declares no baseline"  # both rules above take one
    return span.total_seconds() / 3600.0


def _baseline_periods(
    run: EcmoRun, now: dt.datetime, config: SurveillanceConfig
) -> dict[str, list[dict[str, Any]]]:
    """The rules' baselines for every oxygenator (ΔP, ΔP/Q) and pump head (flow per 1000 rpm) of the run."""
    components = list(
        Component.objects.filter(
            circuit__run=run, kind__in=[ComponentKind.OXYGENATOR, ComponentKind.PUMP_HEAD]
        ).order_by("installed_at")
    )
    end_of_run = run.ended_at or now
    hours: dict[str, float] = {
        kind: _baseline_hours(rule_id, config) for kind, rule_id in BASELINE_RULES.items()
    }
    spans = Q()
    for c in components:
        spans |= Q(
            observed_at__gte=c.installed_at,
            observed_at__lte=c.installed_at + dt.timedelta(hours=hours[c.kind] + 2),
        )
    result: dict[str, list[dict[str, Any]]] = {"delta_p": [], "resistance": [], "flow_per_krpm": []}
    if not components:
        return result
    rows = (
        Sample.objects.filter(
            run=run,
            parameter__in=[
                DELTA_P,
                "pre_oxygenator_pressure_mmhg",
                "post_oxygenator_pressure_mmhg",
                "blood_flow_l_min",
                "pump_speed_rpm",
            ],
        )
        .filter(spans)
        .values_list("observed_at", "parameter", "value", "source")
    )
    timeline = Timeline(CoreSample(at, p, v, core_source(s)) for at, p, v, s in rows)
    engine = config.engine
    for c in components:
        anchor = c.installed_at.timestamp()
        until = c.removed_at or end_of_run
        probe_s = (c.installed_at + dt.timedelta(hours=hours[c.kind] + 2)).timestamp()
        flow = timeline.pair("blood_flow_l_min")
        if c.kind == ComponentKind.OXYGENATOR:
            reported = timeline.pair(DELTA_P)
            pair = (
                reported
                if reported.has_between(anchor, probe_s)
                else timeline.computed_delta_p(engine.pairing_tolerance_s)
            )
            win = baseline_window(pair, anchor_s=anchor, now_s=probe_s, hours=hours[c.kind])
            if isinstance(win, NoReading):
                continue
            base = median_between(timeline, pair, win, min_samples=engine.min_baseline_samples)
            base_flow = median_between(
                timeline,
                flow,
                win,
                min_samples=engine.min_baseline_samples,
                floor=engine.min_valid_flow_l_min,
            )
            if win.end > end_of_run or isinstance(base, NoReading):
                continue
            period = {"from": win.start.timestamp(), "to": until.timestamp(), "lot": c.lot}
            result["delta_p"].append({**period, "value": base.value})
            if not isinstance(base_flow, NoReading) and base_flow.value > 0:
                result["resistance"].append({**period, "value": base.value / base_flow.value})
        else:
            win = baseline_window(flow, anchor_s=anchor, now_s=probe_s, hours=hours[c.kind])
            if isinstance(win, NoReading) or win.end > end_of_run:
                continue
            base_flow = median_between(
                timeline,
                flow,
                win,
                min_samples=engine.min_baseline_samples,
                floor=engine.min_valid_flow_l_min,
            )
            base_rpm = median_between(
                timeline,
                timeline.pair("pump_speed_rpm"),
                win,
                min_samples=engine.min_baseline_samples,
                floor=1.0,
            )
            if isinstance(base_flow, NoReading) or isinstance(base_rpm, NoReading):
                continue
            result["flow_per_krpm"].append(
                {
                    "from": win.start.timestamp(),
                    "to": until.timestamp(),
                    "lot": c.lot,
                    "value": base_flow.value / base_rpm.value * 1000,
                }
            )
    return result


def _at(periods: list[dict[str, Any]], t: float) -> float | None:
    for p in reversed(periods):
        if p["from"] <= t <= p["to"]:
            return float(p["value"])
    return None


def local_unit(code: str, prefs: units.UnitPreferences) -> tuple[str, float]:
    """``(unit shown, factor from stored to shown)`` of a chart series in the program's units.

    The one place the charts convert units (``ecmo_core.units``): every conversion there is a factor. Derived
    series take the unit of what they are made of: ΔP that of a pressure, ΔP/Q a pressure per L/min.
    """
    base = code.removesuffix("_baseline")
    if base == "resistance":
        return f"{units.unit_of(DELTA_P, prefs)}·min/L", units.to_local(DELTA_P, 1.0, prefs)
    if base == "flow_per_krpm":
        return "L/min", 1.0
    parameter = DELTA_P if base == "delta_p" else base
    return units.unit_of(parameter, prefs), units.to_local(parameter, 1.0, prefs)


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) of about a tenth of ``span``: how far a range widens at a time."""
    raw = span / 10
    magnitude: float = 10 ** math.floor(math.log10(raw))  # an int from 1 up, a float below
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def axis_range(axis: Axis, unit: str, factor: float, seen: list[float]) -> tuple[float, float]:
    """The axis's fixed range in ``unit``, widened to the next round number only if a value in ``seen`` leaves it.

    A unit the axis names no range for gets its stored-unit range converted by ``factor``.
    """
    if unit in axis.ranges:
        low, high = axis.ranges[unit]
    else:
        first_low, first_high = next(iter(axis.ranges.values()))
        low, high = first_low * factor, first_high * factor
    if seen:
        step = _nice_step(high - low)
        if min(seen) < low:
            low = math.floor(min(seen) / step) * step
        if max(seen) > high:
            high = math.ceil(max(seen) / step) * step
    return low, high


def _target_periods(
    run: EcmoRun, codes: set[str], start: dt.datetime, end: dt.datetime
) -> dict[str, list[tuple[float, float, float | None, float | None]]]:
    """``{parameter: [(from, to, low, high)]}``: each target in force during [start, end] (stored units).

    A target holds from its ``effective_from`` until the next target of the same parameter. One query.
    """
    rows: dict[str, list[RunTarget]] = {}
    for t in RunTarget.objects.filter(run=run, parameter__in=codes).order_by("effective_from", "pk"):
        rows.setdefault(t.parameter, []).append(t)
    result: dict[str, list[tuple[float, float, float | None, float | None]]] = {}
    for parameter, targets in rows.items():
        for i, t in enumerate(targets):
            until = targets[i + 1].effective_from if i + 1 < len(targets) else end
            if until < start or t.effective_from > end:
                continue
            result.setdefault(parameter, []).append(
                (max(t.effective_from, start).timestamp(), min(until, end).timestamp(), t.low, t.high)
            )
    return result


def trend_data(run: EcmoRun, *, now: dt.datetime, range_name: str) -> dict[str, Any]:
    """Everything the trends page draws for ``range_name`` (1h, 6h, 24h, run), in the program's units.

    Each group names its axes (one quantity each, with a fixed range widened only by data or targets outside
    it), its series, its rows of values and the run's target bands on its axes.
    """
    start, end = window(run, now, range_name)
    bucket = bucket_seconds(end - start)
    # A span of more than a day reads the per-minute rollups (the same means; surveillance/rollup.py).
    read = queries.bucketed_from_rollups if end - start > dt.timedelta(hours=24) else queries.bucketed
    raw = read(run, _RAW, since=start, until=end, bucket_s=bucket)
    config = config_of(setting_at(run.program_id, end))
    baselines = _baseline_periods(run, now, config)
    prefs = run.program.unit_preferences
    values = {code: dict(points) for code, points in raw.items()}
    pre, post = (
        values.get("pre_oxygenator_pressure_mmhg", {}),
        values.get("post_oxygenator_pressure_mmhg", {}),
    )
    reported = values.get(DELTA_P, {})
    flow, rpm = values.get("blood_flow_l_min", {}), values.get("pump_speed_rpm", {})
    dp = dict(reported) if reported else {t: pre[t] - post[t] for t in pre if t in post}
    derived = {
        "delta_p": dp,
        "resistance": {t: v / flow[t] for t, v in dp.items() if flow.get(t, 0) >= 0.1},
        "flow_per_krpm": {t: flow[t] / rpm[t] * 1000 for t in flow if rpm.get(t, 0) >= 1 and flow[t] >= 0.1},
    }
    for name in ("delta_p", "resistance", "flow_per_krpm"):
        series = derived[name]
        derived[f"{name}_baseline"] = {t: b for t in series if (b := _at(baselines[name], t)) is not None}
    values.update(derived)
    targets = _target_periods(run, {s.code for g in GROUPS for s in g.series}, start, end)
    groups = []
    for group in GROUPS:
        # Only the series with values in the range: an empty "Patient SpO2" in every legend is noise.
        present = tuple(s for s in group.series if values.get(s.code))
        if not any(not s.code.endswith("_baseline") for s in present):
            continue
        group = group._replace(series=present)
        codes = [s.code for s in group.series]
        xs = sorted({t for code in codes for t in values.get(code, {})})
        shown = {s.code: local_unit(s.code, prefs) for s in group.series}
        data: list[list[float | None]] = [list(xs)]
        for code in codes:
            column, factor = values.get(code, {}), shown[code][1]
            data.append([_round(None if (v := column.get(t)) is None else v * factor) for t in xs])
        bands: list[dict[str, Any]] = []
        for s in group.series:
            factor = shown[s.code][1]
            for since, until, low, high in targets.get(s.code, []):
                bands.append(
                    {
                        "code": s.code,
                        "label": f"{s.label} target",
                        "axis": s.axis,
                        "color": s.colour,
                        "from": since,
                        "to": until,
                        "low": None if low is None else _round(low * factor),
                        "high": None if high is None else _round(high * factor),
                    }
                )
        axes = []
        for index, axis in enumerate(group.axes):
            unit, factor = local_unit(axis.unit_of, prefs)
            seen = [
                v
                for s, row in zip(group.series, data[1:], strict=True)
                if s.axis == index
                for v in row
                if v is not None
            ]
            seen += [b[k] for b in bands if b["axis"] == index for k in ("low", "high") if b[k] is not None]
            low, high = axis_range(axis, unit, factor, seen)
            axes.append({"label": f"{axis.label} ({unit})", "unit": unit, "min": low, "max": high})
        groups.append(
            {
                "id": group.id,
                "title": group.title,
                "axes": axes,
                "series": [
                    {
                        "code": s.code,
                        "label": f"{s.label} ({shown[s.code][0]})",
                        "unit": shown[s.code][0],
                        "axis": s.axis,
                        "color": s.colour,
                        "points": s.points,
                        "dash": s.code.endswith("_baseline"),
                    }
                    for s in group.series
                ],
                "data": data,
                "bands": bands,
                "baselines": {
                    name: [{**p, "value": _round(p["value"] * shown[name][1])} for p in baselines[name]]
                    for name in baselines
                    if name in shown
                },
            }
        )
    return {
        "run_id": run.pk,
        "range": range_name,
        "start": start.timestamp(),
        "end": end.timestamp(),
        "bucket_s": bucket,
        "tz": run.program.time_zone,
        "groups": groups,
        "markers": _markers(run, start, end),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _markers(run: EcmoRun, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    markers: list[dict[str, Any]] = []
    for t in AlertTransition.objects.filter(run=run, at__gte=start, at__lte=end, to_status="firing").order_by(
        "at"
    ):
        rule = RULES.get(t.rule_id)
        markers.append(
            {
                "t": t.at.timestamp(),
                "kind": "alert",
                "tone": t.severity,
                "label": f"{rule.title if rule else t.rule_id} ({t.severity})",
            }
        )
    for c in Component.objects.filter(circuit__run=run).filter(
        Q(installed_at__gte=start, installed_at__lte=end) | Q(removed_at__gte=start, removed_at__lte=end)
    ):
        if start <= c.installed_at <= end and c.installed_at > run.started_at + dt.timedelta(minutes=1):
            markers.append(
                {
                    "t": c.installed_at.timestamp(),
                    "kind": "component",
                    "tone": "info",
                    "label": f"{c.get_kind_display()} fitted · lot {c.lot or '—'}",
                }
            )
    for at in CircuitCheck.objects.filter(
        run=run, is_current=True, observed_at__gte=start, observed_at__lte=end
    ).values_list("observed_at", flat=True):
        markers.append({"t": at.timestamp(), "kind": "check", "tone": "info", "label": "circuit check"})
    return sorted(markers, key=lambda m: m["t"])
