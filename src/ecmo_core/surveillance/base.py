"""What every rule module shares: its input, its registry entry, and helpers to word findings.

A rule is a module under ``rules/`` with ``RULE_ID``, ``RULE_VERSION``, a docstring giving rationale and
source, ``evaluate(inp: RuleInput) -> Finding | None`` (``None`` = the rule does not apply now), the same
judgement over many moments at once, ``columns(frame: Frame) -> Codes`` (status and severity only; see
:mod:`ecmo_core.surveillance.columnar`), the data it needs — ``lookback(config)`` (how far before a moment it
reads) and ``baseline(config)`` (the hours of a component baseline, or ``None``) — and ``RULE = Rule(...)``
registering it. See docs/rules/README.md, "How to add a rule".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ecmo_core.surveillance.columnar import Codes, Frame
from ecmo_core.surveillance.config import EngineConfig, SurveillanceConfig
from ecmo_core.surveillance.model import EvidenceValue, Finding, RunContext, Severity, iso
from ecmo_core.surveillance.timeline import NoReading, Reading, SeriesPair, Timeline, latest, windowed


@dataclass(frozen=True, slots=True)
class RuleInput:
    """Everything a rule may look at: the telemetry, the moment, the site settings and the run context."""

    timeline: Timeline
    now: datetime
    config: SurveillanceConfig
    context: RunContext

    @property
    def now_s(self) -> float:
        return self.now.timestamp()

    @property
    def engine(self) -> EngineConfig:
        return self.config.engine

    def windowed(
        self,
        pair: SeriesPair,
        *,
        since: datetime | None = None,
        floor: float | None = None,
        manual_max_age_h: float | None = None,
    ) -> Reading | NoReading:
        """Windowed device median, else a recent hand-entered value, with the engine's settings."""
        engine = self.engine
        manual_h = engine.check_max_age_min / 60.0 if manual_max_age_h is None else manual_max_age_h
        return windowed(
            pair,
            now_s=self.now_s,
            window_s=engine.median_window_min * 60.0,
            fresh_s=engine.device_fresh_min * 60.0,
            min_samples=engine.min_window_samples,
            manual_max_age_s=manual_h * 3600.0,
            since_s=None if since is None else since.timestamp(),
            floor=floor,
        )

    def latest(self, pair: SeriesPair, *, max_age_h: float | None = None) -> Reading | NoReading:
        """Newest value (timeline.latest). ``max_age_h`` applies to every source (labs); by default the device
        value counts while fresh and a hand-entered one for the check interval."""
        engine = self.engine
        device_s = engine.device_fresh_min * 60.0 if max_age_h is None else max_age_h * 3600.0
        manual_s = engine.check_max_age_min * 60.0 if max_age_h is None else max_age_h * 3600.0
        return latest(pair, now_s=self.now_s, device_max_age_s=device_s, manual_max_age_s=manual_s)


@dataclass(frozen=True, slots=True)
class Rule:
    """Registry entry: id, version, severity when firing (the highest, for graded rules), title, code, scope.

    ``scope`` says in plain words when the rule applies (shown when a replay reports that it stopped
    applying). ``columns`` judges many moments at once (status and severity codes). ``lookback(config)`` is
    how far before a moment the rule may read; ``baseline(config)`` the length of the component baseline it
    takes after an install (``None`` if it takes none). The web layer loads exactly that much data, so a
    new rule cannot silently stay indeterminate there for want of it.
    """

    id: str
    version: int
    severity: Severity
    title: str
    evaluate: Callable[[RuleInput], Finding | None]
    columns: Callable[[Frame], Codes]
    lookback: Callable[[SurveillanceConfig], timedelta]
    baseline: Callable[[SurveillanceConfig], timedelta | None] = lambda config: None
    scope: str = "every run"


def hours(value: float) -> timedelta:
    """``value`` hours as a timedelta."""
    return timedelta(hours=value)


def windowed_lookback(config: SurveillanceConfig) -> timedelta:
    """How far back a windowed reading reaches: the median window, device freshness, a check's age."""
    engine = config.engine
    return timedelta(minutes=max(engine.median_window_min, engine.device_fresh_min, engine.check_max_age_min))


def latest_lookback(config: SurveillanceConfig) -> timedelta:
    """How far back a latest reading with the engine's ages reaches (device freshness, a check's age)."""
    engine = config.engine
    return timedelta(minutes=max(engine.device_fresh_min, engine.check_max_age_min))


class Reporter:
    """Words the three kinds of finding for one rule (clear and indeterminate findings are ``info``)."""

    def __init__(self, rule_id: str, rule_version: int) -> None:
        self.rule_id = rule_id
        self.rule_version = rule_version

    def firing(self, severity: Severity, message: str, evidence: Mapping[str, EvidenceValue]) -> Finding:
        return Finding(self.rule_id, self.rule_version, "firing", severity, message, evidence)

    def clear(self, message: str, evidence: Mapping[str, EvidenceValue]) -> Finding:
        return Finding(self.rule_id, self.rule_version, "clear", "info", message, evidence)

    def indeterminate(self, message: str, evidence: Mapping[str, EvidenceValue] | None = None) -> Finding:
        return Finding(self.rule_id, self.rule_version, "indeterminate", "info", message, evidence or {})


def num(value: float, places: int = 2) -> str:
    """A number as a perfusionist writes it: ``4.4``, ``331``, ``5.23``, ``-125``."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def pct(fraction: float) -> str:
    """A fraction as a whole percentage: ``0.568`` → ``57 %``."""
    return f"{fraction * 100:.0f} %"


def evidence_of(name: str, reading: Reading) -> dict[str, EvidenceValue]:
    """Evidence entries for one reading: value, time, source and number of samples in the median."""
    return {
        name: reading.value,
        f"{name}_at": iso(reading.at),
        f"{name}_source": reading.source,
        f"{name}_samples": reading.count,
    }
