"""The columnar engine: every rule judged at many moments at once, on the timeline's arrays.

A :class:`Frame` is a sorted array of moments (integer microseconds) plus the timeline, the site settings and
the run context. Rules read it the way they read a :class:`~ecmo_core.surveillance.base.RuleInput`, but each
reading is a column — one value per moment — computed vectorized:

* :meth:`Frame.windowed` — the windowed device median at every moment. The median over the window that
  ends at each *sample* is one Polars ``rolling_quantile_by`` pass (``O(n log w)`` in native code, the
  "midpoint" interpolation, which is exactly :func:`statistics.median`); a moment whose window holds exactly
  the samples of its newest sample's window reuses that value, and the few others (moments between samples
  whose window has just lost an old sample) are answered by a second pass over the samples and those moments
  merged. Freshness, the sample count, the ``since`` bound (the current component) and the ``floor``
  (dropouts) are binary searches over all moments at once. Where the device fails, the newest recent hand-
  entered value.
* :meth:`Frame.latest` — the newest value at every moment (or at any other array of times).
* :meth:`Frame.baseline` and :meth:`Frame.median_between` — baseline windows per component (a handful of
  distinct windows, each median computed once and cached on the timeline).

Each rule's ``columns(frame)`` returns :class:`Codes` (status and severity per moment). The engine only needs
those to find the moments where a rule changes state; the finding's words at such a moment come from the
rule's own ``evaluate`` — so the columnar and the one-moment paths can never word a finding differently, and
the property test in ``tests/core/test_surveillance_columnar.py`` checks that they agree on every moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

from ecmo_core.surveillance.config import EngineConfig, SurveillanceConfig
from ecmo_core.surveillance.model import RunContext
from ecmo_core.surveillance.timeline import (
    FOREVER,
    NEVER,
    US,
    Micros,
    Reading,
    Series,
    SeriesPair,
    Timeline,
    Window,
    first_at_or_after,
    median_between,
    micros,
    seconds_to_micros,
)

Bools = NDArray[np.bool_]
Floats = NDArray[np.float64]
Small = NDArray[np.int8]

NOT_APPLICABLE, CLEAR, INDETERMINATE, FIRING = 0, 1, 2, 3
"""Status codes (``NOT_APPLICABLE``: the rule gives no finding at that moment)."""
STATUS_NAMES: tuple[str | None, ...] = (None, "clear", "indeterminate", "firing")
INFO, WARNING, CRITICAL = 0, 1, 2
"""Severity codes."""
SEVERITY_NAMES = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Col:
    """A reading at every moment: ``ok`` where there is one, its ``value``, newest sample time ``at`` (µs).

    ``value`` and ``at`` are meaningless where ``ok`` is False.
    """

    ok: Bools
    value: Floats
    at: Micros


@dataclass(frozen=True, slots=True)
class Codes:
    """Status and severity codes per moment (see :data:`STATUS_NAMES`, :data:`SEVERITY_NAMES`)."""

    status: Small
    severity: Small


def judged(known: Bools, firing: Bools, severity: int | Small) -> Codes:
    """``indeterminate`` where not ``known``, else ``firing`` (with ``severity``) or ``clear``."""
    status = np.where(known, np.where(firing, FIRING, CLEAR), INDETERMINATE).astype(np.int8)
    return Codes(status, np.where(status == FIRING, severity, INFO).astype(np.int8))


def not_applicable_where(codes: Codes, mask: Bools) -> Codes:
    """``codes`` with no finding where ``mask`` holds."""
    return Codes(
        np.where(mask, NOT_APPLICABLE, codes.status).astype(np.int8),
        np.where(mask, INFO, codes.severity).astype(np.int8),
    )


def _rolling_median(us: Micros, values: Floats, window_us: int) -> Floats:
    """Median of ``values`` over ``[t − window, t]`` at each row (nulls, i.e. NaN, are skipped)."""
    frame = pl.DataFrame({"t": us, "v": pl.Series(values, nan_to_null=True)})
    median = pl.col("v").rolling_quantile_by(
        "t", window_size=f"{window_us}i", quantile=0.5, interpolation="midpoint", closed="both"
    )
    result: Floats = frame.select(median).to_series().to_numpy().astype(np.float64)
    return result


def _newest(series: Series, at: Micros) -> tuple[Micros, Bools]:
    """Index of the newest sample at or before each time in ``at``, and where there is one."""
    if series.us is at:  # the moments are this series' own times (one console sending everything)
        return np.arange(len(at), dtype=np.int64), np.ones(len(at), dtype=np.bool_)
    j = np.searchsorted(series.us, at, side="right") - 1
    return np.maximum(j, 0), j >= 0


class Frame:
    """The rules' view of many moments at once (see the module docstring)."""

    def __init__(
        self,
        timeline: Timeline,
        moments: Micros,
        config: SurveillanceConfig,
        context: RunContext,
        rolled: dict[tuple[object, ...], Floats] | None = None,
    ) -> None:
        self.timeline = timeline
        self.moments = moments
        self.config = config
        self.context = context
        # Rolling medians of the samples these moments can read, shared with subsets and dropped with the frame
        # (so a replay judged a day at a time holds a day of them, not the run's).
        self._rolled: dict[tuple[object, ...], Floats] = {} if rolled is None else rolled

    def __len__(self) -> int:
        return len(self.moments)

    @property
    def engine(self) -> EngineConfig:
        return self.config.engine

    def subset(self, mask: Bools) -> Frame:
        """The same frame at the moments where ``mask`` holds."""
        return Frame(self.timeline, self.moments[mask], self.config, self.context, self._rolled)

    def split(
        self, mask: Bools, when: Callable[[Frame], Codes], otherwise: Callable[[Frame], Codes]
    ) -> Codes:
        """``when`` judged at the moments where ``mask`` holds, ``otherwise`` at the others."""
        status = np.zeros(len(self), dtype=np.int8)
        severity = np.zeros(len(self), dtype=np.int8)
        for part, judge in ((mask, when), (~mask, otherwise)):
            if part.any():
                codes = judge(self.subset(part))
                status[part], severity[part] = codes.status, codes.severity
        return Codes(status, severity)

    # --- what holds at each moment ---------------------------------------------------------------------------
    def as_of(self, times: tuple[datetime, ...], *extra: datetime | None) -> Micros:
        """The latest of ``times`` (and ``extra``) at or before each moment; :data:`NEVER` where none."""
        known = np.array(sorted({micros(t) for t in (*times, *extra) if t is not None}), dtype=np.int64)
        j = np.searchsorted(known, self.moments, side="right") - 1
        return np.where(j >= 0, known[np.maximum(j, 0)] if len(known) else NEVER, NEVER).astype(np.int64)

    def weaning(self) -> Bools:
        """Where a weaning trial is recorded as active."""
        context = self.context
        active = np.full(len(self), context.weaning_trial_active)
        for start, end in context.weaning_trials:
            upper = FOREVER if end is None else micros(end)
            active |= (self.moments >= micros(start)) & (self.moments <= upper)
        return active

    def configuration(self) -> list[str | None]:
        """The configuration in force at each moment (as ``RunContext.configuration_at``)."""
        context = self.context
        history = context.configuration_history
        starts = np.array([micros(since) for since, _ in history], dtype=np.int64)
        names = [context.configuration, *(name for _, name in history)]
        j = np.searchsorted(starts, self.moments, side="right")
        return [names[k] for k in j.tolist()]

    # --- readings ---------------------------------------------------------------------------------------------
    def latest(self, pair: SeriesPair, *, max_age_h: float | None = None, at: Micros | None = None) -> Col:
        """As ``RuleInput.latest`` at each moment (or at each time in ``at``)."""
        engine = self.engine
        device_s = engine.device_fresh_min * 60.0 if max_age_h is None else max_age_h * 3600.0
        manual_s = engine.check_max_age_min * 60.0 if max_age_h is None else max_age_h * 3600.0
        when = self.moments if at is None else at
        ok = np.zeros(len(when), dtype=np.bool_)
        value = np.zeros(len(when), dtype=np.float64)
        newest = np.zeros(len(when), dtype=np.int64)
        for series, age_s in ((pair.manual, manual_s), (pair.device, device_s)):  # device wins: last
            if not len(series):
                continue
            j, has = _newest(series, when)
            t = series.us[j]
            fresh = has & (t >= when - seconds_to_micros(age_s))
            value = np.where(fresh, series.values[j], value)
            newest = np.where(fresh, t, newest)
            ok |= fresh
        return Col(ok, value, newest)

    def windowed(
        self,
        pair: SeriesPair,
        *,
        since: Micros | None = None,
        floor: float | None = None,
        manual_max_age_h: float | None = None,
    ) -> Col:
        """As ``RuleInput.windowed`` at each moment; ``since`` is a lower time bound per moment."""
        engine = self.engine
        manual_h = engine.check_max_age_min / 60.0 if manual_max_age_h is None else manual_max_age_h
        lower = np.full(len(self), NEVER, dtype=np.int64) if since is None else since
        moments = self.moments
        count = np.zeros(len(self), dtype=np.int64)
        value = np.zeros(len(self), dtype=np.float64)
        newest = np.zeros(len(self), dtype=np.int64)
        device = self._floored(pair, floor)
        if len(device):
            j, has = _newest(device, moments)
            newest = device.us[j]
            fresh = has & (
                newest >= np.maximum(moments - seconds_to_micros(engine.device_fresh_min * 60.0), lower)
            )
            window_us = seconds_to_micros(engine.median_window_min * 60.0)
            start = np.searchsorted(device.us, np.maximum(moments - window_us, lower), side="left")
            count = np.where(fresh, j + 1 - start, 0)
            enough = count >= engine.min_window_samples
            if enough.any():
                value = self._medians(pair.key, floor, device, lower, enough, j, start, window_us)
        else:
            enough = np.zeros(len(self), dtype=np.bool_)
        manual = pair.manual.at_least(floor)
        ok_manual = np.zeros(len(self), dtype=np.bool_)
        if len(manual):
            k, has = _newest(manual, moments)
            t = manual.us[k]
            ok_manual = has & (t >= np.maximum(moments - seconds_to_micros(manual_h * 3600.0), lower))
            value = np.where(enough, value, manual.values[k])
            newest = np.where(enough, newest, t)
        return Col(enough | ok_manual, value, newest)

    def _floored(self, pair: SeriesPair, floor: float | None) -> Series:
        return self.timeline.memo(("floored", pair.key, floor), lambda: pair.device.at_least(floor))

    def _medians(
        self,
        key: str,
        floor: float | None,
        device: Series,
        lower: Micros,
        wanted: Bools,
        j: Micros,
        start: Micros,
        window_us: int,
    ) -> Floats:
        """The window median at each wanted moment, one run of equal ``lower`` bounds at a time."""
        value = np.zeros(len(self), dtype=np.float64)
        fresh_us = seconds_to_micros(self.engine.device_fresh_min * 60.0)
        edges = np.flatnonzero(np.diff(lower)) + 1
        for lo, hi in zip(np.r_[0, edges].tolist(), np.r_[edges, len(self)].tolist(), strict=True):
            want = np.flatnonzero(wanted[lo:hi]) + lo
            if not len(want):
                continue
            # A wanted moment has a fresh newest sample (at least two in its window), so every window read
            # here lies in [first moment − freshness − window, last moment]: only those samples are rolled.
            reach = int(self.moments[lo]) - fresh_us - window_us
            first = int(np.searchsorted(device.us, max(int(lower[lo]), reach), side="left"))
            last = int(np.searchsorted(device.us, self.moments[hi - 1], side="right"))
            us, values = device.us[first:last], device.values[first:last]
            slot = ("rolling", key, floor, first, last, window_us)
            if slot not in self._rolled:
                self._rolled[slot] = _rolling_median(us, values, window_us)
            rolled = self._rolled[slot]
            jj, ss = j[want] - first, start[want] - first
            own_start = np.searchsorted(us, us[jj] - window_us, side="left")  # each wanted newest sample's
            same = own_start == ss
            value[want[same]] = rolled[jj[same]]
            rest = want[~same]
            if len(rest):
                queries = self.moments[rest]
                # Only the samples the queries' windows can hold (a replay judges a day at a time).
                lo_i = int(np.searchsorted(us, queries[0] - window_us, side="left"))
                hi_i = int(np.searchsorted(us, queries[-1], side="right"))
                near_us, near_values = us[lo_i:hi_i], values[lo_i:hi_i]
                merged_us = np.concatenate([near_us, queries])
                merged_values = np.concatenate([near_values, np.full(len(queries), np.nan)])
                order = np.argsort(merged_us, kind="stable")
                medians = _rolling_median(merged_us[order], merged_values[order], window_us)
                position = np.empty(len(order), dtype=np.int64)
                position[order] = np.arange(len(order))
                value[rest] = medians[position[len(near_us) :]]
        return value

    # --- baselines --------------------------------------------------------------------------------------------
    def baseline(self, pair: SeriesPair, anchors: Micros, hours: float) -> tuple[Bools, Micros, Micros]:
        """Where the baseline window after each moment's anchor is complete, and its start and end (µs)."""
        start = np.zeros(len(self), dtype=np.int64)
        has = np.zeros(len(self), dtype=np.bool_)
        for anchor in np.unique(anchors).tolist():
            first = first_at_or_after(pair, anchor)
            if first is not None:
                here = anchors == anchor
                start[here], has[here] = first, True
        end = start + seconds_to_micros(hours * 3600.0)
        return has & (self.moments >= end), start, end

    def median_between(
        self,
        pair: SeriesPair,
        ok: Bools,
        start: Micros,
        end: Micros,
        *,
        min_samples: int,
        floor: float | None = None,
    ) -> Col:
        """The baseline median (as ``timeline.median_between``) of each moment's window where ``ok``."""
        found = np.zeros(len(self), dtype=np.bool_)
        value = np.zeros(len(self), dtype=np.float64)
        starts = start[ok]
        for s in starts[np.r_[True, starts[1:] != starts[:-1]]].tolist() if len(starts) else ():
            e = s + int(end[ok][0] - starts[0])  # every window has the same length
            reading = median_between(
                self.timeline, pair, Window(s / US, e / US), min_samples=min_samples, floor=floor
            )
            if not isinstance(reading, Reading):
                continue
            here = ok & (start == s)
            found |= here
            value[here] = reading.value
        return Col(found, value, end)
