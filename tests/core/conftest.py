"""Every ``evaluate`` call of the core tests is cross-checked against the columnar engine, and every ``replay``
call against the same replay judged in one piece and in chunks of a few odd sizes.

``ecmo_core.surveillance.evaluate`` is wrapped before the test modules import it: after each call that
succeeds, every rule's ``columns`` judges the same moment on the same timeline, and its status and severity
must equal the finding's (or "not applicable" where the rule gave none). So each scenario of the rule tests —
both sides of every threshold, stale and missing data, contexts — also checks the vectorized path.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

import ecmo_core.replay as replay_module
import ecmo_core.surveillance as surveillance
from ecmo_core.replay import Transition
from ecmo_core.surveillance import engine
from ecmo_core.surveillance.columnar import SEVERITY_NAMES, STATUS_NAMES, Frame
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import Finding, RunContext, Sample
from ecmo_core.surveillance.timeline import Timeline, micros

_one_moment = engine.evaluate
CHECKED: list[datetime] = []
"""Every moment cross-checked (the count shows the check ran)."""


def cross_checked_evaluate(
    samples: Iterable[Sample] | Timeline,
    *,
    now: datetime,
    config: SurveillanceConfig | None = None,
    context: RunContext | None = None,
) -> list[Finding]:
    """``evaluate``, then the same moment through every rule's ``columns``: they must agree."""
    timeline = engine.timeline_of(samples)  # a generator is read once, here
    findings = _one_moment(timeline, now=now, config=config, context=context)
    settings = config or SurveillanceConfig()
    frame = Frame(timeline, np.array([micros(now)], dtype=np.int64), settings, context or RunContext())
    CHECKED.append(now)
    by_rule = {f.rule_id: f for f in findings}
    for rule in surveillance.RULES.values():
        if not settings.enabled(rule.id):
            continue
        codes = rule.columns(frame)
        columnar = (STATUS_NAMES[codes.status[0]], SEVERITY_NAMES[codes.severity[0]])
        finding = by_rule.get(rule.id)
        expected = (None, "info") if finding is None else (finding.status, finding.severity)
        assert columnar == expected, f"{rule.id} at {now}: columnar {columnar} != one moment {expected}"
    return findings


surveillance.evaluate = cross_checked_evaluate  # type: ignore[assignment]

_replay = replay_module.replay
REPLAYS: list[int] = []
CHUNKS = (None, timedelta(minutes=7), timedelta(hours=1, seconds=13), timedelta(hours=5))


def cross_checked_replay(samples: Iterable[Sample] | Timeline, **kwargs: Any) -> list[Transition]:
    """``replay``, then the same replay with each chunk size of :data:`CHUNKS`: the transitions must be equal
    (chunk edges fall inside median windows, baselines, gaps and between steps of the scenarios)."""
    timeline = engine.timeline_of(samples)
    transitions = _replay(timeline, **kwargs)
    for chunk in CHUNKS:
        if "chunk" not in kwargs:
            assert _replay(timeline, **kwargs, chunk=chunk) == transitions, f"chunk {chunk}"
    REPLAYS.append(len(transitions))
    return transitions


replay_module.replay = cross_checked_replay  # type: ignore[assignment]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many moments were cross-checked."""
    terminalreporter.write_line(f"columnar engine cross-checked at {len(CHECKED)} moments of evaluate()")
    terminalreporter.write_line(f"chunked replay cross-checked on {len(REPLAYS)} replays")
