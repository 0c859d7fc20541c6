"""Read what the rules need from the database: the run context, the site settings and the telemetry.

Pure reading; ``actions.evaluate_run`` does the writing. The context is rebuilt from the records of the run —
configuration history, every oxygenator and pump-head install time (so a new oxygenator resets its own
baseline), weaning trials from other apps, anticoagulation targets (``RunTarget``) and check times — so that a
replay across a target change or a settings change judges each moment by what held then ("segments").
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from ecmo_core.surveillance import (
    ANTICOAGULATION_TESTS,
    CONFIGURATIONS,
    PARAMETERS,
    RULES,
    RunContext,
    SurveillanceConfig,
    Timeline,
    config_from_mapping,
)
from ecmo_core.surveillance import (
    Sample as CoreSample,
)
from ecmo_core.surveillance.model import DEVICE
from ecmo_core.surveillance.timeline import Series, micros
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun, RunTarget
from ecmo_web.surveillance import hooks
from ecmo_web.surveillance.models import CircuitCheck, Sample, SurveillanceSetting, core_source

# A baseline window may start a little after the install (first data); load this much beyond it.
_BASELINE_MARGIN = dt.timedelta(hours=1)


def settings_history(program_id: int) -> list[SurveillanceSetting]:
    """The program's settings, oldest first."""
    return list(SurveillanceSetting.objects.filter(program_id=program_id).order_by("effective_from", "pk"))


def config_of(setting: SurveillanceSetting | None) -> SurveillanceConfig:
    return SurveillanceConfig() if setting is None else config_from_mapping(setting.rules or {})


def setting_at(program_id: int, at: dt.datetime) -> SurveillanceSetting | None:
    return (
        SurveillanceSetting.objects.filter(program_id=program_id, effective_from__lte=at)
        .order_by("-effective_from", "-pk")
        .first()
    )


@dataclass
class RunFacts:
    """Everything about a run that goes into its ``RunContext``, loaded once (five queries)."""

    run: EcmoRun
    configurations: list[tuple[dt.datetime, str]]
    oxygenator_installs: list[dt.datetime]
    pump_head_installs: list[dt.datetime]
    targets: list[RunTarget]
    check_times: list[dt.datetime]
    weaning: list[tuple[dt.datetime, dt.datetime | None]]
    settings: list[SurveillanceSetting]

    @classmethod
    def load(cls, run: EcmoRun) -> RunFacts:
        # V-PA has no ecmo_core configuration; it is left out (configuration-specific rules keep the last known).
        configurations = [
            (at, mode)
            for at, mode in run.configurations.order_by("started_at").values_list("started_at", "mode")
            if mode in CONFIGURATIONS
        ]
        installs = list(
            Component.objects.filter(
                circuit__run=run,
                kind__in=[ComponentKind.OXYGENATOR, ComponentKind.PUMP_HEAD],
            )
            .order_by("installed_at")
            .values_list("kind", "installed_at")
        )
        targets = list(
            RunTarget.objects.filter(run=run, parameter__in=ANTICOAGULATION_TESTS).order_by(
                "effective_from", "pk"
            )
        )
        checks = list(
            CircuitCheck.objects.filter(run=run, is_current=True)
            .order_by("observed_at")
            .values_list("observed_at", flat=True)
        )
        return cls(
            run=run,
            configurations=configurations,
            oxygenator_installs=[at for kind, at in installs if kind == ComponentKind.OXYGENATOR],
            pump_head_installs=[at for kind, at in installs if kind == ComponentKind.PUMP_HEAD],
            targets=targets,
            check_times=checks,
            weaning=hooks.weaning_trials(run),
            settings=settings_history(run.program_id),
        )

    # --- segments: moments between changes of targets or settings share one context and config ---------------
    @cached_property
    def boundaries(self) -> list[dt.datetime]:
        times = {t.effective_from for t in self.targets} | {s.effective_from for s in self.settings}
        return sorted(times)

    def segment_key(self, at: dt.datetime) -> int:
        return bisect_right(self.boundaries, at)

    def targets_at(self, at: dt.datetime) -> dict[str, tuple[float, float]]:
        current: dict[str, RunTarget] = {}
        for target in self.targets:
            if target.effective_from <= at:
                current[target.parameter] = target
        result: dict[str, tuple[float, float]] = {}
        for test, target in current.items():
            spec = PARAMETERS[test]
            low = spec.minimum if target.low is None else target.low
            high = spec.maximum if target.high is None else target.high
            if low < high:  # a point target (low == high) cannot be judged as a range
                result[test] = (low, high)
        return result

    def setting_at(self, at: dt.datetime) -> SurveillanceSetting | None:
        current = None
        for setting in self.settings:
            if setting.effective_from <= at:
                current = setting
        return current

    def context_at(self, at: dt.datetime) -> RunContext:
        return RunContext(
            configuration_history=tuple(self.configurations),
            run_started_at=self.run.started_at,
            oxygenator_install_times=tuple(self.oxygenator_installs),
            pump_head_install_times=tuple(self.pump_head_installs),
            weaning_trials=tuple(self.weaning),
            anticoagulation_targets=self.targets_at(at),
            check_times=tuple(self.check_times),
        )

    def config_at(self, at: dt.datetime) -> SurveillanceConfig:
        return config_of(self.setting_at(at))

    def all_configs(self) -> list[SurveillanceConfig]:
        return [SurveillanceConfig()] + [config_of(s) for s in self.settings]


