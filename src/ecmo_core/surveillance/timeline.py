"""An indexed, read-only view of telemetry, and the ways rules read it.

The timeline is columnar: per parameter and per source kind (device or hand-entered) it holds a NumPy array
of observation times (integer microseconds since the epoch, so window edges are exact), one of values and a
tuple of source names. Build it once (``O(n log n)``: one stable sort per series) and evaluate the rules at as
many moments as you like. Every look-up here is a binary search on the time stamps plus work on the samples
inside one window, so one evaluation costs ``O(R · (log n + w))`` for ``R`` rules and ``w`` samples per
window; a baseline (median over the first hours after a component was installed) is computed once per
component and then cached on the timeline. :mod:`ecmo_core.surveillance.columnar` reads the same arrays for
many moments at once (vectorized windowed medians), which is how a replay stays fast.

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
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ecmo_core.surveillance.model import CHECK, DEVICE, Sample
from ecmo_core.surveillance.parameters import label

T = TypeVar("T")
Micros = NDArray[np.int64]
Floats = NDArray[np.float64]

DELTA_P = "membrane_delta_p_mmhg"
PRE = "pre_oxygenator_pressure_mmhg"
POST = "post_oxygenator_pressure_mmhg"

US = 1_000_000
"""Microseconds per second: times are held as integer microseconds since the epoch."""
NEVER = -(2**62)
"""A time before any sample (``-inf`` as microseconds)."""
FOREVER = 2**62
"""A time after any sample (``+inf`` as microseconds)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """Integer microseconds since the epoch as an aware UTC datetime (exact)."""
    return _EPOCH + timedelta(microseconds=int(value))


def seconds_to_micros(seconds: float) -> int:
    """Seconds since the epoch (``float``, as ``datetime.timestamp()`` gives) as microseconds; ±inf clamp."""
    if seconds == float("-inf"):
        return NEVER
    if seconds == float("inf"):
        return FOREVER
    return round(seconds * US)


