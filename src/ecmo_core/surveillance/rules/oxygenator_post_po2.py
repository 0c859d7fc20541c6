"""``oxygenator.post_po2_low`` — post-oxygenator PO2 below 150 mmHg while FdO2 ≥ 0.95 and sweep > 0.

Rationale
    Falling post-membrane PO2 at FdO2 1.0 is the gas-transfer sign of membrane-lung dysfunction
    [✔ S18, S25c, S63 via reference §2.1]. The cut-off "below about 150–200 mmHg" is widely used but no
    primary text was located [○ reference §1.2]: ``threshold_mmhg`` is a site setting within 150–200. As a
    reference point, an A.L.ONE oxygenator still gave 267 ± 29 mmHg after 17 days [✔ S62]. Rule out the gas
    supply first: a disconnected O2 hose makes the blender blow air while it shows FdO2 1.0 [✔ S25c].

Test condition
    The PO2 only means membrane failure when the membrane was offered (nearly) pure oxygen: FdO2 ≥
    ``min_fdo2`` (0.95) and sweep > 0, both read at the time of the PO2 reading. When the condition does not
    hold (V-A titration at FdO2 0.5, sweep off for a trial) the rule does not apply and returns no finding.

Data
    Device PO2 (e.g. a gas module) as a windowed median while fresh; otherwise the latest hand-entered post-
    oxygenator gas within ``gas_max_age_h``. FdO2 and sweep are settings rather than noisy signals: their
    latest value as of the PO2's time is used (device while fresh, else the hourly check).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from ecmo_core.surveillance.base import (
    Reporter,
    Rule,
    RuleInput,
    evidence_of,
    hours,
    latest_lookback,
    num,
    windowed_lookback,
)
from ecmo_core.surveillance.columnar import CRITICAL, Codes, Frame, judged, not_applicable_where
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import EvidenceValue, Finding
from ecmo_core.surveillance.timeline import NoReading, Reading, stamp

RULE_ID = "oxygenator.post_po2_low"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Judge the latest post-oxygenator PO2 taken on (nearly) pure oxygen."""
    cfg = inp.config.post_po2_low
    timeline = inp.timeline
    po2 = inp.windowed(timeline.pair("post_oxygenator_po2_mmhg"), manual_max_age_h=cfg.gas_max_age_h)
    as_of = replace(inp, now=po2.at) if isinstance(po2, Reading) else inp
    fdo2 = as_of.latest(timeline.pair("fdo2"))  # settings, not noisy signals: the latest value holds
    sweep = as_of.latest(timeline.pair("sweep_gas_l_min"))
    if isinstance(fdo2, Reading) and isinstance(sweep, Reading):
        if fdo2.value < cfg.min_fdo2 or sweep.value <= 0.0:
            return None  # not tested on pure oxygen: the PO2 says nothing about the membrane
    if isinstance(po2, NoReading):
        return _report.indeterminate(f"Cannot judge oxygenator gas transfer: {po2.reason}.")
    evidence: dict[str, EvidenceValue] = {**evidence_of("post_oxygenator_po2_mmhg", po2)}
    for what, reading in (("FdO2", fdo2), ("sweep", sweep)):
        if isinstance(reading, NoReading):
            return _report.indeterminate(
                f"Cannot judge the post-oxygenator PO2 of {num(po2.value)} mmHg ({stamp(po2.at)}): "
                f"the {what} at that time is unknown ({reading.reason}).",
                evidence,
            )
    assert isinstance(fdo2, Reading) and isinstance(sweep, Reading)  # narrowed by the loop above
    evidence.update(evidence_of("fdo2", fdo2))
    evidence.update(evidence_of("sweep_gas_l_min", sweep))
    evidence["threshold_mmhg"] = cfg.threshold_mmhg
    conditions = f"on FdO2 {num(fdo2.value)} with sweep {num(sweep.value)} L/min"
    if po2.value < cfg.threshold_mmhg:
        return _report.firing(
            "critical",
            f"Post-oxygenator PO2 {num(po2.value)} mmHg {conditions} "
            f"is below {num(cfg.threshold_mmhg)} mmHg. "
            "Check the gas supply first (O2 hose, blender, cylinder), then the membrane.",
            evidence,
        )
    return _report.clear(
        f"Post-oxygenator PO2 {num(po2.value)} mmHg {conditions} "
        f"(alert below {num(cfg.threshold_mmhg)} mmHg).",
        evidence,
    )


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    cfg = frame.config.post_po2_low
    timeline = frame.timeline
    po2 = frame.windowed(timeline.pair("post_oxygenator_po2_mmhg"), manual_max_age_h=cfg.gas_max_age_h)
    as_of = np.where(po2.ok, po2.at, frame.moments)
    fdo2 = frame.latest(timeline.pair("fdo2"), at=as_of)
    sweep = frame.latest(timeline.pair("sweep_gas_l_min"), at=as_of)
    settings_known = fdo2.ok & sweep.ok
    not_pure = settings_known & ((fdo2.value < cfg.min_fdo2) | (sweep.value <= 0.0))
    codes = judged(po2.ok & settings_known, po2.value < cfg.threshold_mmhg, CRITICAL)
    return not_applicable_where(codes, not_pure)


def lookback(config: SurveillanceConfig) -> timedelta:
    """A gas up to its maximum age, and the FdO2 and sweep as of that gas."""
    return max(windowed_lookback(config), hours(config.post_po2_low.gas_max_age_h)) + latest_lookback(config)


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="critical",
    title="Low post-oxygenator PO2 on pure oxygen",
    evaluate=evaluate,
    columns=columns,
    lookback=lookback,
    scope="PO2 readings taken at FdO2 ≥ 0.95 with the sweep on",
)
