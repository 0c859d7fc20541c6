"""``hemolysis.pfhb_high`` — plasma free Hb > 50 mg/dL (critical) or > 10 mg/dL (warning).

Rationale
    pfHb below 10 mg/dL is the expected level on ECMO [✔ S52, weak / ○]. Above 50 mg/dL (500 mg/L) is severe
    haemolysis in the Regensburg series and the classic ELSO Registry haemolysis complication
    [✔ S19, S20; registry wording ◐ S9a]; it was the best cut-off for centrifugal pump thrombosis (AUC 0.77,
    better than LDH) [✔ S24] and, 24 h after cannulation, an independent predictor of death [✔ S21].
    Rapid rises above 100 mg/dL went with pump thrombus [✔ S23]. Both thresholds are site settings.

Data
    The latest result (any source) within ``max_age_h`` (30 h: a daily lab plus a late draw). A result is a
    considered measurement, so it is judged as it stands, not as a median.
"""

from __future__ import annotations

import numpy as np

from ecmo_core.surveillance.base import Reporter, Rule, RuleInput, evidence_of, hours, num
from ecmo_core.surveillance.columnar import CRITICAL, WARNING, Codes, Frame, judged
from ecmo_core.surveillance.model import Finding
from ecmo_core.surveillance.timeline import NoReading, stamp

RULE_ID = "hemolysis.pfhb_high"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Grade the latest plasma free haemoglobin."""
    cfg = inp.config.pfhb_high
    reading = inp.latest(inp.timeline.pair("plasma_free_hb_mg_dl"), max_age_h=cfg.max_age_h)
    if isinstance(reading, NoReading):
        return _report.indeterminate(
            f"Cannot judge haemolysis: {reading.reason} (results count for {num(cfg.max_age_h)} h)."
        )
    evidence = {
        **evidence_of("plasma_free_hb_mg_dl", reading),
        "warning_mg_dl": cfg.warning_mg_dl,
        "critical_mg_dl": cfg.critical_mg_dl,
    }
    value = f"Plasma free Hb {num(reading.value)} mg/dL ({stamp(reading.at)})"
    if reading.value > cfg.critical_mg_dl:
        return _report.firing(
            "critical",
            f"{value} is above {num(cfg.critical_mg_dl)} mg/dL: severe haemolysis. Look for pump-head or "
            "circuit thrombus and access problems now; recheck pfHb and LDH.",
            evidence,
        )
    if reading.value > cfg.warning_mg_dl:
        return _report.firing(
            "warning",
            f"{value} is above {num(cfg.warning_mg_dl)} mg/dL. Watch the trend; check the pump head, access "
            "pressure and flow for a cause.",
            evidence,
        )
    return _report.clear(f"{value}; alert above {num(cfg.warning_mg_dl)} mg/dL.", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    cfg = frame.config.pfhb_high
    reading = frame.latest(frame.timeline.pair("plasma_free_hb_mg_dl"), max_age_h=cfg.max_age_h)
    critical = reading.value > cfg.critical_mg_dl
    firing = critical | (reading.value > cfg.warning_mg_dl)
    return judged(reading.ok, firing, np.where(critical, CRITICAL, WARNING).astype(np.int8))


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="critical",
    title="Haemolysis (plasma free Hb)",
    evaluate=evaluate,
    columns=columns,
    lookback=lambda config: hours(config.pfhb_high.max_age_h),
)