def stamp(value: datetime) -> str:
    """A time for messages: ``2025-01-06 04:00 UTC``."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _dt(seconds: float) -> datetime:
    return from_micros(seconds_to_micros(seconds))


class Series:
    """Samples of one parameter from one kind of source (device or hand-entered), sorted by time.

    ``us`` (int64 microseconds) and ``values`` (float64) are NumPy arrays of equal length; ``sources`` the
    source name of each sample, or one name for all of them (a console series is all ``"device"``). Samples
    observed at the same time keep the order they were given in.
    """

    __slots__ = ("sources", "us", "values")

    def __init__(self, us: Micros, values: Floats, sources: Sequence[str] | str) -> None:
        self.us = us
        self.values = values
        self.sources: tuple[str, ...] | str = sources if isinstance(sources, str) else tuple(sources)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, float, str]]) -> Series:
        """A series from ``(microseconds, value, source)`` rows in any order (a stable sort by time)."""
        listed = list(rows)
        us = np.fromiter((row[0] for row in listed), dtype=np.int64, count=len(listed))
        values = np.fromiter((row[1] for row in listed), dtype=np.float64, count=len(listed))
        order = np.argsort(us, kind="stable")
        names = {row[2] for row in listed}
        if len(names) == 1:
            return cls(us[order], values[order], names.pop())
        return cls(us[order], values[order], [listed[i][2] for i in order.tolist()])

    def __len__(self) -> int:
        return len(self.us)

    def at(self, i: int) -> datetime:
        """Observation time of sample ``i``."""
        return from_micros(int(self.us[i]))

    def source(self, i: int) -> str:
        """Source of sample ``i``."""
        return self.sources if isinstance(self.sources, str) else self.sources[i]

    def is_source(self, name: str) -> NDArray[np.bool_]:
        """Where the source is ``name``."""
        if isinstance(self.sources, str):
            return np.full(len(self), self.sources == name)
        return np.fromiter((s == name for s in self.sources), dtype=np.bool_, count=len(self))

    def select(self, keep: NDArray[np.bool_]) -> Series:
        """The samples where ``keep`` holds."""
        if isinstance(self.sources, str):
            return Series(self.us[keep], self.values[keep], self.sources)
        return Series(
            self.us[keep],
            self.values[keep],
            [s for s, k in zip(self.sources, keep.tolist(), strict=True) if k],
        )

    def upto(self, now_us: int) -> int:
        """Number of samples observed at or before ``now_us``."""
        return int(np.searchsorted(self.us, now_us, side="right"))

    def since(self, start_us: int) -> int:
        """Index of the first sample observed at or after ``start_us``."""
        return int(np.searchsorted(self.us, start_us, side="left"))

    def at_least(self, floor: float | None) -> Series:
        """The samples whose value is at or above ``floor`` (all of them when ``floor`` is None)."""
        if floor is None:
            return self
        keep = self.values >= floor
        return self if bool(keep.all()) else self.select(keep)


@dataclass(frozen=True, slots=True)
class SeriesPair:
    """The device and the hand-entered samples of one (possibly derived) parameter, with its plain name."""

    key: str
    label: str
    device: Series
    manual: Series

    def has_between(self, start_s: float, end_s: float) -> bool:
        """True if either kind has a sample in [start_s, end_s]."""
        lo, hi = seconds_to_micros(start_s), seconds_to_micros(end_s)
        return any(s.upto(hi) > s.since(lo) for s in (self.device, self.manual))


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


def _empty() -> Series:
    return Series(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), DEVICE)


_EMPTY = _empty()


class Timeline:
    """Telemetry indexed for repeated evaluation, one columnar :class:`Series` per parameter and source kind.

    Duplicates on ``(parameter, observed_at, source)`` collapse to the last one given (a resent HL7 message
    or a corrected entry), so replaying the same feed twice gives one alert transition, not two.
    """

    def __init__(self, samples: Iterable[Sample]) -> None:
        unique: dict[tuple[str, datetime, str], Sample] = {}
        for sample in samples:
            unique[(sample.parameter, sample.observed_at, sample.source)] = sample
        grouped: dict[tuple[str, bool], list[tuple[int, float, str]]] = {}
        for sample in unique.values():
            grouped.setdefault((sample.parameter, sample.is_device), []).append(
                (micros(sample.observed_at), sample.value, sample.source)
            )
        self._init({key: Series.of(rows) for key, rows in grouped.items()}, len(unique))

    @classmethod
    def from_series(cls, series: dict[tuple[str, bool], Series]) -> Timeline:
        """A timeline from prebuilt series keyed ``(parameter, is_device)`` (sorted, duplicates collapsed)."""
        timeline = cls.__new__(cls)
        timeline._init(dict(series), sum(len(s) for s in series.values()))
        return timeline

    def _init(self, series: dict[tuple[str, bool], Series], count: int) -> None:
        self._series = {key: s for key, s in series.items() if len(s)}
        self._count = count
        self._cache: dict[Hashable, object] = {}
        self._buffers: dict[tuple[str, bool], tuple[Micros, Floats]] = {}

    def extend(self, samples: Iterable[Sample]) -> None:
        """Add samples in place — the live path: a console's new readings, then ``evaluate`` at their time.

        Newer samples are appended into arrays that grow by doubling (amortized ``O(k)`` for ``k`` samples);
        a sample older than its series' newest, or one repeating a (parameter, time, source) already held,
        rebuilds that one series. What depends on the data is forgotten or brought up to date: baselines
        whose window ends before the new samples are kept, the computed ΔP is re-paired only near them.
        """
        grouped: dict[tuple[str, bool], dict[tuple[int, str], float]] = {}
        for sample in samples:
            key = (sample.parameter, sample.is_device)
            grouped.setdefault(key, {})[(micros(sample.observed_at), sample.source)] = sample.value
        if not grouped:
            return
        earliest = min(t for rows in grouped.values() for t, _ in rows)
        for key, rows in grouped.items():
            self._count += self._add(
                key, sorted(((t, v, src) for (t, src), v in rows.items()), key=lambda r: r[0])
            )
        self._forget(earliest)

    def _add(self, key: tuple[str, bool], rows: list[tuple[int, float, str]]) -> int:
        """Add sorted rows to one series; returns how many samples are new (not replacing one held)."""
        old = self._series.get(key)
        if old is None or rows[0][0] > int(old.us[-1]):
            n, k = (0 if old is None else len(old)), len(rows)
            buffers = self._buffers.get(key)  # when present, it holds the current series in [:n]
            if buffers is None or len(buffers[0]) < n + k:
                capacity = max(2 * (n + k), 64)
                buffers = (np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.float64))
                if old is not None:
                    buffers[0][:n], buffers[1][:n] = old.us, old.values
                self._buffers[key] = buffers
            us_buf, val_buf = buffers
            us_buf[n : n + k] = [row[0] for row in rows]
            val_buf[n : n + k] = [row[1] for row in rows]
            names = {row[2] for row in rows}
            if old is not None and isinstance(old.sources, str) and names == {old.sources}:
                sources: Sequence[str] | str = old.sources
            elif old is None and len(names) == 1:
                sources = names.pop()
            else:
                before = [] if old is None else [old.source(i) for i in range(len(old))]
                sources = before + [row[2] for row in rows]
            self._series[key] = Series(us_buf[: n + k], val_buf[: n + k], sources)
            return k
        held = {
            (int(t), old.source(i)): float(v) for i, (t, v) in enumerate(zip(old.us, old.values, strict=True))
        }
        size = len(held)
        held.update({(t, src): v for t, v, src in rows})
        self._series[key] = Series.of((t, v, src) for (t, src), v in held.items())
        self._buffers.pop(key, None)
        return len(held) - size

    def _forget(self, earliest_us: int) -> None:
        """Drop cached results the new samples (from ``earliest_us`` on) may change; re-pair ΔP near them."""
        kept: dict[Hashable, object] = {}
        for key, value in self._cache.items():
            if isinstance(key, tuple) and key[0] == "median_between" and isinstance(key[2], Window):
                if seconds_to_micros(key[2].end_s) < earliest_us:
                    kept[key] = value
            elif isinstance(key, tuple) and key[0] == "computed_delta_p" and isinstance(value, SeriesPair):
                kept[key] = self._repaired(value, float(key[1]), earliest_us)
        self._cache = kept

    def _repaired(self, old: SeriesPair, tolerance_s: float, earliest_us: int) -> SeriesPair:
        """The computed ΔP with only the pre samples near the new ones paired again."""
        tolerance_us = seconds_to_micros(tolerance_s)
        cut = earliest_us - tolerance_us
        pre, post = self.pair(PRE), self.pair(POST)
        kinds = []
        for held, a, b in ((old.device, pre.device, post.device), (old.manual, pre.manual, post.manual)):
            keep = held.select(held.us < cut)
            start = a.since(cut)
            tail = _pair_series(
                Series(
                    a.us[start:],
                    a.values[start:],
                    a.sources if isinstance(a.sources, str) else a.sources[start:],
                ),
                b,
                tolerance_us,
            )
            kinds.append(_concat(keep, tail))
        return SeriesPair(old.key, old.label, kinds[0], kinds[1])

    def __len__(self) -> int:
        """Number of samples kept (after duplicates collapsed)."""
        return self._count

    @property
    def times_us(self) -> Micros:
        """Every distinct observation time in microseconds, sorted (the moments a replay evaluates at)."""

        def compute() -> Micros:
            parts = [s.us for s in self._series.values()]
            if not parts:
                return np.empty(0, dtype=np.int64)
            first = parts[0]
            if all(part is first or np.array_equal(part, first) for part in parts[1:]):
                if bool((first[1:] > first[:-1]).all()):
                    return first  # one console sends all: the moments are its very time array
                return first[np.r_[True, first[1:] != first[:-1]]]
            merged = np.sort(np.concatenate(parts), kind="stable")  # sorted runs: a cheap merge
            return merged[np.r_[True, merged[1:] != merged[:-1]]]

        return self.memo("times_us", compute)

    @property
    def times(self) -> tuple[datetime, ...]:
        """Every distinct observation time, sorted, as datetimes."""
        return self.memo("times", lambda: tuple(from_micros(t) for t in self.times_us.tolist()))

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
        tolerance_us = seconds_to_micros(tolerance_s)
        kinds = [
            _pair_series(a, b, tolerance_us)
            for a, b in ((pre.device, post.device), (pre.manual, post.manual))
        ]
        return SeriesPair(
            f"computed_delta_p@{tolerance_s:g}s", "membrane ΔP (pre − post)", kinds[0], kinds[1]
        )

    def check_us(self) -> Micros:
        """Times of every sample with source ``"check"`` (each documents a circuit check), sorted."""

        def compute() -> Micros:
            found = [s.us[s.is_source(CHECK)] for (_, is_device), s in self._series.items() if not is_device]
            return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)

        return self.memo("check_us", compute)

    def last_check_at(self, now_s: float) -> datetime | None:
        """The newest sample with source ``"check"`` at or before ``now_s`` (it documents a circuit check)."""
        checks = self.check_us()
        i = int(np.searchsorted(checks, seconds_to_micros(now_s), side="right"))
        return from_micros(int(checks[i - 1])) if i else None

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Cache ``compute()`` under ``key`` for the life of the timeline (baselines, derived series)."""
        if key not in self._cache:
            self._cache[key] = compute()
        result: T = self._cache[key]  # type: ignore[assignment]  # stored by this method under this key
        return result


