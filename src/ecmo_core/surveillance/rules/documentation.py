"""``documentation.check_overdue`` — no hourly circuit check for more than 75 minutes.

Rationale
    The perfusionist's hourly circuit check (pressures, flow, gas, visual inspection of clots and air, safety
    equipment; demo-scenarios §6) is the program's record that someone looked at the circuit. 75 minutes
    (an hour plus a quarter of grace) is local practice (core-api §4), a site setting within 60–240 min.

Data
    The latest check at or before ``now`` from the run context (``last_check_at``, ``check_times``) or from
    any sample with source ``"check"``. Before the first check the run start counts instead; with neither
    recorded the rule is ``indeterminate``. Device clocks do not matter here: only recorded checks count.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ecmo_core.durations import humanize_minutes
from ecmo_core.surveillance.base import Reporter, Rule, RuleInput, num
from ecmo_core.surveillance.columnar import WARNING, Codes, Frame, judged
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import EvidenceValue, Finding, iso
from ecmo_core.surveillance.timeline import NEVER, micros, stamp

RULE_ID = "documentation.check_overdue"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def evaluate(inp: RuleInput) -> Finding | None:
    """Minutes since the last circuit check (or the run start) against the limit."""
    cfg = inp.config.check_overdue
    now = inp.now
    recorded = [t for t in (inp.context.last_check_as_of(now), inp.timeline.last_check_at(inp.now_s)) if t]
    last = max(recorded) if recorded else None
    started = inp.context.run_started_at
    evidence: dict[str, EvidenceValue] = {
        "last_check_at": None if last is None else iso(last),
        "overdue_min": cfg.overdue_min,
    }
    if last is None and (started is None or started > now):
        return _report.indeterminate(
            "Cannot tell whether a circuit check is due: no check and no run start are recorded.", evidence
        )
    if last is not None:
        since = last
        overdue = f"No circuit check since {stamp(last)}"
        in_time = f"Last circuit check at {stamp(last)}"
    else:
        assert started is not None  # both missing was handled above
        since = started
        overdue = f"No circuit check since the run started at {stamp(started)}"
        in_time = f"Run started at {stamp(started)}, no circuit check yet"
    minutes = (now - since).total_seconds() / 60.0
    evidence["minutes_since"] = minutes
    if minutes > cfg.overdue_min:
        return _report.firing(
            "warning",
            f"{overdue} ({humanize_minutes(minutes)} ago): the hourly check is overdue "
            f"(limit {num(cfg.overdue_min)} min).",
            evidence,
        )
    return _report.clear(f"{in_time} ({humanize_minutes(minutes)} ago).", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    context = frame.context
    moments = frame.moments
    checks = frame.timeline.check_us()
    j = np.searchsorted(checks, moments, side="right") - 1
    from_samples = np.where(j >= 0, checks[np.maximum(j, 0)] if len(checks) else NEVER, NEVER)
    last = np.maximum(frame.as_of(context.check_times, context.last_check_at), from_samples)
    started = context.run_started_at
    start_us = NEVER if started is None else micros(started)
    has_last = last != NEVER
    known = has_last | ((start_us != NEVER) & (start_us <= moments))
    since = np.where(has_last, last, start_us)
    minutes = (moments - since).astype(np.float64) / 1e6 / 60.0
    return judged(known, minutes > frame.config.check_overdue.overdue_min, WARNING)


def lookback(config: SurveillanceConfig) -> timedelta:
    """Check samples up to the overdue limit (older ones change only the words; checks come from the run)."""
    return timedelta(minutes=config.check_overdue.overdue_min)


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Hourly circuit check overdue",
    evaluate=evaluate,
    columns=columns,
    lookback=lookback,
)
