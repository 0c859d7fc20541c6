"""The replay benchmark's baseline: Polars rolling expressions computing the same rolling statistics.

``python -m bench.replay_baseline FILE.csv`` reads the wide CSV with Polars (times parsed), then computes every
windowed statistic the rules judge along the run: the 10-minute rolling median and count of access pressure,
post-oxygenator PO2, pre- and post-oxygenator SO2, membrane ΔP (pre − post), blood flow above its dropout floor
and pump speed above 0 — at every sample time, in one lazy query. No rule logic, no messages: the vectorized
floor a replay cannot beat, since it must compute at least these.
"""

from __future__ import annotations

import sys

import polars as pl

WINDOW = "10m"
WINDOWED = {
    "access_pressure_mmhg": None,
    "post_oxygenator_po2_mmhg": None,
    "pre_oxygenator_so2": None,
    "post_oxygenator_so2": None,
    "blood_flow_l_min": 0.1,
    "pump_speed_rpm": 1.0,
}


def rolling_statistics(path: str) -> pl.DataFrame:
    frame = pl.scan_csv(path).with_columns(
        pl.col("observed_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC")
    )
    frame = frame.with_columns(
        (pl.col("pre_oxygenator_pressure_mmhg") - pl.col("post_oxygenator_pressure_mmhg")).alias("delta_p")
    ).sort("observed_at")
    expressions = []
    for code, floor in {**WINDOWED, "delta_p": None}.items():
        column = pl.col(code) if floor is None else pl.when(pl.col(code) >= floor).then(pl.col(code))
        median = column.rolling_quantile_by(
            "observed_at", window_size=WINDOW, quantile=0.5, interpolation="midpoint", closed="both"
        )
        count = (
            column.is_not_null()
            .cast(pl.Int32)
            .rolling_sum_by("observed_at", window_size=WINDOW, closed="both")
        )
        expressions += [median.alias(f"{code}_median"), count.alias(f"{code}_count")]
    return frame.select("observed_at", *expressions).collect()


if __name__ == "__main__":
    result = rolling_statistics(sys.argv[1])
    print(result.height, file=sys.stderr)
