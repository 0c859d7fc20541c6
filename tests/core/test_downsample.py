"""Spec checklist — ``ecmo_core.downsample.min_max_buckets`` (trends over any span, core-api §6):

- [x] at most ``points`` points: the min and the max of each of ``points // 2`` equal buckets, in time order
- [x] a flat bucket gives its first and last sample; a one-sample spike survives (a mean would hide it); an empty bucket stays a gap
- [x] no more samples than ``points``: all of them, sorted; samples outside [start, end] and NaN are left out
- [x] bad ``points``, span or lengths → InputError naming the field
"""

from __future__ import annotations

import numpy as np
import pytest

from ecmo_core.downsample import MAX_POINTS, min_max_buckets
from ecmo_core.errors import InputError


def test_it_keeps_each_buckets_min_and_max_in_time_order() -> None:
    # 8 samples over [0, 8), points=4 → 2 buckets: [0, 4) holds 5, 1, 7, 3 (min 1 at t=1, max 7 at t=2);
    # [4, 8] holds 2, 9, 4, 6 (max 9 at t=5, min 2 at t=4).
    times, values = min_max_buckets(range(8), [5, 1, 7, 3, 2, 9, 4, 6], start=0, end=8, points=4)
    assert times.tolist() == [1, 2, 4, 5] and values.tolist() == [1, 7, 2, 9]


def test_it_keeps_a_one_sample_spike_and_leaves_gaps_empty() -> None:
    t = np.arange(100_000, dtype=np.float64)
    v = np.full(t.size, -60.0)
    v[31_337] = -180.0  # one reading of a chatter episode
    v[60_000:70_000] = np.nan  # a gap: a disconnected console
    times, values = min_max_buckets(t, v, start=0, end=100_000, points=200)
    assert len(times) <= 200 and values.min() == -180.0 and 31_337 in times.tolist()
    assert not ((times > 60_000) & (times < 70_000)).any()
    assert (np.diff(times) > 0).all()


def test_it_returns_few_samples_as_they_are() -> None:
    times, values = min_max_buckets(
        [3, 1, 2, 9, float("nan")], [30, 10, 20, 90, 1], start=0, end=5, points=10
    )
    assert times.tolist() == [1, 2, 3] and values.tolist() == [10, 20, 30]


def test_it_gives_a_flat_bucket_as_its_first_and_last_sample() -> None:
    times, values = min_max_buckets([0, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1], start=0, end=6, points=2)
    assert times.tolist() == [0, 5] and values.tolist() == [1, 1]
    one, _ = min_max_buckets([0, 1, 2, 3, 4], [1, 2, 3, 4, 5], start=0, end=10, points=4)
    assert one.tolist() == [0, 4]  # bucket [0, 5) min 1 at 0, max 5 at 4; bucket [5, 10] is empty


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"points": 1}, "points"),
        ({"points": MAX_POINTS + 1}, "points"),
        ({"points": True}, "points"),
        ({"points": 2.5}, "points"),
        ({"start": 5.0, "end": 5.0}, "start"),
        ({"end": float("inf")}, "start"),
        ({"values": [1.0]}, "values"),
    ],
)
def test_it_names_the_bad_argument(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "times": [0.0, 1.0],
        "values": [1.0, 2.0],
        "start": 0.0,
        "end": 2.0,
        "points": 10,
    }
    arguments.update(kwargs)
    with pytest.raises(InputError) as error:
        min_max_buckets(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field
