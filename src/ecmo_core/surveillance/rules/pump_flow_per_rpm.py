"""``pump.flow_per_rpm_fall`` — flow per 1000 rpm ≥ 20 % below baseline while speed is at or above baseline.

Rationale
    A centrifugal pump head that gains thrombus delivers less flow for the same speed: "flow that falls at
    constant RPM" is one of the pump-head thrombosis signals, with rising pfHb and a new noise
    [✔ S19, S23, S25b via reference §2.2]. Falling flow per rpm also follows a deliberate speed cut (weaning,
    flow reduction) or access insufficiency at lower speed, so the rule only fires while the speed is at or
    above the baseline speed (more speed buying less flow) and never during a recorded weaning trial
    (core-api §4). The −20 % trigger is a site setting [○].

Baseline
    Median flow and median speed over the first ``baseline_hours`` (6 h) of flow data after the current
    pump head was installed (or after the data begin); flow per 1000 rpm = median flow / median rpm × 1000.

Data
    Windowed medians of flow and speed (device, else the latest check). Flow readings below
    ``engine.min_valid_flow_l_min`` are a probe dropout and count as missing, never as a fall; a speed of 0
    (pump stopped) is ignored likewise.
"""

from __future__ import annotations

import numpy as np

from ecmo_core.surveillance.base import (
    Reporter,
    Rule,
    RuleInput,
    evidence_of,
    hours,
    num,
    pct,
    windowed_lookback,
)
from ecmo_core.surveillance.columnar import WARNING, Codes, Frame, judged, not_applicable_where
from ecmo_core.surveillance.model import EvidenceValue, Finding, iso
from ecmo_core.surveillance.timeline import NoReading, baseline_window, median_between

RULE_ID = "pump.flow_per_rpm_fall"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)

_MIN_RPM = 1.0  # a speed of 0 means the pump is stopped; flow per rpm is then undefined


def evaluate(inp: RuleInput) -> Finding | None:
    """Compare flow per 1000 rpm of the current pump head with its baseline."""
    if inp.context.weaning_at(inp.now):
        return None  # flow is being reduced on purpose
    cfg = inp.config.flow_per_rpm_fall
    engine = inp.engine
    timeline = inp.timeline
    installed = inp.context.pump_head_installed_as_of(inp.now)
    flow_pair, rpm_pair = timeline.pair("blood_flow_l_min"), timeline.pair("pump_speed_rpm")
    floor = engine.min_valid_flow_l_min
    evidence: dict[str, EvidenceValue] = {
        "pump_head_installed_at": None if installed is None else iso(installed)
    }

    anchor_s = None if installed is None else installed.timestamp()
    window = baseline_window(flow_pair, anchor_s=anchor_s, now_s=inp.now_s, hours=cfg.baseline_hours)
    if isinstance(window, NoReading):
        return _report.indeterminate(f"Cannot judge flow per rpm: {window.reason}.", evidence)
    evidence.update(baseline_from=iso(window.start), baseline_to=iso(window.end))
    minimum = engine.min_baseline_samples
    base_flow = median_between(timeline, flow_pair, window, min_samples=minimum, floor=floor)
    base_rpm = median_between(timeline, rpm_pair, window, min_samples=minimum, floor=_MIN_RPM)
    flow = inp.windowed(flow_pair, since=installed, floor=floor)
    rpm = inp.windowed(rpm_pair, since=installed, floor=_MIN_RPM)
    for reading in (base_flow, base_rpm, flow, rpm):
        if isinstance(reading, NoReading):
            return _report.indeterminate(f"Cannot judge flow per rpm: {reading.reason}.", evidence)
    assert not isinstance(base_flow, NoReading) and not isinstance(base_rpm, NoReading)  # narrowed above
    assert not isinstance(flow, NoReading) and not isinstance(rpm, NoReading)

    baseline = base_flow.value / base_rpm.value * 1000.0
    value = flow.value / rpm.value * 1000.0
    fall = 1.0 - value / baseline
    at_speed = rpm.value >= base_rpm.value - cfg.speed_tolerance_rpm
    evidence.update(evidence_of("flow_l_min", flow))
    evidence.update(evidence_of("pump_speed_rpm", rpm))
    evidence.update(
        baseline_flow_l_min=base_flow.value,
        baseline_pump_speed_rpm=base_rpm.value,
        flow_per_1000_rpm=value,
        baseline_flow_per_1000_rpm=baseline,
        fall_fraction=fall,
        threshold_fraction=cfg.fall_fraction,
        at_or_above_baseline_speed=at_speed,
    )
    change = f"{pct(fall)} below" if fall >= 0 else f"{pct(-fall)} above"
    what = (
        f"Flow per 1000 rpm {num(value)} L/min ({num(flow.value)} L/min at {num(rpm.value, 0)} rpm) "
        f"is {change} "
        f"its baseline of {num(baseline)} ({num(base_flow.value)} L/min at {num(base_rpm.value, 0)} rpm)"
    )
    if fall >= cfg.fall_fraction and at_speed:
        return _report.firing(
            "warning",
            f"{what}: more speed is buying less flow. Listen to the pump head, inspect its inlet with a "
            "torch, check pfHb and LDH, and exclude access insufficiency.",
            evidence,
        )
    if fall >= cfg.fall_fraction:
        return _report.clear(
            f"{what}, but the speed is below the baseline speed: a speed cut, "
            "not judged as pump-head thrombus.",
            evidence,
        )
    return _report.clear(f"{what}; alert at {pct(cfg.fall_fraction)} below.", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    cfg = frame.config.flow_per_rpm_fall
    engine = frame.engine
    context = frame.context
    timeline = frame.timeline
    anchors = frame.as_of(context.pump_head_install_times, context.pump_head_installed_at)
    flow_pair, rpm_pair = timeline.pair("blood_flow_l_min"), timeline.pair("pump_speed_rpm")
    floor, minimum = engine.min_valid_flow_l_min, engine.min_baseline_samples
    complete, start, end = frame.baseline(flow_pair, anchors, cfg.baseline_hours)
    base_flow = frame.median_between(flow_pair, complete, start, end, min_samples=minimum, floor=floor)
    base_rpm = frame.median_between(rpm_pair, complete, start, end, min_samples=minimum, floor=_MIN_RPM)
    flow = frame.windowed(flow_pair, since=anchors, floor=floor)
    rpm = frame.windowed(rpm_pair, since=anchors, floor=_MIN_RPM)
    known = base_flow.ok & base_rpm.ok & flow.ok & rpm.ok
    with np.errstate(divide="ignore", invalid="ignore"):
        baseline = base_flow.value / base_rpm.value * 1000.0
        value = flow.value / rpm.value * 1000.0
        fall = 1.0 - value / baseline
    at_speed = rpm.value >= base_rpm.value - cfg.speed_tolerance_rpm
    codes = judged(known, (fall >= cfg.fall_fraction) & at_speed, WARNING)
    return not_applicable_where(codes, frame.weaning())


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Pump flow per rpm falling (pump-head thrombus)",
    evaluate=evaluate,
    columns=columns,
    lookback=windowed_lookback,
    baseline=lambda config: hours(config.flow_per_rpm_fall.baseline_hours),
    scope="times outside a recorded weaning trial",
)