def lookback(configs: list[SurveillanceConfig]) -> dt.timedelta:
    """How far back before the first moment the rules may look: the longest ``rule.lookback(config)`` of any
    rule under any of the settings, plus an hour's margin. Derived from ``RULES``, so a new rule that reads
    further back is loaded further back."""
    longest = max(rule.lookback(c) for rule in RULES.values() for c in configs)
    return longest + dt.timedelta(hours=1)


def baseline_length(configs: list[SurveillanceConfig]) -> dt.timedelta:
    """The longest component baseline any rule takes (``rule.baseline(config)``) under any of the settings."""
    spans = [span for rule in RULES.values() for c in configs if (span := rule.baseline(c)) is not None]
    return max(spans, default=dt.timedelta(0))


def _latest_at_or_before(times: list[dt.datetime], at: dt.datetime) -> dt.datetime | None:
    past = [t for t in times if t <= at]
    return max(past) if past else None


def load_timeline(facts: RunFacts, *, start: dt.datetime, end: dt.datetime) -> Timeline:
    """The samples the rules need to judge every moment in [start, end], as an indexed ``Timeline``.

    Loaded: everything from ``start − lookback`` to ``end``, plus the baseline window of the oxygenator and of
    the pump head in use at ``start`` (the first hours of data after each was installed). Two to four queries;
    nothing between a component's baseline and the look-back window is read.
    """
    configs = facts.all_configs()
    run = facts.run
    begin = start - lookback(configs)
    baseline = baseline_length(configs) + _BASELINE_MARGIN
    spans = Q(observed_at__gte=begin, observed_at__lte=end)
    for installs in (facts.oxygenator_installs, facts.pump_head_installs):
        anchor = _latest_at_or_before(installs, start)
        if anchor is not None and anchor >= begin:
            continue
        first_qs = Sample.objects.filter(run=run, observed_at__lte=end)
        if anchor is not None:
            first_qs = first_qs.filter(observed_at__gte=anchor)
        first = first_qs.order_by("observed_at").values_list("observed_at", flat=True).first()
        if first is None or first >= begin:
            continue
        spans |= Q(observed_at__gte=anchor or first, observed_at__lte=min(first + baseline, end))
    samples = Sample.objects.filter(run=run, parameter__in=list(PARAMETERS)).filter(spans)
    if connection.vendor == "sqlite":
        # An evaluation reads thousands of rows, and the ORM parses each stored time (SQLite keeps it as UTC text)
        # through Django's converters; read the text and parse each distinct time once (a console sends a dozen
        # parameters at each time). PostgreSQL's driver returns aware times itself.
        text = samples.annotate(at_text=Cast("observed_at", CharField()))
        return _timeline(text.values_list("at_text", "parameter", "value", "source"), _text_micros)
    return timeline_of_rows(samples.values_list("observed_at", "parameter", "value", "source"))


def timeline_of_rows(rows: Iterable[tuple[dt.datetime, str, float, str]]) -> Timeline:
    """A columnar ``Timeline`` straight from stored rows ``(observed_at, parameter, value, source)``.

    Stored rows were validated on their way in and are unique on (parameter, observed_at, source), so they go
    into the timeline's arrays without becoming ``Sample`` objects first.
    """
    return _timeline(rows, micros)


def _timeline(rows: Iterable[tuple[Any, str, float, str]], to_micros: Callable[[Any], int]) -> Timeline:
    """:func:`timeline_of_rows` with the time of each row given as ``to_micros`` reads it; each distinct time and
    source is converted once."""
    times: dict[Any, int] = {}
    names: dict[str, str] = {}
    grouped: dict[tuple[str, bool], list[tuple[int, float, str]]] = {}
    for at, parameter, value, source in rows:
        us = times.get(at)
        if us is None:
            us = times[at] = to_micros(at)
        name = names.get(source)
        if name is None:
            name = names[source] = core_source(source)
        grouped.setdefault((parameter, name == DEVICE), []).append((us, float(value), name))
    return Timeline.from_series({key: Series.of(group) for key, group in grouped.items()})


def _text_micros(text: str) -> int:
    """A time as SQLite stores it (UTC, without an offset: what Django writes) in microseconds since the epoch."""
    when = dt.datetime.fromisoformat(text)
    return micros(when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when)


def stored_sample(observed_at: dt.datetime, parameter: str, value: float, source: str) -> CoreSample:
    """A core ``Sample`` from a stored row, without validating it again.

    Every stored sample was validated by ``ecmo_core`` on its way in (``actions.ingest_samples``); re-validating
    10⁵ rows for each evaluation would cost more than evaluating them. The time is converted to UTC as the core
    would.
    """
    sample = object.__new__(CoreSample)
    object.__setattr__(sample, "observed_at", observed_at.astimezone(dt.UTC))
    object.__setattr__(sample, "parameter", parameter)
    object.__setattr__(sample, "value", float(value))
    object.__setattr__(sample, "source", source)
    return sample