def _concat(first: Series, second: Series) -> Series:
    if isinstance(first.sources, str) and first.sources == second.sources:
        sources: Sequence[str] | str = first.sources
    else:
        sources = [first.source(i) for i in range(len(first))] + [
            second.source(i) for i in range(len(second))
        ]
    return Series(
        np.concatenate([first.us, second.us]), np.concatenate([first.values, second.values]), sources
    )


def _pair_series(pre: Series, post: Series, tolerance_us: int) -> Series:
    """Pre − nearest post (a tie goes to the earlier post), where they are within ``tolerance_us``."""
    if not len(pre) or not len(post):
        return _empty()
    j = np.searchsorted(post.us, pre.us, side="left")
    before = np.clip(j - 1, 0, len(post) - 1)
    after = np.clip(j, 0, len(post) - 1)
    gap_before = np.where(j > 0, np.abs(pre.us - post.us[before]), FOREVER)
    gap_after = np.where(j < len(post), np.abs(post.us[after] - pre.us), FOREVER)
    best = np.where(gap_before <= gap_after, before, after)
    keep = np.minimum(gap_before, gap_after) <= tolerance_us
    kept = pre.select(keep)
    return Series(kept.us, kept.values - post.values[best[keep]], kept.sources)


def _latest_valid(series: Series, now_us: int, cutoff_us: int, floor: float | None) -> int | None:
    """Index of the newest sample in [cutoff_us, now_us] whose value is at or above ``floor``."""
    i = series.upto(now_us) - 1
    lo = series.since(cutoff_us)
    if i < lo:
        return None
    if floor is None:
        return i
    valid = np.flatnonzero(series.values[lo : i + 1] >= floor)
    return lo + int(valid[-1]) if len(valid) else None


