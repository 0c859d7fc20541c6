"""``evaluate``: run every rule that applies at one moment; ``changes``: where rules change along a timeline.

Complexity
    ``evaluate(samples, ...)`` with a plain sequence builds a :class:`Timeline` first (``O(n log n)``).
    With a prebuilt timeline each call is ``O(R · (log n + w))`` for ``R`` rules and ``w`` samples per median
    window, plus a one-off ``O(b)`` per component baseline (cached on the timeline). No call scans all
    samples. To judge many moments (a replay, a worker catching up) use :func:`changes`: every rule judges
    all moments at once on the timeline's arrays (:mod:`ecmo_core.surveillance.columnar`), and ``evaluate``
    words a finding only where a rule's status or severity changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ecmo_core.errors import InputError
from ecmo_core.surveillance.base import RuleInput
from ecmo_core.surveillance.columnar import NOT_APPLICABLE, SEVERITY_NAMES, STATUS_NAMES, Frame
from ecmo_core.surveillance.config import SurveillanceConfig
from ecmo_core.surveillance.model import Finding, RunContext, Sample, utc
from ecmo_core.surveillance.rules import RULES
from ecmo_core.surveillance.timeline import Micros, Timeline, from_micros, micros


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
    settings, run = _checked(config, context)
    inp = RuleInput(timeline_of(samples), moment, settings, run)
    findings: list[Finding] = []
    for rule in RULES.values():
        if not settings.enabled(rule.id):
            continue
        finding = rule.evaluate(inp)
        if finding is not None:
            findings.append(finding)
    return findings


def _checked(
    config: SurveillanceConfig | None, context: RunContext | None
) -> tuple[SurveillanceConfig, RunContext]:
    settings = SurveillanceConfig() if config is None else config
    if not isinstance(settings, SurveillanceConfig):
        raise InputError("config", f"must be a SurveillanceConfig, got {type(settings).__name__}")
    run = RunContext() if context is None else context
    if not isinstance(run, RunContext):
        raise InputError("context", f"must be a RunContext, got {type(run).__name__}")
    return settings, run


@dataclass(frozen=True, slots=True)
class Change:
    """At ``at`` rule ``rule_id`` changed status or severity: its new ``finding`` (None: it stopped applying).

    ``previous`` is the status before (None the first time the rule gives a finding, or after it did not
    apply).
    """

    at: datetime
    rule_id: str
    previous: str | None
    finding: Finding | None


def changes(
    samples: Iterable[Sample] | Timeline,
    *,
    moments: Sequence[datetime] | Micros,
    config: SurveillanceConfig | None = None,
    context: RunContext | None = None,
    state: dict[str, tuple[str, str]] | None = None,
) -> list[Change]:
    """Every change of a rule's (status, severity) along ``moments`` (sorted), in time order.

    The same as calling :func:`evaluate` at every moment and comparing each rule's finding with the one
    before — which the property test checks — but each rule judges all moments at once on the timeline's
    arrays, and :func:`evaluate` is called only where something changed (to word the finding). ``moments``
    are datetimes or integer microseconds since the epoch. ``state`` (rule id → (status, severity)) is what
    held before the first moment; it is updated in place. Within one moment, changes come in :data:`RULES`
    order, and rules that stopped applying after them (in the order they entered ``state``).
    """
    settings, run = _checked(config, context)
    timeline = timeline_of(samples)
    if isinstance(moments, np.ndarray):
        grid = moments.astype(np.int64, copy=False)
    else:
        grid = np.array([micros(utc("moments", m)) for m in moments], dtype=np.int64)
    if len(grid) and bool(np.any(np.diff(grid) < 0)):
        raise InputError("moments", "must be sorted in time")
    current = {} if state is None else state
    frame = Frame(timeline, grid, settings, run)
    wanted: set[int] = set()
    for rule in RULES.values():
        if not settings.enabled(rule.id):
            continue
        codes = rule.columns(frame)
        key = codes.status.astype(np.int16) * 4 + codes.severity
        before = current.get(rule.id)
        first = (
            NOT_APPLICABLE
            if before is None
            else STATUS_NAMES.index(before[0]) * 4 + SEVERITY_NAMES.index(before[1])
        )
        wanted.update(np.flatnonzero(np.diff(key, prepend=first) != 0).tolist())
    disabled = [rule_id for rule_id in current if not settings.enabled(rule_id)]
    if disabled and len(grid):
        wanted.add(0)
    result: list[Change] = []
    for i in sorted(wanted):
        now = from_micros(int(grid[i]))
        found = {f.rule_id: f for f in evaluate(timeline, now=now, config=settings, context=run)}
        for rule_id, finding in found.items():
            previous = current.get(rule_id)
            if previous != (finding.status, finding.severity):
                result.append(Change(now, rule_id, None if previous is None else previous[0], finding))
                current[rule_id] = (finding.status, finding.severity)
        for rule_id in [r for r in current if r not in found]:
            result.append(Change(now, rule_id, current.pop(rule_id)[0], None))
    return result
