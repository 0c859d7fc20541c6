"""``anticoagulation.out_of_range`` — anti-Xa, aPTT or ACT outside the run's target range.

Rationale
    Targets depend on the agent, the mode and the bleeding state, so they are kept per run, not per site
    (reference §3.3 "Keep the target range per patient"). ELSO-cited ranges are anti-Xa 0.3–0.7 IU/mL,
    aPTT 1.5–2.5 × baseline (about 60–80 s), ACT about 180–220 s [◐ S4, S5], with many institutional
    variants [✔ S46, S47, S77]. The rule only compares each result with the run's own target.

Data
    For every test with a target: the latest result within its maximum age (anti-Xa and aPTT 26 h — in range,
    the nomogram rechecks daily [✔ S46]; ACT 6 h). Firing if any recent result is outside its range (ends
    inclusive: a result equal to a bound is in range); clear if at least one is recent and all recent ones are
    in range; ``indeterminate`` when no target is recorded or no targeted test has a recent result.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ecmo_core.surveillance.base import Reporter, Rule, RuleInput, evidence_of, hours, num
from ecmo_core.surveillance.columnar import WARNING, Codes, Frame, judged
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import ANTICOAGULATION_TESTS, EvidenceValue, Finding
from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_core.surveillance.timeline import NoReading, stamp

RULE_ID = "anticoagulation.out_of_range"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Compare each targeted coagulation test's latest result with the run's range."""
    targets = inp.context.anticoagulation_targets
    if not targets:
        return _report.indeterminate(
            "Cannot judge anticoagulation: no target range is recorded for this run."
        )
    cfg = inp.config.anticoagulation
    evidence: dict[str, EvidenceValue] = {}
    outside: list[str] = []
    inside: list[str] = []
    missing: list[str] = []
    for test in ANTICOAGULATION_TESTS:
        if test not in targets:
            continue
        low, high = targets[test]
        spec = PARAMETERS[test]
        evidence.update({f"{test}_target_low": low, f"{test}_target_high": high})
        reading = inp.latest(inp.timeline.pair(test), max_age_h=cfg.max_age_h(test))
        if isinstance(reading, NoReading):
            missing.append(f"{reading.reason} (results count for {num(cfg.max_age_h(test))} h)")
            continue
        evidence.update(evidence_of(test, reading))
        result = f"{spec.description} {num(reading.value)} {spec.unit} ({stamp(reading.at)})"
        target = f"target {num(low)}–{num(high)} {spec.unit}"
        if reading.value < low:
            outside.append(f"{result} is below the {target}")
        elif reading.value > high:
            outside.append(f"{result} is above the {target}")
        else:
            inside.append(f"{result} is within the {target}")
    if outside:
        return _report.firing(
            "warning",
            f"{'; '.join(outside)}. Adjust the anticoagulant by the run's protocol and recheck.",
            evidence,
        )
    if inside:
        return _report.clear(f"{'; '.join(inside)}.", evidence)
    return _report.indeterminate(f"Cannot judge anticoagulation: {'; '.join(missing)}.", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    targets = frame.context.anticoagulation_targets
    cfg = frame.config.anticoagulation
    outside = np.zeros(len(frame), dtype=np.bool_)
    inside = np.zeros(len(frame), dtype=np.bool_)
    for test, (low, high) in targets.items():
        reading = frame.latest(frame.timeline.pair(test), max_age_h=cfg.max_age_h(test))
        out = reading.ok & ((reading.value < low) | (reading.value > high))
        outside |= out
        inside |= reading.ok & ~out
    return judged(outside | inside, outside, WARNING)


def lookback(config: SurveillanceConfig) -> timedelta:
    """The longest age a coagulation result counts for."""
    return hours(max(config.anticoagulation.max_age_h(test) for test in ANTICOAGULATION_TESTS))


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Anticoagulation outside target",
    evaluate=evaluate,
    columns=columns,
    lookback=lookback,
)
