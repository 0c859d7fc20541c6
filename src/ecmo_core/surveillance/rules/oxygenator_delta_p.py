"""``oxygenator.delta_p_rise`` — membrane ΔP, or resistance ΔP/flow when flow changed, ≥ 50 % above baseline.

Rationale
    A rising pressure drop across the membrane lung is the classic sign of membrane thrombosis that needs an
    urgent exchange; in the Regensburg series almost half of the urgent exchanges could have been foreseen
    from such trends [✔ S18 Lubnow 2014]. ΔP depends on blood flow, so when flow has changed the resistance
    R = ΔP / flow is trended instead [✔ S13 EuroELSO "About pressure drop"]. The criterion is specific but
    insensitive [✔ S25b]. The +50 % trigger is common practice, not a guideline figure [○ reference §1.2]:
    a site setting (``rise_fraction``, 0.2–1.0).

Data
    ``membrane_delta_p_mmhg`` where the console reports ΔP itself (then used exclusively for the current
    oxygenator, because console and computed ΔP may differ by a zeroing offset); otherwise pre − post from
    paired ``pre_oxygenator_pressure_mmhg`` / ``post_oxygenator_pressure_mmhg`` samples (same source, times
    within ``engine.pairing_tolerance_s``). Values are windowed medians of fresh device samples, else the
    latest hand-entered check.

Baseline
    Median over the first ``baseline_hours`` (6 h) of ΔP data after the current oxygenator was installed (or
    after the data begin); taken afresh after each oxygenator change. ``indeterminate`` while forming.

Flow test (documented in docs/rules/oxygenator.delta_p_rise.md)
    Flow has "changed materially" when the current median flow differs from the median flow of the baseline
    window by more than ``flow_change_fraction`` (5 %). Then current and baseline resistance (ratio of the
    medians ΔP / flow) are compared; otherwise raw ΔP. If flow is unknown, raw ΔP is judged and the evidence
    says so.
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
from ecmo_core.surveillance.columnar import WARNING, Codes, Frame, judged
from ecmo_core.surveillance.model import EvidenceValue, Finding, iso
from ecmo_core.surveillance.timeline import (
    DELTA_P,
    NEVER,
    Micros,
    NoReading,
    SeriesPair,
    baseline_window,
    median_between,
    stamp,
)

RULE_ID = "oxygenator.delta_p_rise"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def _change(rise: float) -> str:
    return f"{pct(rise)} above" if rise >= 0 else f"{pct(-rise)} below"


def evaluate(inp: RuleInput) -> Finding | None:
    """Judge the membrane ΔP (or resistance) of the current oxygenator against its own baseline."""
    cfg = inp.config.delta_p_rise
    engine = inp.engine
    timeline = inp.timeline
    installed = inp.context.oxygenator_installed_as_of(inp.now)
    anchor_s = None if installed is None else installed.timestamp()
    reported = timeline.pair(DELTA_P)
    use_reported = reported.has_between(float("-inf") if anchor_s is None else anchor_s, inp.now_s)
    pair = reported if use_reported else timeline.computed_delta_p(engine.pairing_tolerance_s)
    evidence: dict[str, EvidenceValue] = {
        "delta_p_basis": "reported by the console" if use_reported else "pre − post pressures",
        "oxygenator_installed_at": None if installed is None else iso(installed),
    }

    window = baseline_window(pair, anchor_s=anchor_s, now_s=inp.now_s, hours=cfg.baseline_hours)
    if isinstance(window, NoReading):
        return _report.indeterminate(f"Cannot judge membrane ΔP: {window.reason}.", evidence)
    evidence.update(baseline_from=iso(window.start), baseline_to=iso(window.end))
    base = median_between(timeline, pair, window, min_samples=engine.min_baseline_samples)
    if isinstance(base, NoReading):
        return _report.indeterminate(f"Cannot judge membrane ΔP: {base.reason}.", evidence)
    evidence.update(baseline_delta_p_mmhg=base.value, baseline_samples=base.count)
    if base.value < cfg.min_baseline_delta_p_mmhg:
        return _report.indeterminate(
            f"Cannot judge membrane ΔP: its baseline of {num(base.value)} mmHg is below "
            f"{num(cfg.min_baseline_delta_p_mmhg)} mmHg, too small to judge a relative rise.",
            evidence,
        )
    current = inp.windowed(pair, since=installed)
    if isinstance(current, NoReading):
        return _report.indeterminate(f"Cannot judge membrane ΔP: {current.reason}.", evidence)
    evidence.update(evidence_of("delta_p_mmhg", current))

    flow_pair = timeline.pair("blood_flow_l_min")
    floor = engine.min_valid_flow_l_min
    base_flow = median_between(
        timeline, flow_pair, window, min_samples=engine.min_baseline_samples, floor=floor
    )
    flow = inp.windowed(flow_pair, since=installed, floor=floor)
    if isinstance(base_flow, NoReading) or isinstance(flow, NoReading):
        evidence["mode"] = "delta_p (flow unknown)"
        value, baseline, flow_note = current.value, base.value, " (flow unknown: judged on raw ΔP)"
        what = f"Membrane ΔP {num(current.value)} mmHg"
        versus = f"its baseline of {num(base.value)} mmHg"
    else:
        evidence.update(evidence_of("flow_l_min", flow))
        evidence["baseline_flow_l_min"] = base_flow.value
        flow_note = ""
        if abs(flow.value / base_flow.value - 1.0) > cfg.flow_change_fraction:
            evidence["mode"] = "resistance"
            value, baseline = current.value / flow.value, base.value / base_flow.value
            what = (
                f"Membrane resistance {num(value)} mmHg·min/L (ΔP {num(current.value)} mmHg at "
                f"{num(flow.value)} L/min)"
            )
            versus = (
                f"its baseline of {num(baseline)} (ΔP {num(base.value)} mmHg at {num(base_flow.value)} L/min)"
            )
        else:
            evidence["mode"] = "delta_p"
            value, baseline = current.value, base.value
            what = f"Membrane ΔP {num(current.value)} mmHg at {num(flow.value)} L/min"
            versus = f"its baseline of {num(base.value)} mmHg"
    rise = value / baseline - 1.0
    evidence.update(
        value=value, baseline_value=baseline, rise_fraction=rise, threshold_fraction=cfg.rise_fraction
    )
    since = f"baseline from {stamp(window.start)}"
    if rise >= cfg.rise_fraction:
        return _report.firing(
            "warning",
            f"{what} is {_change(rise)} {versus}{flow_note}; alert at +{pct(cfg.rise_fraction)} ({since}). "
            "Inspect the membrane for clot, check D-dimer, fibrinogen and platelets, and plan a change.",
            evidence,
        )
    return _report.clear(
        f"{what} is {_change(rise)} {versus}{flow_note}; alert at +{pct(cfg.rise_fraction)} ({since}).",
        evidence,
    )


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    context = frame.context
    anchors = frame.as_of(context.oxygenator_install_times, context.oxygenator_installed_at)
    reported = frame.timeline.pair(DELTA_P)
    seen = np.zeros(len(frame), dtype=np.bool_)
    for series in (reported.device, reported.manual):
        first = np.searchsorted(series.us, anchors, side="left")
        seen |= np.searchsorted(series.us, frame.moments, side="right") > first
    computed = frame.timeline.computed_delta_p(frame.engine.pairing_tolerance_s)
    return frame.split(
        seen,
        lambda part: _columns(part, reported, _anchors(part)),
        lambda part: _columns(part, computed, _anchors(part)),
    )


def _anchors(frame: Frame) -> Micros:
    context = frame.context
    return frame.as_of(context.oxygenator_install_times, context.oxygenator_installed_at)


def _columns(frame: Frame, pair: SeriesPair, anchors: Micros) -> Codes:
    cfg = frame.config.delta_p_rise
    engine = frame.engine
    minimum = engine.min_baseline_samples
    complete, start, end = frame.baseline(pair, anchors, cfg.baseline_hours)
    base = frame.median_between(pair, complete, start, end, min_samples=minimum)
    since = np.where(anchors == NEVER, NEVER, anchors)
    current = frame.windowed(pair, since=since)
    known = base.ok & (base.value >= cfg.min_baseline_delta_p_mmhg) & current.ok
    flow_pair = frame.timeline.pair("blood_flow_l_min")
    floor = engine.min_valid_flow_l_min
    base_flow = frame.median_between(flow_pair, complete, start, end, min_samples=minimum, floor=floor)
    flow = frame.windowed(flow_pair, since=since, floor=floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        flow_known = base_flow.ok & flow.ok
        resistance = flow_known & (np.abs(flow.value / base_flow.value - 1.0) > cfg.flow_change_fraction)
        value = np.where(resistance, current.value / flow.value, current.value)
        baseline = np.where(resistance, base.value / base_flow.value, base.value)
        rise = value / baseline - 1.0
    return judged(known, rise >= cfg.rise_fraction, WARNING)


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Membrane ΔP / resistance rise",
    evaluate=evaluate,
    columns=columns,
    lookback=windowed_lookback,
    baseline=lambda config: hours(config.delta_p_rise.baseline_hours),
)
