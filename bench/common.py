"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    project_s: float
    baseline_s: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.project_s if self.project_s else float("inf")


def best_of(
    repeats: int, project: Callable[[], object], baseline: Callable[[], object]
) -> tuple[float, float]:
    """Interleave project and baseline runs so both see the same machine noise; keep the best of each."""
    best_project = best_baseline = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        project()
        t1 = time.perf_counter()
        baseline()
        t2 = time.perf_counter()
        best_project = min(best_project, t1 - t0)
        best_baseline = min(best_baseline, t2 - t1)
    return best_project, best_baseline
