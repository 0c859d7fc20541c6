"""Synthetic console telemetry for the benchmarks: 12 parameters at 1 Hz, written as a wide CSV.

A V-V run with noise, an access-pressure chatter episode, a slow membrane ΔP rise (the oxygenator rule fires
on day 3 of a week) and a post-oxygenator PO2 dip, so a replay has real transitions to find. Values are
generated with NumPy and written by Polars in chunks of a day, so a run-month costs little memory to make.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

START = datetime(2026, 1, 1, tzinfo=UTC)
PARAMETERS = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "post_oxygenator_po2_mmhg",
    "pre_oxygenator_so2",
    "post_oxygenator_so2",
    "blood_temperature_c",
    "bubble_detected",
)
DAY_S = 86_400


def day(index: int, days: int, hz: float = 1.0, seed: int = 7) -> pl.DataFrame:
    """One day of telemetry (``index`` 0-based of ``days``) as a frame: observed_at (µs) plus 12 columns."""
    rng = np.random.default_rng(seed + index)
    n = int(DAY_S * hz)
    t = np.arange(n) / hz + index * DAY_S
    progress = t / (days * DAY_S)  # 0 → 1 over the run
    noise = rng.standard_normal((len(PARAMETERS), n))
    pre = 250 + 3 * noise[3] + 120 * np.clip((progress - 0.3) / 0.4, 0, 1)  # ΔP rises in the middle
    access = -60 + 4 * noise[2] - 70 * ((t % 7200) < 900) * (progress > 0.5)  # chatter episodes
    po2 = 480 + 10 * noise[7] - 380 * ((t % 43200) < 1800) * (progress > 0.8)  # a gas-supply dip
    columns = {
        "blood_flow_l_min": 4.8 + 0.05 * noise[0],
        "pump_speed_rpm": 3400 + 10 * noise[1],
        "access_pressure_mmhg": access,
        "pre_oxygenator_pressure_mmhg": pre,
        "post_oxygenator_pressure_mmhg": 234 + 3 * noise[4],
        "sweep_gas_l_min": np.full(n, 3.0),
        "fdo2": np.full(n, 1.0),
        "post_oxygenator_po2_mmhg": np.clip(po2, 30, 700),
        "pre_oxygenator_so2": np.clip(0.72 + 0.01 * noise[8], 0, 1),
        "post_oxygenator_so2": np.clip(0.995 + 0.002 * noise[9], 0, 1),
        "blood_temperature_c": 36.8 + 0.05 * noise[10],
        "bubble_detected": np.zeros(n),
    }
    us = int(START.timestamp()) * 1_000_000 + np.round(t * 1_000_000).astype(np.int64)
    return pl.DataFrame({"observed_at": us, **{k: np.round(v, 3) for k, v in columns.items()}})


def write_csv(path: Path, *, days: float, hz: float = 1.0) -> int:
    """Write ``days`` of telemetry to ``path`` as a wide CSV (ISO 8601 ``Z`` times); returns the row count."""
    rows = 0
    whole = max(1, round(days)) if days >= 1 else 1
    with path.open("w", encoding="utf-8") as handle:
        for index in range(whole):
            frame = day(index, whole, hz)
            if days < 1:
                frame = frame.head(int(DAY_S * hz * days))
            frame = frame.with_columns(
                pl.from_epoch("observed_at", time_unit="us")
                .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                .alias("observed_at")
            )
            handle.write(frame.write_csv(include_header=index == 0))
            rows += frame.height
    return rows
