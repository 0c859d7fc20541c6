"""An indexed, read-only view of telemetry, and the ways rules read it.

Build a :class:`Timeline` once (``O(n log n)``: one sort, per parameter and per source kind) and evaluate the
rules at as many moments as you like. Every look-up is a binary search on the time stamps plus work on the
samples inside one window, so one evaluation costs ``O(R · (log n + w))`` for ``R`` rules and ``w`` samples
per window; a baseline (median over the first hours after a component was installed) is computed once per
component and then cached on the timeline.

Rules never see a sample observed after ``now``: every look-up is cut at ``now`` (a console whose clock runs
fast therefore cannot trip a rule early; its samples wait until ``now`` reaches them).

Three ways to read a parameter:

* :func:`windowed` — noisy telemetry. The median of the device samples in the last ``median_window_min``
  minutes, provided the newest is fresh (``device_fresh_min``) and there are at least ``min_window_samples``
  of them; otherwise the latest hand-entered value (source other than ``"device"``) if it is recent enough.
* :func:`latest` — discrete values (bubble detector, lab results, blood gases): the newest sample, the device
  value while it is fresh, otherwise the newest hand-entered one within its maximum age.
* :func:`baseline_window` + :func:`median_between` — the median over the first hours of data after an anchor.

Each returns a :class:`Reading`, or a :class:`NoReading` whose ``reason`` says in plain words what is
missing or stale, so the rule can be ``indeterminate`` rather than silently ``clear``.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ecmo_core.surveillance.model import CHECK, DEVICE, Sample
from ecmo_core.surveillance.parameters import label

T = TypeVar("T")

DELTA_P = "membrane_delta_p_mmhg"
PRE = "pre_oxygenator_pressure_mmhg"
POST = "post_oxygenator_pressure_mmhg"


def stamp(value: datetime) -> str:
    """A time for messages: ``2025-01-06 04:00 UTC``."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Series:
    """Samples of one parameter from one kind of source (device or hand-entered), sorted by time."""

    __slots__ = ("at", "sources", "times", "values")

    def __init__(self, rows: Iterable[tuple[float, datetime, float, str]] = ()) -> None:
        ordered = sorted(rows, key=lambda row: row[0])
        self.times: list[float] = [row[0] for row in ordered]
        self.at: list[datetime] = [row[1] for row in ordered]
        self.values: list[float] = [row[2] for row in ordered]
        self.sources: list[str] = [row[3] for row in ordered]

    def __len__(self) -> int:
        return len(self.times)

    def upto(self, now_s: float) -> int:
        """Number of samples observed at or before ``now_s``."""
        return bisect_right(self.times, now_s)

    def since(self, start_s: float) -> int:
        """Index of the first sample observed at or after ``start_s``."""
        return bisect_left(self.times, start_s)


@dataclass(frozen=True, slots=True)
class SeriesPair:
    """The device and the hand-entered samples of one (possibly derived) parameter, with its plain name."""

    key: str
    label: str
    device: Series
    manual: Series

    def has_between(self, start_s: float, end_s: float) -> bool:
        """True if either kind has a sample in [start_s, end_s]."""
        return any(s.upto(end_s) > s.since(start_s) for s in (self.device, self.manual))


@dataclass(frozen=True, slots=True)
class Reading:
    """A value a rule may judge: ``value``, the time of the newest sample used, its source and the count."""

    value: float
    at: datetime
    source: str
    count: int


