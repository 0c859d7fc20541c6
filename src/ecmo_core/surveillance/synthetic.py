"""Builders for synthetic telemetry: tests, the demo seed and benchmarks describe timelines in a few lines.

>>> from datetime import UTC, datetime, timedelta
>>> start = datetime(2025, 1, 1, 10, tzinfo=UTC)
>>> len(steady("blood_flow_l_min", 4.8, start=start, end=start + timedelta(hours=1)))
61
>>> [s.value for s in series("access_pressure_mmhg", [-60, None, -300, -61], start=start)]
[-60.0, -300.0, -61.0]

Every sample is validated as usual (aware times, known codes, plausible values). Synthetic data only: real
patient data never belongs in tests or the demo.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ecmo_core.errors import InputError
from ecmo_core.surveillance.model import DEVICE, Sample


def _every(every: timedelta) -> timedelta:
    if not isinstance(every, timedelta) or every <= timedelta(0):
        raise InputError("every", f"must be a positive timedelta, got {every!r}")
    return every


def series(
    parameter: str,
    values: Iterable[float | None],
    *,
    start: datetime,
    every: timedelta = timedelta(minutes=1),
    source: str = DEVICE,
) -> list[Sample]:
    """One sample per value, ``every`` apart from ``start``; ``None`` leaves that slot empty (a gap)."""
    step = _every(every)
    return [
        Sample(start + i * step, parameter, value, source)
        for i, value in enumerate(values)
        if value is not None
    ]


def steady(
    parameter: str,
    value: float,
    *,
    start: datetime,
    end: datetime,
    every: timedelta = timedelta(minutes=1),
    source: str = DEVICE,
) -> list[Sample]:
    """The same value every ``every`` from ``start`` to ``end`` inclusive (empty if ``end`` < ``start``)."""
    step = _every(every)
    count = int((end - start) / step) + 1 if end >= start else 0
    return [Sample(start + i * step, parameter, value, source) for i in range(count)]
