"""``evaluate``: run every rule that applies at one moment.

Complexity
    ``evaluate(samples, ...)`` with a plain sequence builds a :class:`Timeline` first (``O(n log n)``).
    To evaluate many moments (a replay, a worker catching up), build the timeline once and pass it:
    each call is then ``O(R · (log n + w))`` for ``R`` rules and ``w`` samples per median window, plus a
    one-off ``O(b)`` per component baseline (cached on the timeline). No call scans all samples.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ecmo_core.errors import InputError
from ecmo_core.surveillance.base import RuleInput
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import Finding, RunContext, Sample, utc
from ecmo_core.surveillance.rules import RULES
from ecmo_core.surveillance.timeline import Timeline


def timeline_of(samples: Iterable[Sample] | Timeline) -> Timeline:
    """``samples`` as a :class:`Timeline` (returned as is if it already is one)."""
    if isinstance(samples, Timeline):
        return samples
    checked: list[Sample] = []
    for i, sample in enumerate(samples):
        if not isinstance(sample, Sample):
            raise InputError(f"samples[{i}]", f"must be a Sample, got {type(sample).__name__}")
        checked.append(sample)
    return Timeline(checked)


def evaluate(
    samples: Iterable[Sample] | Timeline,
    *,
    now: datetime,
    config: SurveillanceConfig | None = None,
    context: RunContext | None = None,
) -> list[Finding]:
    """Evaluate every enabled rule that applies to the run at ``now``.

    Parameters
    ----------
    samples : the run's telemetry (any order, duplicates allowed) or a prebuilt :class:`Timeline`. Samples
        observed after ``now`` are ignored.
    now : aware datetime; the moment being judged (the core has no clock).
    config : site settings (defaults when ``None``).
    context : configuration, component install times, weaning, targets, checks (all unknown when ``None``).

    Returns
    -------
    One :class:`Finding` per rule that applies, in :data:`RULES` order. A rule that does not apply (switched
    off, recirculation on V-A, pump rule during weaning, post-oxygenator PO2 not taken on pure oxygen)
    returns no finding; one whose data are missing or stale is ``indeterminate``, never ``clear``.
    """
    moment = utc("now", now)
    settings = SurveillanceConfig() if config is None else config
    if not isinstance(settings, SurveillanceConfig):
        raise InputError("config", f"must be a SurveillanceConfig, got {type(settings).__name__}")
    run = RunContext() if context is None else context
    if not isinstance(run, RunContext):
        raise InputError("context", f"must be a RunContext, got {type(run).__name__}")
    inp = RuleInput(timeline_of(samples), moment, settings, run)
    findings: list[Finding] = []
    for rule in RULES.values():
        if not settings.enabled(rule.id):
            continue
        finding = rule.evaluate(inp)
        if finding is not None:
            findings.append(finding)
    return findings