@dataclass(frozen=True, slots=True)
class NoReading:
    """Why there is no usable value (plain words, for an indeterminate finding)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Window:
    """A baseline window ``[start, end]`` (seconds since the epoch)."""

    start_s: float
    end_s: float

    @property
    def start(self) -> datetime:
        return _dt(self.start_s)

    @property
    def end(self) -> datetime:
        return _dt(self.end_s)


_EMPTY = Series()


class Timeline:
    """Telemetry indexed for repeated evaluation.

    Duplicates on ``(parameter, observed_at, source)`` collapse to the last one given (a resent HL7 message
    or a corrected entry), so replaying the same feed twice gives one alert transition, not two.
    """

    def __init__(self, samples: Iterable[Sample]) -> None:
        unique: dict[tuple[str, datetime, str], Sample] = {}
        for sample in samples:
            unique[(sample.parameter, sample.observed_at, sample.source)] = sample
        grouped: dict[tuple[str, bool], list[tuple[float, datetime, float, str]]] = {}
        checks: set[float] = set()
        times: set[datetime] = set()
        for sample in unique.values():
            t = sample.observed_at.timestamp()
            grouped.setdefault((sample.parameter, sample.is_device), []).append(
                (t, sample.observed_at, sample.value, sample.source)
            )
            times.add(sample.observed_at)
            if sample.source == CHECK:
                checks.add(t)
        self._series = {key: Series(rows) for key, rows in grouped.items()}
        self._check_times = sorted(checks)
        self._times = tuple(sorted(times))
        self._count = len(unique)
        self._cache: dict[Hashable, object] = {}

    def __len__(self) -> int:
        """Number of samples kept (after duplicates collapsed)."""
        return self._count

    @property
    def times(self) -> tuple[datetime, ...]:
        """Every distinct observation time, sorted (the moments a replay evaluates at)."""
        return self._times

    def pair(self, parameter: str) -> SeriesPair:
        """The device and hand-entered series of ``parameter`` (empty series if it was never sampled)."""
        return SeriesPair(
            parameter,
            label(parameter),
            self._series.get((parameter, True), _EMPTY),
            self._series.get((parameter, False), _EMPTY),
        )

    def computed_delta_p(self, tolerance_s: float) -> SeriesPair:
        """Membrane ΔP = pre − post from paired samples (same source kind, times within ``tolerance_s``)."""
        return self.memo(("computed_delta_p", tolerance_s), lambda: self._computed_delta_p(tolerance_s))

    def _computed_delta_p(self, tolerance_s: float) -> SeriesPair:
        pre, post = self.pair(PRE), self.pair(POST)
        kinds = [
            _pair_series(a, b, tolerance_s) for a, b in ((pre.device, post.device), (pre.manual, post.manual))
        ]
        return SeriesPair(
            f"computed_delta_p@{tolerance_s:g}s", "membrane ΔP (pre − post)", kinds[0], kinds[1]
        )

    def last_check_at(self, now_s: float) -> datetime | None:
        """The newest sample with source ``"check"`` at or before ``now_s`` (it documents a circuit check)."""
        i = bisect_right(self._check_times, now_s)
        return _dt(self._check_times[i - 1]) if i else None

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Cache ``compute()`` under ``key`` for the life of the timeline (baselines, derived series)."""
        if key not in self._cache:
            self._cache[key] = compute()
        result: T = self._cache[key]  # type: ignore[assignment]  # stored by this method under this key
        return result


def _pair_series(pre: Series, post: Series, tolerance_s: float) -> Series:
    rows: list[tuple[float, datetime, float, str]] = []
    for t, at, value, source in zip(pre.times, pre.at, pre.values, pre.sources, strict=True):
        # Nearest post sample in time; a tie goes to the earlier one.
        j = bisect_left(post.times, t)
        candidates = [k for k in (j - 1, j) if 0 <= k < len(post)]
        best = min(candidates, key=lambda k: abs(post.times[k] - t), default=None)
        if best is not None and abs(post.times[best] - t) <= tolerance_s:
            rows.append((t, at, value - post.values[best], source))
    return Series(rows)


def _latest_valid(series: Series, now_s: float, cutoff_s: float, floor: float | None) -> int | None:
    """Index of the newest sample in [cutoff_s, now_s] whose value is at or above ``floor``."""
    i = series.upto(now_s) - 1
    while i >= 0 and series.times[i] >= cutoff_s:
        if floor is None or series.values[i] >= floor:
            return i
        i -= 1
    return None


def _newest_at(pair: SeriesPair, now_s: float, since_s: float) -> float | None:
    newest = [
        s.times[s.upto(now_s) - 1] for s in (pair.device, pair.manual) if s.upto(now_s) > s.since(since_s)
    ]
    return max(newest) if newest else None


def _missing(pair: SeriesPair, now_s: float, since_s: float | None, what: str) -> NoReading:
    newest = _newest_at(pair, now_s, float("-inf") if since_s is None else since_s)
    if newest is not None:
        return NoReading(f"the last {pair.label} reading ({stamp(_dt(newest))}) is {what}")
    after = "" if since_s is None else f" since {stamp(_dt(since_s))}"
    return NoReading(f"no {pair.label} reading{after}")


