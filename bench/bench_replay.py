"""``ecmo replay`` of a run at 1 Hz × 12 parameters, beside Polars computing the same rolling statistics.

Both run as separate processes (``ecmo replay FILE`` and ``python -m bench.replay_baseline FILE``) so each one's
peak resident memory can be read from the kernel, interleaved, on the same CSV. Sizes: a day, three days and a
week (the goal: ≤ 2× the baseline, peak RSS < 500 MB), and a month once (goal: < 60 s). The CSV has real
transitions (ΔP rise, access chatter, a gas-supply dip): see bench/telemetry.py.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import Result, run_measured
from bench.telemetry import write_csv

ECMO = str(Path(sys.executable).parent / "ecmo")


def measure(days: float, repeats: int) -> Result:
    folder = Path(tempfile.mkdtemp(prefix="ecmo-bench-replay-"))
    path = folder / f"run-{days:g}d.csv"
    rows = write_csv(path, days=days)
    project: list[float] = []
    baseline: list[float] = []
    project_rss: list[int] = []
    baseline_rss: list[int] = []
    for _ in range(repeats):
        seconds, rss = run_measured([ECMO, "replay", str(path), "--json"])
        project.append(seconds)
        project_rss.append(rss)
        seconds, rss = run_measured([sys.executable, "-m", "bench.replay_baseline", str(path)])
        baseline.append(seconds)
        baseline_rss.append(rss)
    path.unlink()
    return Result(
        f"ecmo replay, {days:g} day(s) at 1 Hz × 12 parameters",
        project,
        baseline,
        note=f"{rows * 12:,} samples; peak RSS {max(project_rss)} MB (baseline {max(baseline_rss)} MB)",
        goal="≤ 2× the Polars floor, peak RSS < 500 MB (week); < 60 s (month)",
        figures={
            "days": days,
            "samples": rows * 12,
            "project_peak_rss_mb": max(project_rss),
            "baseline_peak_rss_mb": max(baseline_rss),
            "project_samples_per_s": round(rows * 12 / statistics.median(project)),
        },
    )


def run(quick: bool = False) -> list[Result]:
    if quick:
        return [measure(1, 1)]
    return [measure(1, 3), measure(3, 3), measure(7, 3), measure(30, 1)]