def _newest_at(pair: SeriesPair, now_us: int, since_us: int) -> int | None:
    newest = [
        int(s.us[s.upto(now_us) - 1])
        for s in (pair.device, pair.manual)
        if s.upto(now_us) > s.since(since_us)
    ]
    return max(newest) if newest else None


def _missing(pair: SeriesPair, now_us: int, since_s: float | None, what: str) -> NoReading:
    newest = _newest_at(pair, now_us, NEVER if since_s is None else seconds_to_micros(since_s))
    if newest is not None:
        return NoReading(f"the last {pair.label} reading ({stamp(from_micros(newest))}) is {what}")
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
    now = seconds_to_micros(now_s)
    lower = NEVER if since_s is None else seconds_to_micros(since_s)
    device = pair.device
    cutoff = max(now - seconds_to_micros(fresh_s), lower)
    newest = _latest_valid(device, now, cutoff, floor)
    count = 0
    if newest is not None:
        start = device.since(max(now - seconds_to_micros(window_s), lower))
        chunk = device.values[start : newest + 1]
        values = (chunk if floor is None else chunk[chunk >= floor]).tolist()
        count = len(values)
        if count >= min_samples:
            return Reading(statistics.median(values), device.at(newest), DEVICE, count)
    manual = pair.manual
    i = _latest_valid(manual, now, max(now - seconds_to_micros(manual_max_age_s), lower), floor)
    if i is not None:
        return Reading(float(manual.values[i]), manual.at(i), manual.source(i), 1)
    if newest is not None:
        return NoReading(
            f"only {count} usable {pair.label} reading{'' if count == 1 else 's'} "
            f"in the last {window_s / 60:g} min "
            f"({min_samples} needed for a median)"
        )
    if floor is not None and _latest_valid(device, now, cutoff, None) is not None:
        return NoReading(
            f"the recent {pair.label} readings are below {floor:g}: a sensor dropout, not a value"
        )
    return _missing(pair, now, since_s, "stale")


