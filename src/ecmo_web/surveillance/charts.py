"""Data for the trends page: parameter groups on one time axis, baselines per component, and markers.

Series are averaged into time buckets in SQL (``queries.bucketed``; over more than a day from the per-minute
rollups, ``queries.bucketed_from_rollups``), so the whole of a month-long run costs the same as an hour. Derived series (ΔP, ΔP/flow, flow per 1000 rpm) are computed per bucket, not per sample. Baselines are
those of the rules: the median of the first hours of data after each oxygenator or pump head was fitted, computed
by ``ecmo_core`` on just those hours of data.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db.models import Q

from ecmo_core.surveillance import RULES, SurveillanceConfig
from ecmo_core.surveillance import Sample as CoreSample
from ecmo_core.surveillance.timeline import DELTA_P, NoReading, Timeline, baseline_window, median_between
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun
from ecmo_web.surveillance import queries
from ecmo_web.surveillance.evaluation import config_of, setting_at
from ecmo_web.surveillance.models import AlertTransition, CircuitCheck, Sample, core_source

RANGES: list[tuple[str, str]] = [("1h", "1 h"), ("6h", "6 h"), ("24h", "24 h"), ("run", "Whole run")]
_SPANS = {"1h": dt.timedelta(hours=1), "6h": dt.timedelta(hours=6), "24h": dt.timedelta(hours=24)}
TARGET_POINTS = 600

# (group id, title, [(code, label, axis, colour, points)], [left axis label, right axis label])
GROUPS: list[tuple[str, str, list[tuple[str, str, int, str, bool]], list[str]]] = [
    (
        "flow",
        "Blood flow and pump speed",
        [
            ("blood_flow_l_min", "Flow (L/min)", 0, "#0b5cad", False),
            ("pump_speed_rpm", "Pump speed (rpm)", 1, "#6a1b9a", False),
        ],
        ["L/min", "rpm"],
    ),
    (
        "pressures",
        "Circuit pressures",
        [
            ("access_pressure_mmhg", "Access (mmHg)", 0, "#b3161b", False),
            ("pre_oxygenator_pressure_mmhg", "Pre-oxygenator (mmHg)", 0, "#0b5cad", False),
            ("post_oxygenator_pressure_mmhg", "Post-oxygenator (mmHg)", 0, "#1b7f3b", False),
        ],
        ["mmHg", ""],
    ),
    (
        "delta_p",
        "Membrane ΔP and resistance ΔP/Q, with baselines",
        [
            ("delta_p", "ΔP (mmHg)", 0, "#0b5cad", False),
            ("delta_p_baseline", "ΔP baseline", 0, "#0b5cad", False),
            ("resistance", "ΔP/Q (mmHg·min/L)", 1, "#b3161b", False),
            ("resistance_baseline", "ΔP/Q baseline", 1, "#b3161b", False),
        ],
        ["mmHg", "mmHg·min/L"],
    ),
    (
        "flow_per_rpm",
        "Flow per 1000 rpm, with baseline",
        [
            ("flow_per_krpm", "Flow per 1000 rpm (L/min)", 0, "#6a1b9a", False),
            ("flow_per_krpm_baseline", "Baseline", 0, "#6a1b9a", False),
        ],
        ["L/min per 1000 rpm", ""],
    ),
    (
        "sweep",
        "Sweep gas and FdO2",
        [
            ("sweep_gas_l_min", "Sweep (L/min)", 0, "#1b7f3b", False),
            ("fdo2", "FdO2 (fraction)", 1, "#9a5b00", False),
        ],
        ["L/min", "fraction"],
    ),
    (
        "gases",
        "Oxygenator gases and saturations",
        [
            ("post_oxygenator_po2_mmhg", "Post-oxygenator PO2 (mmHg)", 0, "#b3161b", True),
            ("post_oxygenator_pco2_mmhg", "Post-oxygenator PCO2 (mmHg)", 0, "#546e7a", True),
            ("pre_oxygenator_so2", "Pre-oxygenator SO2", 1, "#0b5cad", False),
            ("post_oxygenator_so2", "Post-oxygenator SO2", 1, "#ad1457", False),
        ],
        ["mmHg", "fraction"],
    ),
    (
        "temperature",
        "Blood temperature",
        [
            ("blood_temperature_c", "Blood temperature (°C)", 0, "#9a5b00", False),
        ],
        ["°C", ""],
    ),
    (
        "haemolysis",
        "Labs: haemolysis",
        [
            ("plasma_free_hb_mg_dl", "Plasma free Hb (mg/dL)", 0, "#b3161b", True),
            ("ldh_u_l", "LDH (U/L)", 1, "#546e7a", True),
        ],
        ["mg/dL", "U/L"],
    ),
    (
        "anticoagulation",
        "Labs: anticoagulation",
        [
            ("anti_xa_iu_ml", "Anti-Xa (IU/mL)", 0, "#0b5cad", True),
            ("aptt_s", "aPTT (s)", 1, "#6a1b9a", True),
            ("act_s", "ACT (s)", 1, "#9a5b00", True),
        ],
        ["IU/mL", "s"],
    ),
    (
        "coagulation",
        "Labs: consumption and blood count",
        [
            ("fibrinogen_mg_dl", "Fibrinogen (mg/dL)", 0, "#1b7f3b", True),
            ("platelets_10e3_ul", "Platelets (10³/µL)", 0, "#6a1b9a", True),
            ("hemoglobin_g_dl", "Hb (g/dL)", 1, "#b3161b", True),
            ("d_dimer_mg_l", "D-dimer (mg/L FEU)", 1, "#546e7a", True),
        ],
        ["mg/dL · 10³/µL", "g/dL · mg/L"],
    ),
]
_RAW = sorted(
    {code for _, _, series, _ in GROUPS for code, *_ in series}
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
    hours = {kind: _baseline_hours(rule_id, config) for kind, rule_id in BASELINE_RULES.items()}
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


def trend_data(run: EcmoRun, *, now: dt.datetime, range_name: str) -> dict[str, Any]:
    """Everything the trends page draws for ``range_name`` (1h, 6h, 24h, run)."""
    start, end = window(run, now, range_name)
    bucket = bucket_seconds(end - start)
    # A span of more than a day reads the per-minute rollups (the same means; surveillance/rollup.py).
    read = queries.bucketed_from_rollups if end - start > dt.timedelta(hours=24) else queries.bucketed
    raw = read(run, _RAW, since=start, until=end, bucket_s=bucket)
    config = config_of(setting_at(run.program_id, end))
    baselines = _baseline_periods(run, now, config)
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
    groups = []
    for group_id, title, series, axes in GROUPS:
        xs = sorted({t for code, *_ in series for t in values.get(code, {})})
        if not xs or not any(values.get(code) for code, *_ in series if not code.endswith("_baseline")):
            continue
        data: list[list[float | None]] = [list(xs)]
        for code, *_ in series:
            column = values.get(code, {})
            data.append([_round(column.get(t)) for t in xs])
        groups.append(
            {
                "id": group_id,
                "title": title,
                "axes": axes,
                "series": [
                    {
                        "code": code,
                        "label": label,
                        "axis": axis,
                        "color": colour,
                        "points": points,
                        "dash": code.endswith("_baseline"),
                    }
                    for code, label, axis, colour, points in series
                ],
                "data": data,
                "baselines": {name: baselines[name] for name in baselines if name in {c for c, *_ in series}},
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
