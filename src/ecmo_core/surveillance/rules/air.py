"""``air.detected`` — the bubble detector reports air (``bubble_detected`` = 1).

Rationale
    Air in the circuit or systemic air embolism occurs in 1.4–4.6 % of runs and is often fatal [✔ S51]; the
    lethal adult dose is about 200–300 mL [✔ S68]. A detection needs immediate action (clamp the return line,
    stop the pump, head down, FiO2 1.0, call for an emergency circuit) [✔ S25d, S69, S51], so a single
    reading of 1 fires: this is an event, not a noisy signal, and there is no threshold to set.

Data
    The latest detector state: the device value while fresh (``engine.device_fresh_min``), otherwise the
    latest hand-entered one within ``engine.check_max_age_min``; nothing recent is ``indeterminate``.
"""

from __future__ import annotations

from ecmo_core.surveillance.base import Reporter, Rule, RuleInput, evidence_of, latest_lookback
from ecmo_core.surveillance.columnar import CRITICAL, Codes, Frame, judged
from ecmo_core.surveillance.model import Finding
from ecmo_core.surveillance.timeline import NoReading, stamp

RULE_ID = "air.detected"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Report the bubble detector's latest state."""
    reading = inp.latest(inp.timeline.pair("bubble_detected"))
    if isinstance(reading, NoReading):
        return _report.indeterminate(f"Cannot tell whether there is air in the circuit: {reading.reason}.")
    evidence = evidence_of("bubble_detected", reading)
    if reading.value == 1.0:
        return _report.firing(
            "critical",
            f"Bubble detected in the circuit ({stamp(reading.at)}). Clamp the return line and stop the pump; "
            "find and fix the entry point, de-air, and restart only when the cause is fixed.",
            evidence,
        )
    return _report.clear(f"No bubble detected (last reading {stamp(reading.at)}).", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    reading = frame.latest(frame.timeline.pair("bubble_detected"))
    return judged(reading.ok, reading.value == 1.0, CRITICAL)


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="critical",
    title="Air in the circuit",
    evaluate=evaluate,
    columns=columns,
    lookback=latest_lookback,
)