def latest(
    pair: SeriesPair,
    *,
    now_s: float,
    device_max_age_s: float,
    manual_max_age_s: float,
    since_s: float | None = None,
) -> Reading | NoReading:
    """The newest device value while fresh, else the newest hand-entered value within its maximum age."""
    now = seconds_to_micros(now_s)
    lower = NEVER if since_s is None else seconds_to_micros(since_s)
    for series, max_age_s in ((pair.device, device_max_age_s), (pair.manual, manual_max_age_s)):
        i = _latest_valid(series, now, max(now - seconds_to_micros(max_age_s), lower), None)
        if i is not None:
            return Reading(float(series.values[i]), series.at(i), series.source(i), 1)
    return _missing(pair, now, since_s, "too old")


def first_at_or_after(pair: SeriesPair, anchor_us: int) -> int | None:
    """Time of the first sample (device or hand-entered) at or after ``anchor_us``."""
    firsts = [
        int(s.us[s.since(anchor_us)]) for s in (pair.device, pair.manual) if s.since(anchor_us) < len(s)
    ]
    return min(firsts) if firsts else None


def baseline_window(
    pair: SeriesPair, *, anchor_s: float | None, now_s: float, hours: float
) -> Window | NoReading:
    """The first ``hours`` of data at or after ``anchor_s`` (or after the data begin), once they are complete.

    The window starts at the first sample (device or hand-entered) at or after the anchor, so a component
    installed before its telemetry was connected gets its baseline from the first hours of data. While
    ``now`` is inside the window the baseline is still forming (``NoReading``).
    """
    now = seconds_to_micros(now_s)
    first = first_at_or_after(pair, NEVER if anchor_s is None else seconds_to_micros(anchor_s))
    if first is None or first > now:
        return _missing(pair, now, anchor_s, "stale")
    end = first + seconds_to_micros(hours * 3600.0)
    if now < end:
        return NoReading(
            f"the {pair.label} baseline is still forming "
            f"(first {hours:g} h of data, until {stamp(from_micros(end))})"
        )
    return Window(first / US, end / US)


def median_between(
    timeline: Timeline, pair: SeriesPair, window: Window, *, min_samples: int, floor: float | None = None
) -> Reading | NoReading:
    """Median of every sample (device and hand-entered) in ``window``; cached on the timeline."""

    def compute() -> Reading | NoReading:
        lo, hi = seconds_to_micros(window.start_s), seconds_to_micros(window.end_s)
        values: list[float] = []
        for series in (pair.device, pair.manual):
            chunk = series.values[series.since(lo) : series.upto(hi)]
            values.extend((chunk if floor is None else chunk[chunk >= floor]).tolist())
        if len(values) < min_samples:
            return NoReading(
                f"only {len(values)} {pair.label} readings between {stamp(window.start)} and "
                f"{stamp(window.end)} ({min_samples} needed for a baseline)"
            )
        return Reading(statistics.median(values), window.end, "baseline", len(values))

    key = ("median_between", pair.key, window, min_samples, floor)
    return timeline.memo(key, compute)