def windowed(
    pair: SeriesPair,
    *,
    now_s: float,
    window_s: float,
    fresh_s: float,
    min_samples: int,
    manual_max_age_s: float,
    since_s: float | None = None,
    floor: float | None = None,
) -> Reading | NoReading:
    """Median of the fresh device samples in the window, else the newest recent hand-entered value.

    ``since_s`` ignores samples before it (e.g. before the current component was installed); ``floor``
    ignores values below it (a flow probe dropout reading 0.0 is missing, not low flow).
    """
    lower = float("-inf") if since_s is None else since_s
    device = pair.device
    cutoff = max(now_s - fresh_s, lower)
    newest = _latest_valid(device, now_s, cutoff, floor)
    count = 0
    if newest is not None:
        start = device.since(max(now_s - window_s, lower))
        values = [v for v in device.values[start : newest + 1] if floor is None or v >= floor]
        count = len(values)
        if count >= min_samples:
            return Reading(statistics.median(values), device.at[newest], DEVICE, count)
    manual = pair.manual
    i = _latest_valid(manual, now_s, max(now_s - manual_max_age_s, lower), floor)
    if i is not None:
        return Reading(manual.values[i], manual.at[i], manual.sources[i], 1)
    if newest is not None:
        return NoReading(
            f"only {count} usable {pair.label} reading{'' if count == 1 else 's'} "
            f"in the last {window_s / 60:g} min "
            f"({min_samples} needed for a median)"
        )
    if floor is not None and _latest_valid(device, now_s, cutoff, None) is not None:
        return NoReading(
            f"the recent {pair.label} readings are below {floor:g}: a sensor dropout, not a value"
        )
    return _missing(pair, now_s, since_s, "stale")


def latest(
    pair: SeriesPair,
    *,
    now_s: float,
    device_max_age_s: float,
    manual_max_age_s: float,
    since_s: float | None = None,
) -> Reading | NoReading:
    """The newest device value while fresh, else the newest hand-entered value within its maximum age."""
    lower = float("-inf") if since_s is None else since_s
    for series, max_age_s in ((pair.device, device_max_age_s), (pair.manual, manual_max_age_s)):
        i = _latest_valid(series, now_s, max(now_s - max_age_s, lower), None)
        if i is not None:
            return Reading(series.values[i], series.at[i], series.sources[i], 1)
    return _missing(pair, now_s, since_s, "too old")


def baseline_window(
    pair: SeriesPair, *, anchor_s: float | None, now_s: float, hours: float
) -> Window | NoReading:
    """The first ``hours`` of data at or after ``anchor_s`` (or after the data begin), once they are complete.

    The window starts at the first sample (device or hand-entered) at or after the anchor, so a component
    installed before its telemetry was connected gets its baseline from the first hours of data. While
    ``now`` is inside the window the baseline is still forming (``NoReading``).
    """
    lower = float("-inf") if anchor_s is None else anchor_s
    firsts = [s.times[s.since(lower)] for s in (pair.device, pair.manual) if s.since(lower) < s.upto(now_s)]
    if not firsts:
        return _missing(pair, now_s, anchor_s, "stale")
    start_s = min(firsts)
    end_s = start_s + hours * 3600.0
    if now_s < end_s:
        return NoReading(
            f"the {pair.label} baseline is still forming "
            f"(first {hours:g} h of data, until {stamp(_dt(end_s))})"
        )
    return Window(start_s, end_s)


def median_between(
    timeline: Timeline, pair: SeriesPair, window: Window, *, min_samples: int, floor: float | None = None
) -> Reading | NoReading:
    """Median of every sample (device and hand-entered) in ``window``; cached on the timeline."""

    def compute() -> Reading | NoReading:
        values: list[float] = []
        for series in (pair.device, pair.manual):
            chunk = series.values[series.since(window.start_s) : series.upto(window.end_s)]
            values.extend(v for v in chunk if floor is None or v >= floor)
        if len(values) < min_samples:
            return NoReading(
                f"only {len(values)} {pair.label} readings between {stamp(window.start)} and "
                f"{stamp(window.end)} ({min_samples} needed for a baseline)"
            )
        return Reading(statistics.median(values), window.end, "baseline", len(values))

    key = ("median_between", pair.key, window, min_samples, floor)
    return timeline.memo(key, compute)
