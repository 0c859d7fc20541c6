"""``access.pressure_low`` — access (pre-pump) pressure more negative than −100 mmHg.

Rationale
    Drainage pressure is usually about −20 to −80 mmHg at adult flows; a common alert is at more negative
    than −100 mmHg [○ reference §1.2, site default; no primary text located]. Excess suction haemolyses
    (−50 to −100 mmHg already did in vitro [✔ S66]) and a rising negative pressure with stable or falling
    flow is early access insufficiency, preceding clinical signs [✔ S25a]. ``threshold_mmhg`` is a site
    setting within −200 to −50.

Data
    Windowed median of the device readings (10 min), so that the swings of chatter (−95 to −135 mmHg in
    5-s readings) raise one alert and clear once, never on a single spike; otherwise the latest check value.
"""

from __future__ import annotations

from ecmo_core.surveillance.base import Reporter, Rule, RuleInput, evidence_of, num, windowed_lookback
from ecmo_core.surveillance.columnar import WARNING, Codes, Frame, judged
from ecmo_core.surveillance.model import Finding
from ecmo_core.surveillance.timeline import NoReading

RULE_ID = "access.pressure_low"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Judge the windowed access pressure against the site threshold."""
    cfg = inp.config.access_pressure_low
    reading = inp.windowed(inp.timeline.pair("access_pressure_mmhg"))
    if isinstance(reading, NoReading):
        return _report.indeterminate(f"Cannot judge access pressure: {reading.reason}.")
    evidence = {**evidence_of("access_pressure_mmhg", reading), "threshold_mmhg": cfg.threshold_mmhg}
    over = f"median of {reading.count} readings" if reading.count > 1 else f"{reading.source} value"
    if reading.value < cfg.threshold_mmhg:
        return _report.firing(
            "warning",
            f"Access pressure {num(reading.value, 0)} mmHg ({over}) is more negative than "
            f"{num(cfg.threshold_mmhg, 0)} mmHg. Look for access insufficiency (volume, cannula position, "
            "chatter, tamponade) and consider reducing the speed.",
            evidence,
        )
    return _report.clear(
        f"Access pressure {num(reading.value, 0)} mmHg ({over}); "
        f"alert below {num(cfg.threshold_mmhg, 0)} mmHg.",
        evidence,
    )


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    reading = frame.windowed(frame.timeline.pair("access_pressure_mmhg"))
    return judged(reading.ok, reading.value < frame.config.access_pressure_low.threshold_mmhg, WARNING)


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Access pressure too negative",
    evaluate=evaluate,
    columns=columns,
    lookback=windowed_lookback,
)
