"""Component-life planning: when will the membrane ΔP reach the rule's threshold at its current trend?

``project_delta_p_crossing`` fits an ordinary least-squares line to the ΔP readings of a recent window and
returns when that line reaches ``baseline × (1 + rise_fraction)`` — the ``oxygenator.delta_p_rise`` threshold
(+50 % by default). It is a planning aid for an elective change ("at this rate, about Thursday 06:00"), not an
alert: ΔP often rises in steps, and a straight line over a day says nothing about the next sudden clot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from ecmo_core import validate
from ecmo_core.errors import InputError
from ecmo_core.surveillance.engine import timeline_of
from ecmo_core.surveillance.model import Sample, utc
from ecmo_core.surveillance.timeline import DELTA_P, Timeline, from_micros, seconds_to_micros


def delta_p_points(
    samples: Iterable[Sample] | Timeline,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    pairing_tolerance_s: float = 30.0,
) -> list[tuple[datetime, float]]:
    """Membrane ΔP readings ``(observed_at, mmHg)`` in ``[since, until]``, sorted, all sources.

    As in the rule: the console-reported ``membrane_delta_p_mmhg`` if there is any in the interval,
    otherwise pre − post from pairs within ``pairing_tolerance_s``.
    """
    timeline = timeline_of(samples)
    lo = float("-inf") if since is None else utc("since", since).timestamp()
    hi = float("inf") if until is None else utc("until", until).timestamp()
    tolerance = validate.number("pairing_tolerance_s", pairing_tolerance_s, minimum=0, maximum=300, unit="s")
    reported = timeline.pair(DELTA_P)
    pair = reported if reported.has_between(lo, hi) else timeline.computed_delta_p(tolerance)
    lo_us, hi_us = seconds_to_micros(lo), seconds_to_micros(hi)
    points = [
        (from_micros(t), value)
        for series in (pair.device, pair.manual)
        for t, value in zip(series.us.tolist(), series.values.tolist(), strict=True)
        if lo_us <= t <= hi_us
    ]
    return sorted(points)


def project_delta_p_crossing(
    points: Iterable[tuple[datetime, float]],
    *,
    now: datetime,
    baseline_mmhg: float,
    rise_fraction: float = 0.5,
    window: timedelta = timedelta(hours=24),
    horizon: timedelta = timedelta(days=30),
    min_points: int = 3,
) -> datetime | None:
    """Estimate when the ΔP trend reaches ``baseline_mmhg × (1 + rise_fraction)``.

    Parameters
    ----------
    points : ``(observed_at, ΔP mmHg)`` readings (e.g. from :func:`delta_p_points`); those in
        ``[now − window, now]`` are used.
    now : aware datetime.
    baseline_mmhg : the rule's baseline ΔP (``evidence["baseline_delta_p_mmhg"]`` of its finding), > 0.
    rise_fraction : the rule's threshold above baseline (default 0.5 = +50 %), 0–5.
    window : how far back the trend is fitted (default 24 h).
    horizon : estimates further ahead than this are not returned (default 30 days).
    min_points : fewest readings to fit a line (≥ 2, default 3).

    Returns
    -------
    The estimated time; ``now`` if the fitted line is already at or above the threshold; ``None`` if
    there are too few readings, the line is flat or falling (ΔP not rising), or the crossing lies beyond
    ``horizon``.
    """
    moment = utc("now", now)
    baseline = validate.number("baseline_mmhg", baseline_mmhg, minimum=0, min_exclusive=True, unit="mmHg")
    rise = validate.number("rise_fraction", rise_fraction, minimum=0, maximum=5, min_exclusive=True)
    count = validate.integer("min_points", min_points, minimum=2)
    for name, span in (("window", window), ("horizon", horizon)):
        if not isinstance(span, timedelta) or span <= timedelta(0):
            raise InputError(name, f"must be a positive timedelta, got {span!r}")
    xs: list[float] = []
    ys: list[float] = []
    for i, point in enumerate(points):
        if not isinstance(point, tuple) or len(point) != 2:
            raise InputError(f"points[{i}]", f"must be a pair (observed_at, ΔP mmHg), got {point!r}")
        x = (utc(f"points[{i}]", point[0]) - moment).total_seconds()
        y = validate.number(f"points[{i}]", point[1], minimum=-50, maximum=500, unit="mmHg")
        if -window.total_seconds() <= x <= 0.0:
            xs.append(x)
            ys.append(y)
    if len(xs) < count:
        return None
    x_mean = math.fsum(xs) / len(xs)
    y_mean = math.fsum(ys) / len(ys)
    sxx = math.fsum((x - x_mean) ** 2 for x in xs)
    if sxx == 0.0:
        return None  # all readings at one instant: no trend
    slope = math.fsum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / sxx
    if slope <= 0.0:
        return None
    threshold = baseline * (1.0 + rise)
    fitted_now = y_mean - slope * x_mean
    if fitted_now >= threshold:
        return moment
    seconds = (threshold - fitted_now) / slope
    if seconds > horizon.total_seconds():
        return None
    return moment + timedelta(seconds=seconds)
